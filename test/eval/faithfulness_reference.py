"""NumPy reimplementation of gradsight's faithfulness metrics, written from docs/metrics.md.

Reads one JSON case from stdin and prints the expected values as JSON. The model is a 2-class linear
classifier (logits = W·x + b over the flattened C×H×W input) scored by its softmax probability of
class 1, so the oracle depends only on the metric definitions:

- deletion / insertion (RISE): pixels by decreasing map value (ties: lower index first), `step` pixels
  per step, zero or blur baseline (separable Gaussian, sigma 5, radius 5, normalised, edges
  replicated), AUC by the trapezoid rule over the fraction of pixels;
- Average Drop, Increase in Confidence, Win (Grad-CAM++), ties splitting a win.

Run by test/eval/metrics-faithfulness-reference.test.ts with /usr/bin/python3.
"""

import json
import sys

import numpy as np


def blur(x):
    r, s = 5, 5.0
    k = np.exp(-(np.arange(-r, r + 1) ** 2) / (2 * s * s))
    k /= k.sum()
    h, w = x.shape[1], x.shape[2]
    p = np.pad(x, ((0, 0), (0, 0), (r, r)), mode="edge")
    rows = sum(k[i] * p[:, :, i : i + w] for i in range(2 * r + 1))
    p = np.pad(rows, ((0, 0), (r, r), (0, 0)), mode="edge")
    return sum(k[i] * p[:, i : i + h, :] for i in range(2 * r + 1))


def score(weights, bias, x):
    z = weights @ x.reshape(-1) + bias
    e = np.exp(z - z.max())
    return float(e[1] / e.sum())


def curve(x, m, weights, bias, mode, step, baseline):
    c, h, w = x.shape
    hw = h * w
    order = np.lexsort((np.arange(hw), -m.reshape(-1)))
    fill = np.zeros_like(x) if baseline == "zero" else blur(x)
    start, finish = (x, fill) if mode == "deletion" else (fill, x)
    steps = -(-hw // step)
    fractions, scores = [], []
    for k in range(steps + 1):
        n = min(k * step, hw)
        cur = start.reshape(c, hw).copy()
        cur[:, order[:n]] = finish.reshape(c, hw)[:, order[:n]]
        fractions.append(n / hw)
        scores.append(score(weights, bias, cur.reshape(c, h, w)))
    f = np.array(fractions)
    s = np.array(scores)
    auc = float(np.sum((f[1:] - f[:-1]) * (s[1:] + s[:-1]) / 2))
    return {"fractions": fractions, "scores": scores, "auc": auc}


def aggregates(clean, masked):
    clean = np.asarray(clean, dtype=np.float64)
    out = {}
    drops = {}
    for method, o in masked.items():
        o = np.asarray(o, dtype=np.float64)
        d = np.maximum(0, clean - o) / clean
        drops[method] = d
        out[method] = {"averageDrop": float(100 * d.mean()), "increase": float(100 * np.mean(o > clean))}
    names = list(masked)
    table = np.stack([drops[n] for n in names])
    lowest = table.min(axis=0)
    winners = table == lowest
    share = winners / winners.sum(axis=0)
    for i, n in enumerate(names):
        out[n]["win"] = float(100 * share[i].mean())
    return out


def main():
    case = json.load(sys.stdin)
    c, h, w = case["dims"]
    x = np.asarray(case["input"], dtype=np.float64).reshape(c, h, w)
    m = np.asarray(case["map"], dtype=np.float32).reshape(h, w)
    weights = np.asarray(case["weights"], dtype=np.float64).reshape(2, c * h * w)
    bias = np.asarray(case["bias"], dtype=np.float64)
    result = {
        "curves": [
            {**spec, **curve(x, m, weights, bias, spec["mode"], spec["step"], spec["baseline"])}
            for spec in case["curves"]
        ],
        "aggregates": aggregates(case["clean"], case["masked"]),
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
