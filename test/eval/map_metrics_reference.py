"""NumPy reimplementation of gradsight's map metrics (src/eval/metrics/), the oracle of
test/eval/metrics-reference.test.ts. Reads a JSON list of cases on stdin, writes one JSON result per
case plus the dataset-level numbers on stdout. Written from the papers' definitions (docs/metrics.md),
not from the TypeScript: connected segments by breadth-first search, distances by brute force over the
mask's coordinates, confusion matrices by np.bincount.

Case: width, height, classes (index -> name, 0 = background), void, mask (class index per pixel),
boxes [{label, box: [x0, y0, x1, y1] inclusive}], labels (classes present), predictions [{label|null,
map}] in rank order, class_maps [{cls, map}], tolerance, relative [left, top, right, bottom].
"""

import json
import sys
from collections import deque

import numpy as np

SWEEP = [(i + 1) / 20 for i in range(19)]
DELTAS = [0.0, 0.25, 0.5]


def largest_segment_box(m, fraction):
    """Box (x0, y0, x1, y1) of the largest 8-connected segment of m >= fraction * max(m)."""
    mx = m.max()
    if not mx > 0:
        return None
    above = m >= fraction * mx
    h, w = m.shape
    seen = np.zeros_like(above)
    best = None
    for y in range(h):
        for x in range(w):
            if not above[y, x] or seen[y, x]:
                continue
            q = deque([(y, x)])
            seen[y, x] = True
            pix = []
            while q:
                cy, cx = q.popleft()
                pix.append((cy, cx))
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        ny, nx = cy + dy, cx + dx
                        if 0 <= ny < h and 0 <= nx < w and above[ny, nx] and not seen[ny, nx]:
                            seen[ny, nx] = True
                            q.append((ny, nx))
            if best is None or len(pix) > len(best):  # ties: the segment met first in row-major order
                best = pix
    ys = [p[0] for p in best]
    xs = [p[1] for p in best]
    return (min(xs), min(ys), max(xs), max(ys))


def iou(a, b):
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    inter = ix * iy
    return inter / (area(a) + area(b) - inter)


def box_mask(boxes, w, h):
    m = np.zeros((h, w), dtype=bool)
    for b in boxes:
        m[max(0, b[1]) : min(h - 1, b[3]) + 1, max(0, b[0]) : min(w - 1, b[2]) + 1] = True
    return m


def localized_at(labels, box_of, truth_labels, boxes):
    """1-based rank of the first correct class whose box has IoU >= 0.5 with a box of that class."""
    for r, label in enumerate(labels):
        if label is None or label not in truth_labels:
            continue
        b = box_of(r)
        if b is None:
            continue
        if max(iou(b, g["box"]) for g in boxes if g["label"] == label) >= 0.5:
            return r + 1
    return None


def pointing(m, region, tol):
    flat = m.ravel()
    if flat.max() == flat.min():
        return {"hit": False, "distance": None}
    y, x = divmod(int(np.argmax(flat)), m.shape[1])
    ys, xs = np.nonzero(region)
    d = float(np.sqrt(((xs - x) ** 2 + (ys - y) ** 2).min()))
    return {"hit": d <= tol, "distance": d}


def energy(m, region):
    p = np.maximum(m, 0)
    t = p.sum()
    return float(p[region].sum() / t) if t > 0 else 0.0


def loc_delta(m, region, delta):
    p = np.maximum(m, 0)
    if not p.max() > 0:
        return 0.0
    n = p / p.max()
    kept = np.where(n >= delta, n, 0.0)
    t = kept.sum()
    return float(kept[region].sum() / t) if t > 0 else 0.0


def seed_labels(class_maps, w, h, fraction):
    """Background unless some class's max-normalised map reaches the threshold; then the highest one."""
    scores = np.full((len(class_maps) + 1, h, w), -np.inf)
    scores[0] = np.nextafter(fraction, -np.inf)  # background loses every tie with a class at the threshold
    ids = [0]
    for i, cm in enumerate(class_maps):
        m = np.asarray(cm["map"], dtype=np.float64).reshape(h, w)
        ids.append(cm["cls"])
        if m.max() > 0:
            n = m / m.max()
            scores[i + 1] = np.where(n >= fraction, n, -np.inf)
    # argmax takes the first of equal scores: the first class in the list, as documented.
    return np.asarray(ids)[np.argmax(scores, axis=0)]


def confusion(pred, gt, void, n):
    keep = gt != void
    return np.bincount(gt[keep] * n + pred[keep], minlength=n * n).reshape(n, n)


def miou(c, background):
    tp = np.diag(c).astype(np.float64)
    union = c.sum(0) + c.sum(1) - tp
    ious = np.where(union > 0, tp / np.maximum(union, 1), np.nan)
    if not background:
        ious = ious[1:]
    return float(np.nanmean(ious))


def discrimination(m, own, others):
    p = np.maximum(m, 0)
    t = p.sum()
    a = float(p[own & ~others].sum())
    b = float(p[others & ~own].sum())
    share = a / (a + b) if a + b > 0 else None
    return {"own": a / t if t > 0 else 0.0, "others": b / t if t > 0 else 0.0, "ownShare": share}


def main():
    cases = json.load(sys.stdin)
    out = []
    n_classes = len(cases[0]["classes"])
    total = np.zeros((n_classes, n_classes), dtype=np.int64)
    loc_top = {1: 0, 3: 0}
    for c in cases:
        w, h = c["width"], c["height"]
        gt = np.asarray(c["mask"], dtype=np.int64).reshape(h, w)
        preds = [(p["label"], np.asarray(p["map"], dtype=np.float64).reshape(h, w)) for p in c["predictions"]]
        labels = [p[0] for p in preds]
        boxes = c["boxes"]
        truth = c["labels"]
        res = {}
        res["localizedAt"] = localized_at(labels, lambda r: largest_segment_box(preds[r][1], 0.15), truth, boxes)
        res["sweep"] = [
            localized_at(labels, lambda r, f=f: largest_segment_box(preds[r][1], f), truth, boxes) for f in SWEEP
        ]
        res["ious"] = [
            (
                max(iou(largest_segment_box(m, 0.15), g["box"]) for g in boxes if g["label"] == lab)
                if lab in truth and largest_segment_box(m, 0.15) is not None
                else 0.0
            )
            for lab, m in preds
        ]
        cw = int(np.floor(0.5 * w + 0.5))
        ch = int(np.floor(0.5 * h + 0.5))
        centre = ((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw - 1, (h - ch) // 2 + ch - 1)
        res["centreAt"] = localized_at(labels, lambda r: centre, truth, boxes)
        res["fullAt"] = localized_at(labels, lambda r: (0, 0, w - 1, h - 1), truth, boxes)
        for k in loc_top:
            loc_top[k] += res["localizedAt"] is not None and res["localizedAt"] <= k
        # The first prediction's map explains the first class of `labels`.
        m = preds[0][1]
        cls_name = truth[0]
        cls = c["classes"].index(cls_name)
        in_box = box_mask([g["box"] for g in boxes if g["label"] == cls_name], w, h)
        in_mask = gt == cls
        tol = c["tolerance"]
        res["pointingBox"] = pointing(m, in_box, tol)
        res["pointingMask"] = pointing(m, in_mask, tol)
        res["energyBox"] = energy(m, in_box)
        res["energyMask"] = energy(m, in_mask)
        res["locDelta"] = [loc_delta(m, in_box, d) for d in DELTAS]
        # Void pixels left out: the metrics over the non-void pixels only.
        keep = gt != c["void"]
        res["energyMaskVoid"] = energy(m[keep], in_mask[keep])
        res["locDeltaMaskVoid"] = [loc_delta(m[keep], in_mask[keep], d) for d in DELTAS]
        other_box = box_mask([g["box"] for g in boxes if g["label"] != cls_name], w, h)
        other_mask = (gt != cls) & (gt != 0) & (gt != c["void"])
        res["discriminationBox"] = discrimination(m, in_box, other_box)
        res["discriminationMask"] = discrimination(m, in_mask, other_mask)
        ious = []
        for cm in c["class_maps"]:
            mm = np.asarray(cm["map"], dtype=np.float64).reshape(h, w)
            seed = (mm / mm.max() >= 0.2) if mm.max() > 0 else np.zeros_like(mm, dtype=bool)
            keep = gt != c["void"]
            t = gt == cm["cls"]
            inter = (seed & t & keep).sum()
            union = ((seed | t) & keep).sum()
            ious.append(float(inter / union) if union > 0 else None)
        res["seedIoU"] = ious
        conf = confusion(seed_labels(c["class_maps"], w, h, 0.2), gt, c["void"], n_classes)
        total += conf
        res["confusion"] = conf.ravel().tolist()
        res["confusion50"] = confusion(seed_labels(c["class_maps"], w, h, 0.5), gt, c["void"], n_classes).ravel().tolist()
        l, t_, r_, b_ = c["relative"]
        xs = np.arange(w) + 0.5
        ys = np.arange(h) + 0.5
        rel = ((ys[:, None] >= t_ * h) & (ys[:, None] <= b_ * h)) & ((xs[None, :] >= l * w) & (xs[None, :] <= r_ * w))
        res["biasRelative"] = {"share": energy(m, rel), "area": float(rel.mean())}
        res["biasBox"] = {"share": energy(m, in_box), "area": float(in_box.mean())}
        out.append(res)
    dataset = {
        "mIoU": miou(total, True),
        "mIoUForeground": miou(total, False),
        "locError1": 1 - loc_top[1] / len(cases),
        "locError3": 1 - loc_top[3] / len(cases),
    }
    json.dump({"cases": out, "dataset": dataset}, sys.stdout)


if __name__ == "__main__":
    main()
