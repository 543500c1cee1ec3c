#!/usr/bin/python3
"""Exports torchvision models to ONNX and writes PyTorch float64 gradient references for them.

Run with the Debian python (torch 1.13, torchvision 0.14, onnx 1.12), from the repository root, after
`npm ci` (the Grad-CAM layers are picked by gradsight itself, through node):

    /usr/bin/python3 conformance/export_models.py [OUT_DIR] [--only resnet18,alexnet] [--part 0/2]

OUT_DIR (default conformance/.cache) gets one folder per model and OUT_DIR/manifest.json:

    <arch>/model.onnx          float32, opset 14, dynamic batch, height and width ({0: N, 2: H, 3: W}),
                               constant folding (BN folded into Conv)
    <arch>/input.npy           [2, 3, H, W] float32, two different random images, at the non-square
                               size of SIZES (every export is dynamic in H and W, as any-resolution
                               exports are, and checked away from any size it was traced at)
    <arch>/seed.npy            [2, 1000] float32, one-hot on a different class per row
    <arch>/logits.npy          [2, 1000] float64
    <arch>/<key>.value.npy     float64 activation, key in default | mid | input
    <arch>/<key>.standard.npy  float64 d Σ_b ⟨seed_b, logits_b⟩ / d activation, plain autograd
    <arch>/<key>.guided.npy    the same with Guided Backprop on every ReLU-like op
    <arch>/<key>.{standard,guided}-ort.npy  the same two, taking ONNX Runtime's branch at every ReLU
    <arch>/manifest.json       onnx path, input shape, layer names, classes, how the net was prepared

OUT_DIR/manifest.json carries SETTINGS: conformance/setup.sh re-exports when they differ from this
script's (`--is-current OUT_DIR` exits 0 when the cache matches them), so changing a size, an
architecture or the dynamic axes here regenerates the cache on the next setup. Each model's own
manifest carries its part of them (`arch_settings`): a re-run keeps the models whose part is current
and exports the others, so an interrupted or partly changed export resumes where it stands.

AlexNet is the one model exported with static H and W (at its check size, 232x248): torch.onnx 1.13
cannot export its AdaptiveAvgPool2d((6, 6)) with a dynamic input size ("input size not accessible"),
nor at a static one whose feature map is not a multiple of 6 (256x320 gives 7x9).

Weights are random (no network): torch.manual_seed(0) then the torchvision constructor. A random net
in eval mode with fresh BatchNorm statistics (mean 0, var 1) is degenerate (logits ~1e-14 in
EfficientNet, ~1e12 in Inception v3, identical rows in GoogLeNet), so every model with BatchNorm gets
its running statistics re-estimated on random images in train mode (see `calibrate_bn`). ConvNeXt's
layer scale (1e-6 at init) is set to 1, else every block is the identity and the test would not see
the gradients of its LayerNorm, GELU and Linear layers.

How an ONNX tensor maps to a PyTorch tensor: the exporter names nodes by module scope,
e.g. `/layer4/layer4.1/relu_1/Relu` is the second call of module `layer4.1.relu`. A tensor whose
consumers all lie outside its scope is that module call's output (a forward hook captures it); a Relu
node elsewhere is a functional `F.relu` call in that scope (captured by patching F.relu). Conv outputs
are never picked as the mid layer: the exporter folds the following BatchNorm into them. The test
checks every captured value against ONNX Runtime's, so a wrong mapping fails loudly.

Why a second reference: float32 ONNX Runtime and float64 PyTorch can take different branches at a
ReLU whose input lies within rounding distance of its bound, or pick different maxima in a MaxPool
window whose two largest values are that close; each gradient is then right for its own forward pass
and the two differ over that unit's receptive field. The script reads, from gradsight's gradient
model on ORT (test/conformance/ort-values.ts), the output of every ReLU-like node and the input of
every MaxPool (ONNX nodes are in PyTorch call order), records where the decisions differ
(`decisionsDiffering` in the manifest, with the float64 distance to the other choice), and
recomputes the references with ORT's decisions ("decision-matched").
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F
import torchvision

ARCHS = [
    'resnet18',
    'resnet50',
    'resnext50_32x4d',
    'densenet121',
    'densenet169',
    'googlenet',
    'inception_v3',
    'squeezenet1_1',
    'mobilenet_v2',
    'mobilenet_v3_large',
    'efficientnet_b0',
    'shufflenet_v2_x1_0',
    'mnasnet1_0',
    'regnet_y_400mf',
    'convnext_tiny',
    'alexnet',
]
OPSET = 14
BATCH = 2
# (H, W) of the check, per architecture; the export traces at 224x224 (299x299 for Inception v3), so
# the check runs at a size the graph was not traced at, with H != W to catch swapped axes.
# AlexNet's AdaptiveAvgPool2d((6, 6)) exports only where its input is a multiple of 6: 232x248 gives 6x6.
SIZES = {'inception_v3': (320, 384), 'alexnet': (232, 248)}
DEFAULT_SIZE = (256, 320)
DYNAMIC_AXES = {'input': {0: 'N', 2: 'H', 3: 'W'}, 'logits': {0: 'N'}}
# Models torch.onnx cannot export with dynamic H and W: dynamic batch only, traced at the check size.
STATIC_HW = {
    'alexnet': 'torch.onnx 1.13 exports AdaptiveAvgPool2d((6, 6)) only at a static input size that is a multiple of 6'
}
# Bump VERSION when the references change for another reason (a new capture, a new reference file).
SETTINGS = {
    'version': 2,
    'opset': OPSET,
    'batch': BATCH,
    'archs': ARCHS,
    'sizes': {a: list(SIZES.get(a, DEFAULT_SIZE)) for a in ARCHS},
    'dynamicAxes': DYNAMIC_AXES,
    'staticHW': STATIC_HW,
}


def as_json(v):
    """v as it reads back from a manifest (int dict keys become strings)."""
    return json.loads(json.dumps(v))


def dynamic_axes(arch):
    return {'input': {0: 'N'}, 'logits': {0: 'N'}} if arch in STATIC_HW else DYNAMIC_AXES


def arch_settings(arch):
    """The part of SETTINGS one model's export depends on (stored in its manifest)."""
    return {
        'version': SETTINGS['version'],
        'opset': OPSET,
        'batch': BATCH,
        'size': list(SIZES.get(arch, DEFAULT_SIZE)),
        'dynamicAxes': dynamic_axes(arch),
    }
REPO = Path(__file__).resolve().parent.parent


def build(arch):
    """The random-weight model in eval mode, with every in-place op turned off (so captured
    activations are never overwritten) and the preparation notes for the manifest."""
    torch.manual_seed(0)
    kwargs = {'aux_logits': False, 'init_weights': True} if arch in ('googlenet', 'inception_v3') else {}
    model = getattr(torchvision.models, arch)(weights=None, **kwargs)
    size = SIZES.get(arch, DEFAULT_SIZE)
    notes = []
    for m in model.modules():
        if hasattr(m, 'inplace'):
            m.inplace = False
    if arch == 'convnext_tiny':
        for m in model.modules():
            if hasattr(m, 'layer_scale'):
                m.layer_scale.data.fill_(1.0)
        notes.append('layer_scale set to 1 (1e-6 at init makes every block the identity)')
    if any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules()):
        calibrate_bn(model, size)
        notes.append('BatchNorm running stats re-estimated on 4x8 random images (train mode)')
    model.eval()
    return model, size, notes


def calibrate_bn(model, size):
    """Re-estimates BatchNorm running statistics on random N(0, 1) images of `size` (H, W): the
    cumulative average of batch statistics (momentum None), as after training, so eval-mode
    activations stay O(1)."""
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
    g = torch.Generator().manual_seed(123)
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.randn(8, 3, *size, generator=g))
    model.eval()


def export(model, path, arch):
    # Traced at the usual square size; H and W stay dynamic (STATIC_HW: traced at the check size).
    s = 299 if arch == 'inception_v3' else 224
    x = torch.zeros(1, 3, *SIZES.get(arch, DEFAULT_SIZE)) if arch in STATIC_HW else torch.zeros(1, 3, s, s)
    torch.onnx.export(
        model,
        x,
        str(path),
        opset_version=OPSET,
        do_constant_folding=True,
        training=torch.onnx.TrainingMode.EVAL,
        input_names=['input'],
        output_names=['logits'],
        dynamic_axes=dynamic_axes(arch),
    )


def pick_layers(path, size):
    """gradsight's default layer and candidate list for the model at `size` (H, W), exactly what
    users get."""
    out = subprocess.run(
        ['node', '--import', 'tsx', 'test/conformance/pick-layers.ts', str(path), f'{size[0]}x{size[1]}'],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


# ---- ONNX tensor → PyTorch tensor --------------------------------------------------------------


def split_index(s):
    """'relu_1' → ('relu', 1); 'relu' → ('relu', 0)."""
    m = re.fullmatch(r'(.*)_(\d+)', s)
    return (m.group(1), int(m.group(2))) if m else (s, 0)


def resolve(model, graph, tensor):
    """How to capture `tensor` in PyTorch: ('module', path, call) or ('relu', path, call, index)."""
    producer = next(n for n in graph.node if tensor in n.output)
    consumers = [n for n in graph.node if tensor in n.input]
    parts = producer.name.split('/')[1:]
    op, op_index = split_index(parts[-1])
    path, call, module = '', 0, model
    children = dict(model.named_children())
    prev = ''
    for comp in parts[:-1]:
        local = comp[len(prev) + 1 :] if prev and comp.startswith(prev + '.') else comp
        if local not in children:
            local, call = split_index(local)
            if local not in children:
                raise LookupError(f'{producer.name}: no submodule {comp!r} under {path or "<root>"}')
        elif call:
            raise LookupError(f'{producer.name}: repeated call of a non-leaf module')
        module = children[local]
        path = f'{path}.{local}' if path else local
        children = dict(module.named_children())
        prev = comp  # a Sequential's children are scoped '<its scope>.<index>'
    scope = '/'.join(producer.name.split('/')[:-1]) + '/'
    outside = all(not c.name.startswith(scope) for c in consumers)
    if path and outside and producer.op_type != 'Conv':
        return ('module', path, call)
    if op == 'Relu':
        return ('relu', path, call, op_index)
    raise LookupError(f'{tensor} ({producer.op_type} {producer.name}) is not a module output')


class Recorder:
    """Captures module-call outputs and functional F.relu outputs during one forward pass."""

    def __init__(self, model, wanted):
        self.names = {m: n for n, m in model.named_modules()}
        self.wanted = wanted  # key → resolve() result
        self.stack = []
        self.calls = {}
        self.relus = {}
        self.out = {}
        self.handles = [
            torch.nn.modules.module.register_module_forward_pre_hook(self.pre),
            torch.nn.modules.module.register_module_forward_hook(self.post),
        ]

    def pre(self, module, _inputs):
        name = self.names.get(module, '?')
        call = self.calls.get(name, 0)
        self.calls[name] = call + 1
        self.stack.append((name, call))

    def post(self, module, _inputs, output):
        name, call = self.stack.pop()
        for key, how in self.wanted.items():
            if how[0] == 'module' and how[1:] == (name, call):
                self.out[key] = output

    def on_relu(self, y):
        scope = self.stack[-1] if self.stack else ('', 0)
        index = self.relus.get(scope, 0)
        self.relus[scope] = index + 1
        for key, how in self.wanted.items():
            if how[0] == 'relu' and how[1:] == (*scope, index):
                self.out[key] = y

    def close(self):
        for h in self.handles:
            h.remove()


# ---- ReLU-like ops: plain or guided, with PyTorch's or ONNX Runtime's decisions ---------------------


class ReluLike(torch.autograd.Function):
    """y = clamp(x, lo, hi) with dx = g · mask (standard) or relu(g) · mask (Guided Backprop), where
    mask = 1[lo < x < hi] (strict, as PyTorch's relu and hardtanh backward) unless given."""

    @staticmethod
    def forward(ctx, x, lo, hi, mask, guided):
        if mask is None:
            mask = x > lo
            if hi is not None:
                mask = mask & (x < hi)
        ctx.save_for_backward(mask)
        ctx.guided = guided
        return x.clamp(min=lo, max=hi)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        if ctx.guided:
            g = g.clamp(min=0)
        return g * mask, None, None, None, None


class MaxPoolAt(torch.autograd.Function):
    """Max pooling with given argmax indices (flat per N, C plane, as max_pool2d returns them):
    y = x[idx], dx = scatter-add of g at idx."""

    @staticmethod
    def forward(ctx, x, idx):
        ctx.save_for_backward(idx)
        ctx.shape = x.shape
        return x.flatten(2).gather(2, idx.flatten(2)).view(idx.shape)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        dx = torch.zeros(ctx.shape, dtype=g.dtype).flatten(2)
        return dx.scatter_add(2, idx.flatten(2), g.flatten(2)).view(ctx.shape), None


class DecisionPatch:
    """Routes every F.relu / torch.relu / F.hardtanh(min 0) call (nn.ReLU and nn.ReLU6 call these)
    through ReluLike, and every F.max_pool2d call (nn.MaxPool2d calls it) through a recorder. Records
    the inputs of both kinds of call in call order, which is the order of the ONNX Relu/Clip and
    MaxPool nodes, and the outputs of functional ReLUs for the Recorder. With `decisions` (from
    ort_decisions), the k-th ReLU uses decisions['relu'][k] as its mask and the k-th max pool
    decisions['maxpool'][k] as its argmax."""

    def __init__(self, recorder, guided, decisions=None):
        self.recorder, self.guided, self.decisions = recorder, guided, decisions
        self.relus, self.pools = [], []
        self.saved = (F.relu, torch.relu, F.hardtanh, F.max_pool2d)

    def __enter__(self):
        orig_hardtanh, orig_max_pool2d = self.saved[2], self.saved[3]

        def clamp(x, lo, hi):
            k = len(self.relus)
            self.relus.append((x.detach(), lo, hi))
            mask = None if self.decisions is None else self.decisions['relu'][k]
            return ReluLike.apply(x, lo, hi, mask, self.guided)

        def relu(x, inplace=False):
            y = clamp(x, 0.0, None)
            self.recorder.on_relu(y)
            return y

        def hardtanh(x, min_val=-1.0, max_val=1.0, inplace=False):
            return clamp(x, 0.0, max_val) if min_val == 0 else orig_hardtanh(x, min_val, max_val)

        def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
            args = (kernel_size, stride, padding, dilation, ceil_mode)
            k = len(self.pools)
            self.pools.append((x.detach(), args))
            if return_indices:
                raise NotImplementedError('max_pool2d with return_indices')
            if self.decisions is None:
                return orig_max_pool2d(x, *args)
            return MaxPoolAt.apply(x, self.decisions['maxpool'][k])

        F.relu, torch.relu, F.hardtanh, F.max_pool2d = relu, relu, hardtanh, max_pool2d
        return self

    def __exit__(self, *_):
        F.relu, torch.relu, F.hardtanh, F.max_pool2d = self.saved
        self.recorder.close()


def reference(model, x, seed, wanted, guided, decisions=None):
    """logits, per key the activation and d Σ_b ⟨seed_b, logits_b⟩ / d activation (float64), and
    the patch (with the inputs of the ReLU-like and max-pool calls)."""
    x = x.clone().requires_grad_(True)
    rec = Recorder(model, wanted)
    with DecisionPatch(rec, guided, decisions) as patch:
        logits = model(x)
    missing = set(wanted) - set(rec.out)
    if missing:
        raise LookupError(f'not captured: {sorted(missing)}')
    keys = ['input', *wanted]
    acts = [x, *(rec.out[k] for k in wanted)]
    grads = torch.autograd.grad((logits * seed).sum(), acts)
    return logits.detach(), {k: (a.detach(), g) for k, a, g in zip(keys, acts, grads)}, patch


def decision_tensors(graph):
    """ONNX tensors that show ORT's decisions, in graph order: the output of every node gradsight
    treats as ReLU-like (Relu; Clip with lower bound 0) and the input of every MaxPool."""
    consts = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
    for n in graph.node:
        if n.op_type == 'Constant':
            consts[n.output[0]] = onnx.numpy_helper.to_array(n.attribute[0].t)
    relus, pools = [], []
    for n in graph.node:
        lo = consts.get(n.input[1]) if n.op_type == 'Clip' and len(n.input) > 1 and n.input[1] else None
        if n.op_type == 'Relu' or (lo is not None and lo.size == 1 and float(lo) == 0):
            relus.append(n.output[0])
        elif n.op_type == 'MaxPool':
            pools.append(n.input[0])
    return relus, pools


def ort_decisions(onnx_path, input_path, graph, patch, seed_path, wrt):
    """ONNX Runtime's decisions in gradsight's gradient model, matched to the PyTorch calls by order:
    the mask lo < x < hi at every ReLU-like node (from its float32 output y: y > lo ⇔ x > lo and
    y < hi ⇔ x < hi) and the first-max argmax of every MaxPool window (from its float32 input, the
    tie rule of both gradsight and PyTorch); and the decisions that differ from PyTorch float64, each
    with the float64 distance to the other choice relative to max|x|."""
    relus, pools = decision_tensors(graph)
    if len(relus) != len(patch.relus) or len(pools) != len(patch.pools):
        raise RuntimeError(
            f'{len(relus)} ReLU-like and {len(pools)} MaxPool ONNX nodes but {len(patch.relus)} and '
            f'{len(patch.pools)} PyTorch calls'
        )
    names = relus + pools
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / 'names.json').write_text(json.dumps(names))
        (Path(tmp) / 'wrt.json').write_text(json.dumps(wrt))
        subprocess.run(
            ['node', '--import', 'tsx', 'test/conformance/ort-values.ts', str(onnx_path), str(input_path),
             str(Path(tmp) / 'names.json'), tmp, str(seed_path), str(Path(tmp) / 'wrt.json')],
            cwd=REPO,
            check=True,
        )
        ort = [torch.from_numpy(np.load(Path(tmp) / f'{i}.npy')) for i in range(len(names))]
    masks, indices, flips = [], [], []
    for k, (x64, lo, hi) in enumerate(patch.relus):
        y = ort[k].double()
        if y.shape != x64.shape or (y - x64.clamp(min=lo, max=hi)).abs().max() > 1e-3 * x64.abs().max():
            raise RuntimeError(f'ReLU-like call {k} does not match ONNX node {relus[k]}')
        mask = y > lo
        ours = x64 > lo
        if hi is not None:
            mask, ours = mask & (y < hi), ours & (x64 < hi)
        scale = float(x64.abs().max())
        for i in (mask != ours).reshape(-1).nonzero().reshape(-1).tolist():
            v = float(x64.reshape(-1)[i])
            dist = abs(v - lo) if hi is None else min(abs(v - lo), abs(v - hi))
            flips.append({'op': 'Relu', 'tensor': relus[k], 'index': i, 'x': v, 'relDistance': dist / scale})
        masks.append(mask)
    for k, (x64, args) in enumerate(patch.pools):
        x32 = ort[len(relus) + k]
        if x32.shape != x64.shape or (x32.double() - x64).abs().max() > 1e-3 * x64.abs().max():
            raise RuntimeError(f'max-pool call {k} does not match the input of ONNX MaxPool {pools[k]}')
        _, idx = F.max_pool2d(x32, *args, return_indices=True)
        _, ours = F.max_pool2d(x64, *args, return_indices=True)
        flat = x64.flatten(2)
        scale = float(x64.abs().max())
        for i in (idx != ours).reshape(-1).nonzero().reshape(-1).tolist():
            n, c = np.unravel_index(i, idx.shape)[:2]
            a, b = flat[n, c, idx.reshape(-1)[i]], flat[n, c, ours.reshape(-1)[i]]
            flips.append({'op': 'MaxPool', 'tensor': pools[k], 'index': i, 'x': float(b),
                          'relDistance': float(abs(a - b)) / scale})
        indices.append(idx)
    return {'relu': masks, 'maxpool': indices}, flips


def pick_mid(model, graph, layers):
    """A capturable 4-D tensor around the middle of gradsight's candidate list."""
    cands = [c['name'] for c in layers['candidates']]
    mid = len(cands) // 2
    order = sorted(range(len(cands)), key=lambda i: (abs(i - mid), i))
    for i in order:
        try:
            how = resolve(model, graph, cands[i])
        except LookupError:
            continue
        if how[0] == 'module':
            return cands[i], how, i, len(cands)
    raise LookupError('no capturable mid layer')


def classes_for(logits):
    """Row 0: its top class; row 1: its top class unless equal to row 0's, else its second."""
    first = int(logits[0].argmax())
    order = logits[1].argsort(descending=True).tolist()
    second = order[0] if order[0] != first else order[1]
    return [first, second]


def export_arch(arch, out):
    t0 = time.time()
    d = out / arch
    d.mkdir(parents=True, exist_ok=True)
    model, size, notes = build(arch)
    if arch in STATIC_HW:
        notes.append(f'exported with static H, W at {size[0]}x{size[1]}: {STATIC_HW[arch]}')
    onnx_path = d / 'model.onnx'
    export(model, onnx_path, arch)
    t_export = time.time() - t0
    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    layers = pick_layers(onnx_path, size)
    default = layers['default']
    mid, mid_how, mid_at, n_cands = pick_mid(model, graph, layers)
    wanted = {'default': resolve(model, graph, default), 'mid': mid_how}

    g = torch.Generator().manual_seed(1)
    x32 = torch.randn(BATCH, 3, *size, generator=g)
    model = model.double()
    x = x32.double()
    with torch.no_grad():
        plain = model(x)
    if not torch.isfinite(plain).all() or float(plain.std(1).min()) < 1e-3:
        raise RuntimeError(f'{arch}: degenerate logits {plain}')
    classes = classes_for(plain)
    seed = torch.zeros_like(plain)
    seed[torch.arange(BATCH), torch.tensor(classes)] = 1

    np.save(d / 'input.npy', x32.numpy())
    t1 = time.time()
    logits, std, patch = reference(model, x, seed, wanted, guided=False)
    _, gd, _ = reference(model, x, seed, wanted, guided=True)
    # The same gradients with ORT's decisions: a float32 forward pass can take the other branch of a
    # ReLU whose input lies within rounding distance of its bound, or another max in a pooling window
    # whose two largest values are that close.
    np.save(d / 'seed.npy', seed.float().numpy())
    wrt = [layers['input'], default, mid]
    decisions, flips = ort_decisions(onnx_path, d / 'input.npy', graph, patch, d / 'seed.npy', wrt)
    del patch
    std_ort, gd_ort = std, gd
    if flips:
        std_ort = reference(model, x, seed, wanted, guided=False, decisions=decisions)[1]
        gd_ort = reference(model, x, seed, wanted, guided=True, decisions=decisions)[1]
    t_ref = time.time() - t1
    np.save(d / 'logits.npy', logits.numpy())
    tensors = {'input': layers['input'], 'default': default, 'mid': mid}
    for key in tensors:
        np.save(d / f'{key}.value.npy', std[key][0].numpy())
        np.save(d / f'{key}.standard.npy', std[key][1].numpy())
        np.save(d / f'{key}.guided.npy', gd[key][1].numpy())
        np.save(d / f'{key}.standard-ort.npy', std_ort[key][1].numpy())
        np.save(d / f'{key}.guided-ort.npy', gd_ort[key][1].numpy())
    manifest = {
        'arch': arch,
        'onnx': 'model.onnx',
        'opset': OPSET,
        'inputShape': [BATCH, 3, *size],
        'dynamicAxes': dynamic_axes(arch),
        'settings': arch_settings(arch),
        'tensors': tensors,
        'torchModules': {k: list(v) for k, v in wanted.items()},
        'midIndex': [mid_at, n_cands],
        'classes': classes,
        'decisionsDiffering': flips,
        'preparation': notes,
        'logitsAbsMax': float(logits.abs().max()),
        'seconds': {'export': round(t_export, 2), 'references': round(t_ref, 2)},
    }
    (d / 'manifest.json').write_text(json.dumps(manifest, indent=2) + '\n')
    print(
        f'{arch:20s} export {t_export:6.1f}s  refs {t_ref:6.1f}s  flips {len(flips)}  default {default}  mid {mid}',
        flush=True,
    )
    return manifest


def current_manifest(arch, out):
    """The model's manifest when a previous run exported it with the current settings, else None."""
    try:
        m = json.loads((out / arch / 'manifest.json').read_text())
    except (OSError, ValueError):
        return None
    if m.get('settings') != as_json(arch_settings(arch)):
        return None
    print(f'{arch:20s} current (kept)', flush=True)
    return m


# Seconds to export each model and compute its references, one thread (a clean CI run, 2026-12-02):
# only to balance the parts setup.sh runs in parallel (every other model made them 397 and 646 s).
COST = {
    'resnet18': 49, 'resnet50': 153, 'resnext50_32x4d': 195, 'densenet121': 110, 'densenet169': 137,
    'googlenet': 42, 'inception_v3': 112, 'squeezenet1_1': 9, 'mobilenet_v2': 13, 'mobilenet_v3_large': 13,
    'efficientnet_b0': 14, 'shufflenet_v2_x1_0': 10, 'mnasnet1_0': 16, 'regnet_y_400mf': 21,
    'convnext_tiny': 58, 'alexnet': 14,
}


def balanced_parts(archs, n):
    """archs in n parts of about equal COST: each, costliest first, to the part with the least so far."""
    parts = [[] for _ in range(n)]
    totals = [0.0] * n
    for arch in sorted(archs, key=lambda x: -COST.get(x, 60)):
        k = min(range(n), key=lambda j: (totals[j], j))
        parts[k].append(arch)
        totals[k] += COST.get(arch, 60)
    return [[x for x in archs if x in p] for p in parts]


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('out', nargs='?', default=str(REPO / 'conformance' / '.cache'))
    p.add_argument('--only', help='comma-separated architectures (default: all)')
    p.add_argument('--part', help='I/N: the Ith of N parts of about equal cost (setup.sh runs the parts in parallel)')
    p.add_argument('--is-current', action='store_true', help='exit 0 when OUT holds a complete export with these SETTINGS')
    a = p.parse_args()
    out = Path(a.out).resolve()
    if a.is_current:
        try:
            current = json.loads((out / 'manifest.json').read_text()).get('settings') == as_json(SETTINGS)
        except (OSError, ValueError):
            current = False
        sys.exit(0 if current else 1)
    out.mkdir(parents=True, exist_ok=True)
    archs = a.only.split(',') if a.only else ARCHS
    if a.part:
        i, n = (int(v) for v in a.part.split('/'))
        archs = balanced_parts(archs, n)[i]
    t0 = time.time()
    done = [(current_manifest(arch, out) or export_arch(arch, out))['arch'] for arch in archs]
    index = {
        'models': done,
        'torch': torch.__version__,
        'torchvision': torchvision.__version__,
        'onnx': onnx.__version__,
        'seconds': round(time.time() - t0, 1),
        # Only a full export stands for these settings (setup.sh compares them).
        'settings': SETTINGS if not (a.only or a.part) else None,
    }
    # Written last: its presence means the cache is complete.
    (out / 'manifest.json').write_text(json.dumps(index, indent=2) + '\n')
    print(f'{len(done)} models in {index["seconds"]}s → {out}', file=sys.stderr)


if __name__ == '__main__':
    main()
