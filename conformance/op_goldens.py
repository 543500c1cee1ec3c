#!/usr/bin/python3
"""PyTorch float64 autograd goldens for gradsight's per-op gradient tests.

Reads  test/autodiff/rules/cases.json           (tiny ONNX graphs + input values, written by TS)
Writes test/autodiff/rules/goldens/goldens.json (forward output and input gradients per rule set)

Regenerate after editing a case generator in test/autodiff/rules/cases/:

    node --import tsx test/autodiff/rules/write-cases.ts
    /usr/bin/python3 conformance/op_goldens.py

Use Debian's /usr/bin/python3 (python3-torch 1.13, python3-numpy); the pyenv python3 on PATH has no
torch. The goldens are committed, so the TypeScript tests need no Python.

Each case is interpreted node by node with torch ops that implement the ONNX semantics (explicit
asymmetric pads via F.pad, MaxPool via F.max_pool2d on a -inf padded input, strict hardtanh for Clip,
...), in float64, at the float32 input values. The output gradient is the seeded LCG sequence the TS
harness uses (test/helpers/tiny-models.ts seededValues), rounded to float32. Rule sets: 'standard' is
plain autograd; 'guided' replaces the backward of every ReLU-like node (Relu, Clip with min 0) by
relu(g)·1[lo < x < hi]; 'deconvnet' by relu(g).
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = os.path.join(ROOT, "test", "autodiff", "rules", "cases.json")
OUT = os.path.join(ROOT, "test", "autodiff", "rules", "goldens", "goldens.json")

torch.set_default_dtype(torch.float64)


def f32(v):
    """A float as ONNX stores it (float32), widened back to float64."""
    return float(np.float32(v))


def seeded_values(n, seed):
    s = seed & 0xFFFFFFFF
    out = []
    for _ in range(n):
        s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
        out.append(s / 2**31 - 1)
    return np.array(out, dtype=np.float32).astype(np.float64)


def const_tensor(t):
    dtype = t.get("dtype", "float32")
    dims = tuple(t["dims"])
    if dtype == "int64":
        return torch.tensor([int(v) for v in t["values"]], dtype=torch.int64).reshape(dims)
    if dtype == "int32":
        return torch.tensor([int(v) for v in t["values"]], dtype=torch.int32).reshape(dims)
    if dtype == "bool":
        return torch.tensor([bool(v) for v in t["values"]], dtype=torch.bool).reshape(dims)
    return torch.from_numpy(np.array(t["values"], dtype=np.float32).astype(np.float64)).reshape(dims)


def attr(node, name, default=None):
    v = node.get("attrs", {}).get(name, default)
    if isinstance(v, dict):
        if "float" in v:
            return f32(v["float"])
        if "floats" in v:
            return [f32(x) for x in v["floats"]]
    if isinstance(v, float):
        return f32(v)
    return v


# ── ReLU-like nodes under the rule sets ───────────────────────────────────────────────────────────


class ModifiedRelu(torch.autograd.Function):
    """Forward clamp(x, lo, hi); backward relu(g)·1[lo < x < hi] (guided) or relu(g) (deconvnet)."""

    @staticmethod
    def forward(ctx, x, lo, hi, mode):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi, ctx.mode = lo, hi, mode
        return x.clamp(min=lo, max=hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.mode == "deconvnet":
            return F.relu(g), None, None, None
        mask = x > ctx.lo
        if ctx.hi is not None:
            mask = mask & (x < ctx.hi)
        return F.relu(g) * mask, None, None, None


class StrictClip(torch.autograd.Function):
    """clamp with hardtanh's strict backward: g·1[lo < x < hi] (a missing bound is open)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return x.clamp(min=lo, max=hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        mask = torch.ones_like(x, dtype=torch.bool)
        if ctx.lo is not None:
            mask = mask & (x > ctx.lo)
        if ctx.hi is not None:
            mask = mask & (x < ctx.hi)
        return g * mask, None, None


def relu_like(x, lo, hi, rule_set):
    if rule_set != "standard" and lo == 0:
        return ModifiedRelu.apply(x, lo, hi, rule_set)
    if lo is not None and hi is not None:
        return F.hardtanh(x, lo, hi)  # strict at both bounds, as relu6
    if lo == 0 and hi is None:
        return torch.relu(x)
    return StrictClip.apply(x, lo, hi)


# ── window geometry (Conv and pooling) ────────────────────────────────────────────────────────────


def explicit_pads(node, in_size, kernel, strides, dilations):
    n = len(kernel)
    auto = attr(node, "auto_pad", "NOTSET")
    if auto == "NOTSET":
        p = attr(node, "pads", [0] * 2 * n)
        return p[:n], p[n:]
    if auto == "VALID":
        return [0] * n, [0] * n
    begin, end = [], []
    for i in range(n):
        dk = (kernel[i] - 1) * dilations[i] + 1
        total = max(0, (math.ceil(in_size[i] / strides[i]) - 1) * strides[i] + dk - in_size[i])
        small = total // 2
        begin.append(small if auto == "SAME_UPPER" else total - small)
        end.append(total - small if auto == "SAME_UPPER" else small)
    return begin, end


def torch_pad(begin, end, extra=(0, 0)):
    """F.pad order for the two spatial axes: (w_begin, w_end, h_begin, h_end)."""
    return (begin[1], end[1] + extra[1], begin[0], end[0] + extra[0])


def pool_geometry(node, x):
    k = attr(node, "kernel_shape")
    s = attr(node, "strides", [1] * len(k))
    d = attr(node, "dilations", [1] * len(k))
    size = list(x.shape[2:])
    begin, end = explicit_pads(node, size, k, s, d)
    ceil = attr(node, "ceil_mode", 0) == 1
    out, extra = [], []
    for i in range(len(k)):
        dk = (k[i] - 1) * d[i] + 1
        span = size[i] + begin[i] + end[i] - dk
        if ceil:
            o = -(-span // s[i]) + 1
            if (o - 1) * s[i] >= size[i] + begin[i]:  # the last window would start in the end padding
                o -= 1
        else:
            o = span // s[i] + 1
        out.append(o)
        extra.append(max(0, (o - 1) * s[i] + dk - (size[i] + begin[i] + end[i])))
    return k, s, d, begin, end, out, extra


def max_pool(node, x):
    k, s, d, begin, end, out, extra = pool_geometry(node, x)
    xp = F.pad(x, torch_pad(begin, end, extra), value=-math.inf)
    return F.max_pool2d(xp, k, s, 0, d)[:, :, : out[0], : out[1]]


def average_pool(node, x):
    k, s, _, begin, end, out, extra = pool_geometry(node, x)
    include = attr(node, "count_include_pad", 0) == 1
    ceil = attr(node, "ceil_mode", 0) == 1
    if begin == end and all(p <= kk // 2 for p, kk in zip(begin, k)):
        return F.avg_pool2d(x, k, s, begin, ceil_mode=ceil, count_include_pad=include)
    # Asymmetric pads: window sums divided by the number of taps inside the input (or inside the
    # explicitly padded input when count_include_pad), never counting the ceil-mode overhang.
    area = k[0] * k[1]
    sums = F.avg_pool2d(F.pad(x, torch_pad(begin, end, extra)), k, s) * area
    ones = torch.ones((1, 1) + tuple(x.shape[2:]))
    inside = F.pad(ones, torch_pad(begin, end), value=1.0 if include else 0.0)
    inside = F.pad(inside, (0, extra[1], 0, extra[0]))
    count = F.avg_pool2d(inside, k, s) * area
    return (sums / count)[:, :, : out[0], : out[1]]


def conv(node, x, w, b):
    k = attr(node, "kernel_shape", list(w.shape[2:]))
    s = attr(node, "strides", [1] * len(k))
    d = attr(node, "dilations", [1] * len(k))
    begin, end = explicit_pads(node, list(x.shape[2:]), k, s, d)
    xp = F.pad(x, torch_pad(begin, end))
    return F.conv2d(xp, w, b, stride=s, dilation=d, groups=attr(node, "group", 1))


# ── LSTM, GRU and RNN (ONNX semantics, default activations) ───────────────────────────────────────────


def recurrent(node, ins, op):
    """ONNX LSTM / GRU / RNN in float64, one step at a time, the way the spec writes them (gates iofc / zrh,
    sequence_lens skipping the padded steps, reverse per sequence). check_recurrent_against_torch
    shows these equal torch.nn.LSTM / GRU / RNN where torch has the configuration."""
    ins = ins + [None] * (8 - len(ins))
    x, W, R, B, lens, h0, c0, P = ins
    H = attr(node, "hidden_size")
    direction = attr(node, "direction", "forward")
    lbr = attr(node, "linear_before_reset", 0) == 1
    layout = attr(node, "layout", 0)
    if layout == 1:
        x = x.transpose(0, 1)
        h0 = h0.transpose(0, 1) if h0 is not None else None
        c0 = c0.transpose(0, 1) if c0 is not None else None
    T, Bn = x.shape[0], x.shape[1]
    lens = [T] * Bn if lens is None else [int(v) for v in lens.tolist()]
    dirs = {"forward": [False], "reverse": [True], "bidirectional": [False, True]}[direction]
    ys, hs, cs = [], [], []
    for d, rev in enumerate(dirs):
        h = h0[d] if h0 is not None else torch.zeros(Bn, H)
        c = (c0[d] if c0 is not None else torch.zeros(Bn, H)) if op == "LSTM" else None
        out = [None] * T
        for t in reversed(range(T)) if rev else range(T):
            active = torch.tensor([[1.0 if t < n else 0.0] for n in lens])
            xt = x[t]
            if op == "LSTM":
                g = xt @ W[d].T + h @ R[d].T
                if B is not None:
                    g = g + B[d, : 4 * H] + B[d, 4 * H :]
                gi, go, gf, gc = g.split(H, dim=1)
                if P is not None:
                    pi, po, pf = P[d].split(H)
                    gi, gf = gi + pi * c, gf + pf * c
                i, f = torch.sigmoid(gi), torch.sigmoid(gf)
                c_new = f * c + i * torch.tanh(gc)
                if P is not None:
                    go = go + po * c_new
                h_new = torch.sigmoid(go) * torch.tanh(c_new)
                c = active * c_new + (1 - active) * c
            elif op == "RNN":
                g = xt @ W[d].T + h @ R[d].T
                h_new = torch.tanh(g + B[d, :H] + B[d, H:] if B is not None else g)
            else:
                wb = B[d, : 3 * H] if B is not None else torch.zeros(3 * H)
                rb = B[d, 3 * H :] if B is not None else torch.zeros(3 * H)
                xz, xr, xh = (xt @ W[d].T + wb).split(H, dim=1)
                Rz, Rr, Rh = R[d].split(H)
                z = torch.sigmoid(xz + h @ Rz.T + rb[:H])
                r = torch.sigmoid(xr + h @ Rr.T + rb[H : 2 * H])
                if lbr:
                    n = torch.tanh(xh + r * (h @ Rh.T + rb[2 * H :]))
                else:
                    n = torch.tanh(xh + (r * h) @ Rh.T + rb[2 * H :])
                h_new = (1 - z) * n + z * h
            h = active * h_new + (1 - active) * h
            out[t] = active * h_new
        ys.append(torch.stack(out))
        hs.append(h)
        cs.append(c)
    y, yh = torch.stack(ys, dim=1), torch.stack(hs)
    yc = torch.stack(cs) if op == "LSTM" else None
    if layout == 1:
        y, yh = y.permute(2, 0, 1, 3), yh.transpose(0, 1)
        yc = yc.transpose(0, 1) if yc is not None else None
    return [y, yh, yc] if op == "LSTM" else [y, yh]


def check_recurrent_against_torch():
    """The loop above equals torch.nn.LSTM / nn.GRU (linear_before_reset = 1) / nn.RNN in value and gradient,
    forward and bidirectional, with packed sequences for sequence_lens; the ONNX weights are reordered
    to torch's gate order (iofc → ifgo, zrh → rzn)."""
    gen = torch.Generator().manual_seed(7)
    rnd = lambda *s: torch.rand(*s, generator=gen) * 1.6 - 0.8  # noqa: E731
    worst = 0.0
    for op in ("LSTM", "GRU", "RNN"):
        for bidir in (False, True):
            for with_lens in (False, True):
                T, Bn, I, H, D = 4, 3, 3, 2, 2 if bidir else 1
                G = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
                W, R, Bb = rnd(D, G * H, I), rnd(D, G * H, H), rnd(D, 2 * G * H)
                x, h0, c0 = rnd(T, Bn, I), rnd(D, Bn, H), rnd(D, Bn, H)
                lens = [4, 2, 3] if with_lens else [T] * Bn
                node = {"attrs": {"hidden_size": H, "direction": "bidirectional" if bidir else "forward", "linear_before_reset": 1}}
                xs = [t.clone().requires_grad_() for t in (x, h0, c0)]
                ins = [xs[0], W, R, Bb, torch.tensor(lens), xs[1], xs[2] if op == "LSTM" else None]
                mine = recurrent(node, ins, op)
                seed = [rnd(*t.shape) for t in mine]
                ours = torch.autograd.grad(sum((m * s).sum() for m, s in zip(mine, seed)), xs[: 3 if op == "LSTM" else 2])
                order = {"LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2], "RNN": [0]}[op]  # torch gate k = ONNX gate order[k]
                perm = lambda m: torch.cat([m[k * H : (k + 1) * H] for k in order])  # noqa: E731
                cell = getattr(torch.nn, op)(I, H, bidirectional=bidir).double()
                with torch.no_grad():
                    for d, sfx in enumerate(["", "_reverse"][:D]):
                        getattr(cell, "weight_ih_l0" + sfx).copy_(perm(W[d]))
                        getattr(cell, "weight_hh_l0" + sfx).copy_(perm(R[d]))
                        getattr(cell, "bias_ih_l0" + sfx).copy_(perm(Bb[d, : G * H]))
                        getattr(cell, "bias_hh_l0" + sfx).copy_(perm(Bb[d, G * H :]))
                ts = [t.clone().requires_grad_() for t in (x, h0, c0)]
                packed = torch.nn.utils.rnn.pack_padded_sequence(ts[0], lens, enforce_sorted=False)
                state = (ts[1], ts[2]) if op == "LSTM" else ts[1]
                yp, st = cell(packed, state)
                y = torch.nn.utils.rnn.pad_packed_sequence(yp, total_length=T)[0]
                y = y.reshape(T, Bn, D, H).transpose(1, 2)
                theirs_out = [y, st[0], st[1]] if op == "LSTM" else [y, st]
                theirs = torch.autograd.grad(sum((m * s).sum() for m, s in zip(theirs_out, seed)), ts[: 3 if op == "LSTM" else 2])
                for a, b in list(zip(mine, theirs_out)) + list(zip(ours, theirs)):
                    worst = max(worst, (a - b).abs().max().item())
    if worst > 1e-10:
        raise SystemExit(f"the ONNX LSTM/GRU/RNN loop differs from torch.nn by {worst:.2e}")
    print(f"LSTM/GRU/RNN loop vs torch.nn.LSTM/GRU/RNN: max |diff| {worst:.1e}", file=sys.stderr)


# ── the rest of the ops ───────────────────────────────────────────────────────────────────────────


def ints(t):
    return [int(v) for v in t.reshape(-1).tolist()]


def norm_axis(a, rank):
    return a + rank if a < 0 else a


def onnx_slice(x, starts, ends, axes, steps):
    axes = axes if axes is not None else list(range(len(starts)))
    steps = steps if steps is not None else [1] * len(starts)
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = norm_axis(axis, x.dim())
        dim = x.shape[axis]
        start = start + dim if start < 0 else start
        end = end + dim if end < 0 else end
        if step > 0:
            start, end = min(max(start, 0), dim), min(max(end, 0), dim)
        else:
            start, end = min(max(start, -1), dim - 1), min(max(end, -1), dim - 1)
        x = x.index_select(axis, torch.tensor(list(range(start, end, step)), dtype=torch.int64))
    return x


def softmax_like(node, x, opset, log):
    fn = torch.log_softmax if log else torch.softmax
    if opset >= 13:
        return fn(x, dim=attr(node, "axis", -1))
    axis = norm_axis(attr(node, "axis", 1), x.dim())
    lead = int(np.prod(x.shape[:axis])) if axis > 0 else 1
    return fn(x.reshape(lead, -1), dim=1).reshape(x.shape)


def reduce(node, x, axes_in, opset, mean):
    axes = ints(axes_in) if axes_in is not None else attr(node, "axes")
    keep = attr(node, "keepdims", 1) == 1
    if not axes:
        if attr(node, "noop_with_empty_axes", 0) == 1:
            return x
        axes = list(range(x.dim()))
    fn = torch.mean if mean else torch.sum
    return fn(x, dim=[norm_axis(a, x.dim()) for a in axes], keepdim=keep)


def resize(node, x, scales, sizes):
    mode = attr(node, "mode", "nearest")
    ctm = attr(node, "coordinate_transformation_mode", "half_pixel")
    size = ints(sizes)[2:] if sizes is not None else [int(x.shape[i + 2] * float(v)) for i, v in enumerate(scales.tolist()[2:])]
    if mode == "linear":
        if ctm not in ("align_corners", "half_pixel", "pytorch_half_pixel"):
            raise ValueError(f"Resize linear {ctm}")
        return F.interpolate(x, size=size, mode="bilinear", align_corners=ctm == "align_corners")
    if mode == "nearest" and ctm == "asymmetric" and attr(node, "nearest_mode", "round_prefer_floor") == "floor":
        return F.interpolate(x, size=size, mode="nearest")
    raise ValueError(f"Resize {mode} {ctm}")


def gather(node, x, idx):
    axis = norm_axis(attr(node, "axis", 0), x.dim())
    flat = idx.reshape(-1)
    flat = torch.where(flat < 0, flat + x.shape[axis], flat)
    y = x.index_select(axis, flat)
    return y.reshape(tuple(x.shape[:axis]) + tuple(idx.shape) + tuple(x.shape[axis + 1 :]))


def reshape(x, shape):
    dims = [x.shape[i] if v == 0 else v for i, v in enumerate(ints(shape))]
    return x.reshape(dims)


def run_node(node, ins, opset, rule_set):
    op = node["op"]
    x = ins[0] if ins else None
    a = lambda name, default=None: attr(node, name, default)  # noqa: E731
    if op == "Relu":
        return [relu_like(x, 0.0, None, rule_set)]
    if op == "Clip":
        if opset >= 11:
            lo = f32(ins[1].item()) if len(ins) > 1 and ins[1] is not None else None
            hi = f32(ins[2].item()) if len(ins) > 2 and ins[2] is not None else None
        else:
            lo, hi = a("min"), a("max")
        return [relu_like(x, lo, hi, rule_set)]
    unary = {
        "Sigmoid": torch.sigmoid,
        "Tanh": torch.tanh,
        "Erf": torch.erf,
        "Exp": torch.exp,
        "Sqrt": torch.sqrt,
        "Neg": torch.neg,
        "Reciprocal": torch.reciprocal,
        "Identity": lambda t: t,
        "Dropout": lambda t: t,
        "HardSwish": F.hardswish,
    }
    if op in unary:
        return [unary[op](x)]
    if op == "Cast":  # to float: the value itself (and its gradient); to int64: token ids
        return [x.to(torch.int64) if a("to") == 7 else x]
    if op in ("LSTM", "GRU", "RNN"):
        return recurrent(node, ins, op)
    if op == "LeakyRelu":
        return [F.leaky_relu(x, a("alpha", f32(0.01)))]
    if op == "PRelu":
        return [torch.where(x > 0, x, ins[1] * x)]
    if op == "HardSigmoid":
        return [F.hardtanh(a("alpha", f32(0.2)) * x + a("beta", f32(0.5)), 0.0, 1.0)]
    if op == "Gelu":
        return [F.gelu(x, approximate=a("approximate", "none"))]
    binary = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div, "Pow": torch.pow}
    if op in binary:
        return [binary[op](ins[0], ins[1])]
    if op == "Where":
        return [torch.where(ins[0], ins[1], ins[2])]
    if op == "Conv":
        return [conv(node, x, ins[1], ins[2] if len(ins) > 2 else None)]
    if op == "MaxPool":
        return [max_pool(node, x)]
    if op == "AveragePool":
        return [average_pool(node, x)]
    if op == "GlobalAveragePool":
        return [x.mean(dim=tuple(range(2, x.dim())), keepdim=True)]
    if op == "GlobalMaxPool":
        return [F.adaptive_max_pool2d(x, 1)]  # first max takes the gradient
    if op == "MatMul":
        return [torch.matmul(ins[0], ins[1])]
    if op == "Gemm":
        A = ins[0].T if a("transA", 0) else ins[0]
        B = ins[1].T if a("transB", 0) else ins[1]
        y = a("alpha", 1.0) * (A @ B)
        if len(ins) > 2 and ins[2] is not None:
            y = y + a("beta", 1.0) * ins[2]
        return [y]
    if op == "BatchNormalization":
        return [F.batch_norm(x, ins[3], ins[4], ins[1], ins[2], False, 0.0, a("epsilon", f32(1e-5)))]
    if op == "LayerNormalization":
        axis = norm_axis(a("axis", -1), x.dim())
        return [F.layer_norm(x, tuple(x.shape[axis:]), ins[1], ins[2], a("epsilon", f32(1e-5)))]
    if op in ("Softmax", "LogSoftmax"):
        return [softmax_like(node, x, opset, op == "LogSoftmax")]
    if op in ("ReduceMean", "ReduceSum"):
        return [reduce(node, x, ins[1] if len(ins) > 1 else None, opset, op == "ReduceMean")]
    if op == "Slice":
        get = lambda i: ints(ins[i]) if len(ins) > i and ins[i] is not None else None  # noqa: E731
        return [onnx_slice(x, get(1), get(2), get(3), get(4))]
    if op == "Pad":
        rank = x.dim()
        pads = ints(ins[1]) if opset >= 11 else a("pads")
        axes = ints(ins[3]) if len(ins) > 3 and ins[3] is not None else list(range(rank))
        value = ins[2].item() if len(ins) > 2 and ins[2] is not None else a("value", 0.0)
        begin, end = [0] * rank, [0] * rank
        for k, ax in enumerate(axes):
            begin[norm_axis(ax, rank)], end[norm_axis(ax, rank)] = pads[k], pads[len(axes) + k]
        spec = []
        for i in reversed(range(rank)):
            spec += [begin[i], end[i]]
        return [F.pad(x, tuple(spec), value=value)]
    if op == "Expand":
        return [torch.broadcast_to(x, torch.broadcast_shapes(x.shape, tuple(ints(ins[1]))))]
    if op == "Gather":
        return [gather(node, x, ins[1])]
    if op == "Split":
        axis = a("axis", 0)
        n = len(node["outputs"])
        if len(ins) > 1 and ins[1] is not None:
            sizes = ints(ins[1])
        elif a("split") is not None:
            sizes = a("split")
        else:
            sizes = [x.shape[axis] // n] * n
        return list(torch.split(x, sizes, dim=axis))
    if op == "Concat":
        return [torch.cat(ins, dim=a("axis"))]
    if op == "Transpose":
        return [x.permute(a("perm", list(reversed(range(x.dim())))))]
    if op == "Reshape":
        return [reshape(x, ins[1])]
    if op == "Flatten":
        axis = norm_axis(a("axis", 1), x.dim())
        return [x.reshape(int(np.prod(x.shape[:axis])), -1)]
    if op in ("Squeeze", "Unsqueeze"):
        axes = ints(ins[1]) if len(ins) > 1 and ins[1] is not None else a("axes")
        if op == "Squeeze":
            if axes is None:
                return [x.squeeze()]
            keep = [d for i, d in enumerate(x.shape) if i not in [norm_axis(v, x.dim()) for v in axes]]
            return [x.reshape(keep)]
        rank = x.dim() + len(axes)
        y = x
        for ax in sorted(norm_axis(v, rank) for v in axes):
            y = y.unsqueeze(ax)
        return [y]
    if op == "Resize":
        opt = lambda i: ins[i] if len(ins) > i and ins[i] is not None and ins[i].numel() > 0 else None  # noqa: E731
        return [resize(node, x, opt(2), opt(3))]
    if op == "Shape":
        return [torch.tensor(list(x.shape), dtype=torch.int64)]
    raise ValueError(f"no torch implementation of {op}")


def run_case(case, rule_set):
    opset = case.get("opset", 17)
    env = {}
    for t in case.get("initializers", []):
        env[t["name"]] = const_tensor(t)
    for i in case["inputs"]:
        t = torch.from_numpy(np.array(i["values"], dtype=np.float32).astype(np.float64)).reshape(tuple(i["shape"]))
        t.requires_grad_(i["name"] in case["wrt"])
        env[i["name"]] = t
    for node in case["nodes"]:
        ins = [env[n] if n else None for n in node["inputs"]]
        for name, v in zip(node["outputs"], run_node(node, ins, opset, rule_set)):
            env[name] = v
    y = env[case["output"]]
    seed = torch.from_numpy(seeded_values(y.numel(), case["seed"])).reshape(y.shape)
    wrt = [env[w] for w in case["wrt"]]  # graph inputs or intermediate tensors
    grads = torch.autograd.grad(y, wrt, grad_outputs=seed, allow_unused=True)
    grads = {w: (g if g is not None else torch.zeros_like(t)) for w, g, t in zip(case["wrt"], grads, wrt)}
    return y.detach(), grads


def compact(t):
    return [float("%.10g" % v) for v in t.reshape(-1).tolist()]


def main():
    check_recurrent_against_torch()
    with open(CASES) as f:
        cases = json.load(f)
    out = {}
    for case in cases:
        grads = {}
        y = None
        for rule_set in case.get("ruleSets", ["standard"]):
            y, g = run_case(case, rule_set)
            grads[rule_set] = {k: compact(v) for k, v in g.items()}
        out[case["id"]] = {"key": case["key"], "outShape": list(y.shape), "output": compact(y), "grads": grads}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write('{"version": 1, "cases": {\n')
        f.write(",\n".join(f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in out.items()))
        f.write("\n}}\n")
    print(f"{len(out)} cases -> {os.path.relpath(OUT, ROOT)} ({os.path.getsize(OUT) // 1024} KB)", file=sys.stderr)


if __name__ == "__main__":
    main()
