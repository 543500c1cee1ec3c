# NumPy oracle for src/eval/stats.ts: the same mulberry32 draws, np.percentile (linear), np.std(ddof=1).
# Usage: python3 stats-oracle.py '<json {"values": [...], "resamples": B, "seed": s}>' -> json summary.
import json
import sys

import numpy as np

M32 = 0xFFFFFFFF


def imul(a, b):
    r = (a * b) & M32
    return r - (1 << 32) if r & 0x80000000 else r


def mulberry32(seed):
    a = seed & M32
    while True:
        a = (a + 0x6D2B79F5) & M32
        t = imul(a ^ (a >> 15), 1 | a) & M32
        t = ((t + imul(t ^ (t >> 7), 61 | t)) & M32) ^ t
        yield ((t ^ (t >> 14)) & M32) / 4294967296


args = json.loads(sys.argv[1])
x = np.array(args["values"], dtype=np.float64)
n = len(x)
rng = mulberry32(args["seed"])
means = np.empty(args["resamples"])
for b in range(args["resamples"]):
    idx = [int(np.floor(next(rng) * n)) for _ in range(n)]
    means[b] = x[idx].sum() / n
std = float(np.std(x, ddof=1))
z = 1.959963984540054
print(json.dumps({
    "mean": float(x.mean()),
    "std": std,
    "bootstrap": [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))],
    "normal": [float(x.mean() - z * std / np.sqrt(n)), float(x.mean() + z * std / np.sqrt(n))],
}))
