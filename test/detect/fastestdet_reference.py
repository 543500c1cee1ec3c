"""Independent decode of FastestDet grids in NumPy (the authors' formulas, vectorised), with per-class
greedy NMS, for test/detect/fastestdet-real.test.ts.

usage: python3 fastestdet_reference.py SCORE IOU HEIGHT WIDTH grid.npy...  → JSON on stdout:
one list per file of [class, score, x0, y0, x1, y1] in input pixels, best score first.
"""

import json
import sys

import numpy as np


def decode(grid, score_thr, height, width):
    p = grid[0].astype(np.float64)  # [85, H, W]
    _, gh, gw = p.shape
    obj = p[0]
    cls = p[5:]
    best = cls.argmax(axis=0)
    score = obj**0.6 * cls.max(axis=0) ** 0.4
    hs, ws = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
    cx = (ws + np.tanh(p[1])) / gw
    cy = (hs + np.tanh(p[2])) / gh
    bw = 1 / (1 + np.exp(-p[3]))
    bh = 1 / (1 + np.exp(-p[4]))
    boxes = np.stack([(cx - bw / 2) * width, (cy - bh / 2) * height, (cx + bw / 2) * width, (cy + bh / 2) * height], -1)
    keep = score >= score_thr
    return best[keep], score[keep], boxes[keep]


def iou(a, b):
    w = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    h = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = w * h
    area = lambda r: (r[..., 2] - r[..., 0]) * (r[..., 3] - r[..., 1])
    return inter / (area(a) + area(b) - inter)


def nms(classes, scores, boxes, thr):
    order = np.argsort(-scores, kind="stable")
    kept = []
    for i in order:
        same = [k for k in kept if classes[k] == classes[i]]
        if not same or iou(boxes[i], boxes[same]).max() <= thr:
            kept.append(i)
    return kept


def main():
    score_thr, iou_thr, height, width = map(float, sys.argv[1:5])
    out = []
    for path in sys.argv[5:]:
        c, s, b = decode(np.load(path), score_thr, height, width)
        out.append([[int(c[i]), float(s[i]), *map(float, b[i])] for i in nms(c, s, b, iou_thr)])
    json.dump(out, sys.stdout)


main()
