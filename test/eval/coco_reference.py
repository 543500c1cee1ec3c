"""Independent oracle for gradsight's COCO rasterising (src/eval/datasets/coco-raster.ts).

Writes JSON to stdout: seeded random cases and the masks NumPy/PIL compute for them.
- RLE: random blob masks; their run lengths (column-major, starting with background) and the compressed
  string, encoded here per COCO's documented format (a port of pycocotools' rleToString, the encoder:
  gradsight implements the decoder). The expected mask is the blob mask itself.
- Polygons: random float polygons; `centre` = pixel centres (x + 0.5, y + 0.5) inside by the even-odd
  crossing test (NumPy, vectorised); `pil` = PIL ImageDraw.polygon on coordinates shifted by -0.5 (PIL's
  pixel centres are integers); `band` = pixels whose centre lies within 2 px of the outline, where PIL
  and the centre rule may disagree: PIL also draws each edge as a 1-px line between vertices rounded to
  whole pixels, which on steep edges and at acute vertices reaches pixels up to ~2 px outside (measured on
  these cases: 1.9 px at most). The strict check is `centre`, which must match exactly.
Usage: python3 coco_reference.py > out.json
"""
import json
import sys

import numpy as np
from PIL import Image, ImageDraw


def rle_counts(mask):
    flat = mask.T.ravel()  # column-major: down each column, then the next
    counts, last, run = [], 0, 0
    for v in flat:
        if v != last:
            counts.append(run)
            run, last = 0, v
        run += 1
    counts.append(run)
    return counts


def rle_string(counts):
    s = []
    for i, x in enumerate(counts):
        if i > 2:
            x -= counts[i - 2]
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            s.append(chr(c + 48))
    return "".join(s)


def blobs(rng, h, w, n):
    yy, xx = np.mgrid[0:h, 0:w]
    m = np.zeros((h, w), np.uint8)
    for _ in range(n):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        ry, rx = rng.uniform(2, h / 2), rng.uniform(2, w / 2)
        m |= (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1).astype(np.uint8)
    return m


def centre_inside(poly, h, w):
    py, px = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    inside = np.zeros((h, w), bool)
    pts = np.asarray(poly, np.float64).reshape(-1, 2)
    for i in range(len(pts)):
        (ax, ay), (bx, by) = pts[i], pts[(i + 1) % len(pts)]
        cross = (ay > py) != (by > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xint = ax + (py - ay) * (bx - ax) / (by - ay)
        inside ^= cross & (px < xint)
    return inside.astype(np.uint8)


def near_outline(poly, h, w, dist=2.0):
    py, px = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    pts = np.asarray(poly, np.float64).reshape(-1, 2)
    best = np.full((h, w), np.inf)
    for i in range(len(pts)):
        a, b = pts[i], pts[(i + 1) % len(pts)]
        d = b - a
        t = np.clip(((px - a[0]) * d[0] + (py - a[1]) * d[1]) / max(d @ d, 1e-12), 0, 1)
        best = np.minimum(best, np.hypot(px - (a[0] + t * d[0]), py - (a[1] + t * d[1])))
    return (best <= dist).astype(np.uint8)


def bits(m):
    return "".join(map(str, m.ravel().tolist()))  # row-major


def main():
    rng = np.random.default_rng(12)
    rle = []
    for h, w, n in [(37, 23, 3), (23, 37, 4), (300, 400, 2), (64, 48, 6)]:
        m = blobs(rng, h, w, n)
        c = rle_counts(m)
        rle.append({"height": h, "width": w, "counts": c, "string": rle_string(c), "mask": bits(m)})
    for h, w, m in [(5, 4, np.zeros((5, 4), np.uint8)), (5, 4, np.ones((5, 4), np.uint8))]:
        c = rle_counts(m)
        rle.append({"height": h, "width": w, "counts": c, "string": rle_string(c), "mask": bits(m)})
    polys = []
    for k in range(8):
        h, w = int(rng.integers(20, 60)), int(rng.integers(20, 60))
        n = int(rng.integers(3, 9))
        # A star-shaped polygon (angles sorted), sometimes reaching past the image's edge.
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        r = rng.uniform(3, 0.7 * min(h, w), n)
        cx, cy = rng.uniform(0.2 * w, 0.8 * w), rng.uniform(0.2 * h, 0.8 * h)
        poly = np.stack([cx + r * np.cos(ang), cy + r * np.sin(ang)], 1).ravel().tolist()
        img = Image.new("L", (w, h), 0)
        ImageDraw.Draw(img).polygon([(x - 0.5, y - 0.5) for x, y in zip(poly[::2], poly[1::2])], fill=1)
        polys.append({
            "height": h, "width": w, "polygon": poly,
            "centre": bits(centre_inside(poly, h, w)),
            "pil": bits(np.asarray(img, np.uint8)),
            "band": bits(near_outline(poly, h, w)),
        })
    json.dump({"rle": rle, "polygons": polys}, sys.stdout)


if __name__ == "__main__":
    main()
