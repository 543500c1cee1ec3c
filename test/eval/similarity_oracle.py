"""NumPy oracle for src/eval/metrics/similarity.ts (scipy and scikit-image are not installed here).

Reads JSON from stdin: a list of cases {"a": [...], "b": [...], "width": W, "height": H}; prints a list
of {"spearman", "ssim_uniform", "ssim_gaussian"}. Written after scipy.stats.spearmanr / rankdata and
skimage.metrics.structural_similarity (v0.19): the whole image is filtered with 'reflect' padding
(scipy.ndimage mode 'reflect' = symmetric, edge repeated) and the (win - 1) / 2 border cropped before
the mean, rather than filtering only the valid windows as the TypeScript does.
"""

import json
import sys

import numpy as np


def rankdata(x):
    """Average ranks (scipy.stats.rankdata 'average'), by sorting and averaging tie groups."""
    x = np.asarray(x, dtype=np.float64)
    sorter = np.argsort(x, kind="mergesort")
    inv = np.empty(sorter.size, dtype=np.intp)
    inv[sorter] = np.arange(sorter.size)
    xs = x[sorter]
    obs = np.r_[True, xs[1:] != xs[:-1]]
    dense = obs.cumsum()[inv]
    count = np.r_[np.nonzero(obs)[0], len(obs)]
    return 0.5 * (count[dense] + count[dense - 1] + 1)


def spearman(a, b):
    ra, rb = rankdata(a), rankdata(b)
    if ra.std() == 0 or rb.std() == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def correlate1d(img, w, axis):
    """scipy.ndimage.correlate1d with mode='reflect' (d c b a | a b c d | d c b a)."""
    r = len(w) // 2
    pad = [(0, 0)] * img.ndim
    pad[axis] = (r, r)
    p = np.pad(img, pad, mode="symmetric")
    out = np.zeros_like(img)
    n = img.shape[axis]
    for j, wj in enumerate(w):
        sl = [slice(None)] * img.ndim
        sl[axis] = slice(j, j + n)
        out += wj * p[tuple(sl)]
    return out


def filt(img, w):
    return correlate1d(correlate1d(img, w, 0), w, 1)


def ssim(a, b, gaussian):
    def norm(x):
        x = np.asarray(x, dtype=np.float64)
        span = x.max() - x.min()
        return (x - x.min()) / span if span > 0 else np.zeros_like(x)

    x, y = norm(a), norm(b)
    if gaussian:
        sigma, truncate = 1.5, 3.5
        r = int(truncate * sigma + 0.5)
        w = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
        w /= w.sum()
        win = 2 * r + 1
        cov_norm = 1.0
    else:
        win = 7
        w = np.full(win, 1.0 / win)
        cov_norm = win * win / (win * win - 1.0)
    ux, uy = filt(x, w), filt(y, w)
    uxx, uyy, uxy = filt(x * x, w), filt(y * y, w), filt(x * y, w)
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    pad = (win - 1) // 2
    return float(s[pad:-pad, pad:-pad].mean())


def main():
    cases = json.load(sys.stdin)
    out = []
    for c in cases:
        h, w = c["height"], c["width"]
        a = np.asarray(c["a"], dtype=np.float64).reshape(h, w)
        b = np.asarray(c["b"], dtype=np.float64).reshape(h, w)
        out.append(
            {
                "spearman": spearman(a.ravel(), b.ravel()),
                "ssim_uniform": ssim(a, b, False),
                "ssim_gaussian": ssim(a, b, True),
            }
        )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
