#!/usr/bin/python3
"""numpy oracle for the sign of Eigen-CAM's first component (src/methods/eigen-sign.ts).

Makes feature maps with the same seeded generator as test/methods/eigen-sign.test.ts (mulberry32) and
projects them as pytorch-grad-cam's get_2d_projection does: float32 activations, centred in float32,
np.linalg.svd (numpy computes in float64 with LAPACK dgesdd), projection on VT[0].

    /usr/bin/python3 scripts/eigen-sign-oracle.py OUT_DIR CASES_JSON

CASES_JSON lists {"h", "w", "c", "kind", "seed"}; OUT_DIR gets <i>.npy (the [C, h, w] map), <i>-vt0.npy
(VT[0], float64), <i>-proj.npy (the projection, [h, w] float32) and <i>-gap.npy (σ1/σ2), so the test also checks its own
generator against this one.
"""

import json
import sys
from pathlib import Path

import numpy as np

M32 = 0xFFFFFFFF


def mulberry32(seed):
    a = seed & M32

    def next_uniform():
        nonlocal a
        a = (a + 0x6D2B79F5) & M32
        t = ((a ^ (a >> 15)) * (1 | a)) & M32
        t = ((t + (((t ^ (t >> 7)) * (61 | t)) & M32)) & M32) ^ t
        return ((t ^ (t >> 14)) & M32) / 4294967296

    return next_uniform


def feature_map(h, w, c, kind, seed):
    """[C, h, w] float32, drawn position-major exactly as the TypeScript generator."""
    rand = mulberry32(seed)
    u = lambda: rand() * 2 - 1  # noqa: E731
    hw = h * w
    x = np.zeros((hw, c))
    if kind == 0:
        for p in range(hw):
            for k in range(c):
                x[p, k] = u()
    elif kind == 1:
        off = [u() for _ in range(c)]
        for p in range(hw):
            for k in range(c):
                x[p, k] = max(0.0, u() + 0.5 * off[k])
    else:
        a = [[u() for _ in range(3)] for _ in range(hw)]
        b = [[u() for _ in range(c)] for _ in range(3)]
        for p in range(hw):
            for k in range(c):
                x[p, k] = sum(a[p][r] * b[r][k] for r in range(3)) + 0.05 * u()
    return x.T.reshape(c, h, w).astype(np.float32)


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    cases = json.loads(Path(sys.argv[2]).read_text())
    for i, case in enumerate(cases):
        act = feature_map(case["h"], case["w"], case["c"], case["kind"], case["seed"])
        reshaped = act.reshape(act.shape[0], -1).transpose()
        reshaped = reshaped - reshaped.mean(axis=0)  # float32, as pytorch-grad-cam
        _, sv, vt = np.linalg.svd(reshaped, full_matrices=True)
        proj = (reshaped @ vt[0, :]).reshape(act.shape[1:])
        np.save(out / f"{i}.npy", act)
        np.save(out / f"{i}-vt0.npy", vt[0].astype(np.float64))
        np.save(out / f"{i}-proj.npy", np.float32(proj))
        np.save(out / f"{i}-gap.npy", np.float64([sv[0] / sv[1]]))


if __name__ == "__main__":
    main()
