#!/usr/bin/python3
"""Tells a gradient mismatch caused by float32 rounding from a rule bug.

A ReLU (or ReLU6) whose float64 input lies within rounding distance of 0 (or 6) can be active in
ONNX Runtime's float32 forward pass and inactive in PyTorch's float64 one: the gradient then differs
over that unit's receptive field, though both are right. This script lists the ReLU-like inputs
closest to their boundary (PyTorch float64), then recomputes the reference with the decision of
the closest units flipped, one at a time and cumulatively, and compares each with gradsight's
gradient (a .npy written by the caller):

    /usr/bin/python3 conformance/check_flips.py ARCH GOT.npy [--key input] [--rules standard]
        [--cache conformance/.cache] [--top 8]

If flipping one or a few near-boundary units brings max|Δ|/max|ref| from ~1e-2 down to ~1e-6, the
mismatch is a decision flip, not a bug.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import export_models as ex


class FlippableClamp(torch.autograd.Function):
    """clamp(x, lo, hi) whose backward mask can be inverted at chosen flat indices."""

    @staticmethod
    def forward(ctx, x, lo, hi, flip, guided):
        mask = x > lo
        if hi is not None:
            mask = mask & (x < hi)
        if flip is not None:
            flat = mask.reshape(-1).clone()
            flat[flip] = ~flat[flip]
            mask = flat.reshape(mask.shape)
        ctx.save_for_backward(mask)
        ctx.guided = guided
        return x.clamp(min=lo, max=hi)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        if ctx.guided:
            g = g.clamp(min=0)
        return g * mask, None, None, None, None


def run(model, x, seed, wanted, key, guided, flips=None, record=None):
    """The reference gradient for `key`, with ReLU-like decisions flipped at flips[(call, index)]."""
    calls = [0]
    saved = (F.relu, torch.relu, F.hardtanh)
    orig_hardtanh = F.hardtanh

    def clamp(x_, lo, hi):
        call = calls[0]
        calls[0] += 1
        if record is not None:
            record.append((call, x_.detach(), lo, hi))
        flip = None if not flips else [i for c, i in flips if c == call] or None
        return FlippableClamp.apply(x_, lo, hi, flip, guided)

    def relu(x_, inplace=False):
        return clamp(x_, 0.0, None)

    def hardtanh(x_, min_val=-1.0, max_val=1.0, inplace=False):
        return clamp(x_, 0.0, max_val) if min_val == 0 else orig_hardtanh(x_, min_val, max_val)

    x = x.clone().requires_grad_(True)
    rec = ex.Recorder(model, wanted)
    F.relu, torch.relu, F.hardtanh = relu, relu, hardtanh
    try:
        logits = model(x)
    finally:
        F.relu, torch.relu, F.hardtanh = saved
        rec.close()
    target = x if key == 'input' else rec.out[key]
    (g,) = torch.autograd.grad((logits * seed).sum(), [target])
    return g.numpy()


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def main():
    p = argparse.ArgumentParser()
    p.add_argument('arch')
    p.add_argument('got')
    p.add_argument('--key', default='input')
    p.add_argument('--rules', default='standard')
    p.add_argument('--cache', default=str(ex.REPO / 'conformance' / '.cache'))
    p.add_argument('--top', type=int, default=8)
    a = p.parse_args()
    d = Path(a.cache) / a.arch
    m = json.loads((d / 'manifest.json').read_text())
    model, _, _ = ex.build(a.arch)
    model = model.double()
    wanted = {k: tuple(v) for k, v in m['torchModules'].items()}
    x = torch.from_numpy(np.load(d / 'input.npy')).double()
    seed = torch.from_numpy(np.load(d / 'seed.npy')).double()
    got = np.load(a.got).astype(np.float64)
    guided = a.rules == 'guided'

    record = []
    ref = run(model, x, seed, wanted, a.key, guided, record=record)
    print(f'{a.arch} {a.rules} {a.key}: rel {rel(got, ref):.2e} (stored reference: '
          f'{rel(got, np.load(d / f"{a.key}.{a.rules}.npy")):.2e})')
    # Distance of each ReLU-like input to its nearest boundary, relative to the tensor's scale.
    near = []
    for call, t, lo, hi in record:
        scale = float(t.abs().max())
        dist = (t - lo).abs() if hi is None else torch.minimum((t - lo).abs(), (t - hi).abs())
        vals, idx = dist.reshape(-1).topk(min(a.top, dist.numel()), largest=False)
        for v, i in zip(vals.tolist(), idx.tolist()):
            near.append((v, call, i, tuple(np.unravel_index(i, t.shape)), scale))
    near.sort()
    flips = []
    for v, call, i, where, scale in near[: a.top]:
        alone = rel(got, run(model, x, seed, wanted, a.key, guided, flips=[(call, i)]))
        flips.append((call, i))
        cumulative = rel(got, run(model, x, seed, wanted, a.key, guided, flips=flips))
        print(
            f'  ReLU call {call:3d} at {where}: |x − bound| = {v:.2e} (max|x| {scale:.2e}); '
            f'flipped alone → rel {alone:.2e}, with the ones above → {cumulative:.2e}'
        )


if __name__ == '__main__':
    main()
