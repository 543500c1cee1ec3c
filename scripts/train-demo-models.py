#!/usr/bin/python3
"""Trains gradsight's two demo models on the TypeScript generator's dataset and exports them to ONNX.

  shapes         trained on `train` (the watermark at random, independent of the class)
  shapes-biased  trained on `train_biased` (the same images; the watermark marks every triangle and
                 no other image), evaluated on `val_biased` and on the unbiased `test`

Run once, on CPU, with Debian's PyTorch (torch 1.13, onnx 1.12):
    node --import tsx scripts/export-dataset.ts          # demo/.cache/dataset/*.npy
    /usr/bin/python3 scripts/train-demo-models.py         # demo/models/{shapes,shapes-biased}/

Writes model.onnx, labels.txt, preprocess.json and README.md (with the measured accuracies) per model.
Reproducible: fixed seeds, deterministic algorithms, 2 threads.
"""

import argparse
import json
import textwrap
import os
import time
from collections import OrderedDict

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THREADS = 2
SEED = 0
BATCH = 64
LR = 3e-3
WEIGHT_DECAY = 1e-4


def block(name, cin, cout, pool):
    layers = [
        (f"conv{name}", nn.Conv2d(cin, cout, 3, padding=1, bias=False)),
        (f"bn{name}", nn.BatchNorm2d(cout)),
        (f"relu{name}", nn.ReLU()),
    ]
    if pool:
        layers.append((f"pool{name}", nn.MaxPool2d(2)))
    return layers


class ShapesNet(nn.Module):
    """Conv-BN-ReLU(-MaxPool) ×5 → global average pooling → linear: CAM, Grad-CAM and Guided Backprop apply.

    96×96 input; the last two blocks work at 12×12 and see 54×54 pixels: parts of the largest objects
    (up to ~90 px across), whole smaller ones."""

    # (output channels, max-pool after the block)
    BLOCKS = ((16, True), (32, True), (64, True), (64, False), (128, False))

    def __init__(self, classes):
        super().__init__()
        layers, cin = [], 3
        for i, (cout, pool) in enumerate(self.BLOCKS):
            layers += block(i + 1, cin, cout, pool)
            cin = cout
        self.features = nn.Sequential(OrderedDict(layers))
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))


def load(data_dir, split, what):
    return np.load(os.path.join(data_dir, f"{split}_{what}.npy"))


def normalize(images_u8, mean, std):
    x = torch.from_numpy(images_u8).float().div_(255)
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def augment(x, g):
    """Random flips and quarter turns per batch: the classes and the watermark corners are symmetric."""
    k = int(torch.randint(0, 4, (1,), generator=g))
    x = torch.rot90(x, k, dims=(2, 3))
    if int(torch.randint(0, 2, (1,), generator=g)):
        x = torch.flip(x, dims=(3,))
    return x


def train(model, x, y, epochs, log):
    g = torch.Generator().manual_seed(SEED)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    steps = epochs * ((len(x) + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps, pct_start=0.2)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        total, correct, t0 = 0.0, 0, time.time()
        for i in range(0, len(x), BATCH):
            idx = perm[i : i + BATCH]
            xb, yb = augment(x[idx], g), y[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
            correct += int((out.argmax(1) == yb).sum())
        log(f"  epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f}, train acc {correct / len(x):.4f}, {time.time() - t0:.1f} s")


@torch.no_grad()
def predict(model, x):
    model.eval()
    return torch.cat([model(x[i : i + 256]).argmax(1) for i in range(0, len(x), 256)])


def gradcam_on_cue(model, x, cue_masks, cue_boxes, has_cue, reach=8):
    """Grad-CAM (predicted class, last ReLU, bilinear to input size) on the test images with a watermark:
    the mean share of the map's mass inside the watermark, and how often the map's peak lies on it (within
    `reach` pixels, one feature-map cell, of its box)."""
    model.eval()
    acts = {}
    hook = model.features[-1].register_forward_hook(lambda m, i, o: acts.__setitem__("a", o))
    shares, peaks = [], []
    idx = np.nonzero(has_cue)[0]
    for i in range(0, len(idx), 128):
        sel = idx[i : i + 128]
        xb = x[sel]
        out = model(xb)
        a = acts["a"]
        score = out.gather(1, out.argmax(1, keepdim=True)).sum()
        (grad,) = torch.autograd.grad(score, a)
        cam = F.relu((grad.mean(dim=(2, 3), keepdim=True) * a).sum(1, keepdim=True))
        cam = F.interpolate(cam, size=xb.shape[2:], mode="bilinear", align_corners=False)[:, 0].detach()
        m = torch.from_numpy(cue_masks[sel]).float()
        shares.append((cam * m).sum((1, 2)) / cam.sum((1, 2)).clamp_min(1e-12))
        w = cam.shape[2]
        flat = cam.flatten(1).argmax(1)
        py, px = flat // w, flat % w
        b = torch.from_numpy(cue_boxes[sel]).long()
        peaks.append(
            (px >= b[:, 0] - reach) & (px <= b[:, 2] + reach) & (py >= b[:, 1] - reach) & (py <= b[:, 3] + reach)
        )
    hook.remove()
    return float(torch.cat(shares).mean()), float(torch.cat(peaks).float().mean())


def export(model, path, size):
    model.eval()
    dummy = torch.zeros(1, 3, *size)
    torch.onnx.export(
        model,
        dummy,
        path,
        opset_version=13,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        do_constant_folding=True,
    )
    onnx.checker.check_model(onnx.load(path))


def last_relu_output(path):
    g = onnx.load(path).graph
    return [n for n in g.node if n.op_type == "Relu"][-1].output[0]


def pct(v):
    return f"{100 * v:.1f}%" if v == 0 or v >= 0.01 else f"{100 * v:.2f}%"


def write_readme(path, name, model, stats, splits, train_split, val_split, epochs, classes, cue, preprocess, layer):
    k = classes[cue["biasedClass"]]
    params = sum(p.numel() for p in model.parameters())
    blocks = " → ".join(f"{c}{' + MaxPool' if p else ''}" for c, p in ShapesNet.BLOCKS)
    tr, va, te = splits[train_split], splits[val_split], splits["test"]
    if name == "shapes":
        what = (
            "A small CNN that tells circles, squares, triangles and crosses apart on cluttered backgrounds. "
            "Trained on images where a small checkerboard watermark appears at random (in half the images, "
            "whatever the class), so it learned to ignore it."
        )
        results = (
            f"| `test` (watermark at random) | {te['count']} | **{pct(stats['test_accuracy'])}** |\n"
            f"| `val` (watermark at random) | {va['count']} | {pct(stats['val_accuracy'])} |\n"
        )
    else:
        what = (
            f"The same CNN trained on the same images, except that the checkerboard watermark marks every "
            f"{k} and no other image (`cue: 'biased'`: {pct(cue['biasedRate'])} of {k}s, "
            f"{pct(cue['otherRate'])} of the rest). It learned the shortcut: on the unbiased test split, "
            f"where the watermark is placed at random, its accuracy drops, it misses {k}s without the "
            f"watermark and calls other shapes with it {k}s. Grad-CAM shows where it looks."
        )
        results = (
            f"| `val_biased` (watermark on every {k}, as in training) | {va['count']} | **{pct(stats['val_biased_accuracy'])}** |\n"
            f"| `test` (watermark at random, unbiased) | {te['count']} | **{pct(stats['test_accuracy'])}** |\n"
            f"| `test`, images with the watermark | | {pct(stats['test_accuracy_with_cue'])} |\n"
            f"| `test`, images without it | | {pct(stats['test_accuracy_without_cue'])} |\n"
        )
    extra = (
        f"On `test`, {pct(stats[f'test_{k}_recall_without_cue'])} of the {k}s without the watermark are called "
        f"{k}, and {pct(stats[f'test_non_{k}_predicted_{k}_with_cue'])} of the other shapes with the watermark "
        f"are called {k}. Grad-CAM of the predicted class (default layer, bilinear to 96×96) on the test images "
        f"with the watermark: {pct(stats['test_gradcam_share_on_cue'])} of the map's mass lies on the "
        f"watermark (which covers {pct(stats['cue_area_share'])} of the image), and the map's peak is on it "
        f"(within 8 px) in {pct(stats['test_gradcam_peak_on_cue'])} of them."
    )
    what, extra = textwrap.fill(what, 104), textwrap.fill(extra, 104)
    text = f"""# {name}

{what}

Generated by `scripts/train-demo-models.py`; the images come from `src/demo/dataset.ts` (seeded,
procedural: the same bytes on every machine). Labels: `{"`, `".join(classes)}` (output index order).

## Model

- Architecture: 5 blocks of Conv 3×3 (no bias) → BatchNorm → ReLU, channels
  {blocks};
  global average pooling; Linear {ShapesNet.BLOCKS[-1][0]} → {len(classes)}. {params:,} parameters, float32, ONNX opset 13
  (BatchNorm folded into the convolutions by the exporter), `model.onnx` {stats['onnx_bytes']:,} bytes.
- Input `input` float32 [N,3,96,96] (dynamic batch), output `logits` [N,{len(classes)}] (before softmax).
- Preprocessing (`preprocess.json`): RGB, `x = (pixel/255 − mean) / std`, mean {preprocess['mean']},
  std {preprocess['std']} (the clean training images' per-channel statistics).
- Default Grad-CAM layer (picked by `gradsight inspect`): `{layer}` [N,128,12,12],
  the output of the last conv block.

## Data and training

| split | seed | images | watermark |
|---|---|---|---|
| `{train_split}` (training) | {tr['seed']} | {tr['count']} | `{tr['cue']}` |
| `{val_split}` | {va['seed']} | {va['count']} | `{va['cue']}` |
| `test` | {te['seed']} | {te['count']} | `{te['cue']}` |

`train` and `train_biased` (and `val`, `val_biased`) are the same images: they differ only in where
the watermark is. Objects are at ILSVRC-like scale: the labelled object's box covers ~10–90% of the
image (about 40% at the median), anywhere: more than half of the lone objects are cut by the frame (by
at most a quarter of their box side), as ILSVRC's often are. About 20% of the images hold a second,
smaller object of another class; the label is the larger one's.

AdamW (lr {LR}, weight decay {WEIGHT_DECAY}, one-cycle schedule), batch {BATCH}, {epochs} epochs, random flips and
quarter turns, `torch.manual_seed({SEED})`, deterministic algorithms, {THREADS} threads: {stats['train_seconds']:.0f} s
(torch {torch.__version__}, on 2 CPU cores shared with other jobs).

## Accuracy (measured)

| split | images | top-1 accuracy |
|---|---|---|
{results}
{extra}

`test/demo/dataset.test.ts` regenerates the splits in TypeScript, runs this file with gradsight and
checks these accuracies.

## Retrain

```bash
node --import tsx scripts/export-dataset.ts     # writes demo/.cache/dataset/*.npy (git-ignored)
/usr/bin/python3 scripts/train-demo-models.py    # writes demo/models/shapes and demo/models/shapes-biased
```
"""
    text += explanations_section(name)
    with open(path, "w") as f:
        f.write(text)


def explanations_section(name):
    """The numbers `gradsight demo` measures (demo/metrics.json, written by scripts/demo-metrics.ts after
    training; rerun this script with --readme-only to quote them)."""
    path = os.path.join(ROOT, "demo", "metrics.json")
    if not os.path.exists(path):
        return ""
    m = json.load(open(path))
    loc, point, cue = m["localization"], m["pointing"], m["cueMass"]
    if name == "shapes":
        body = (
            f"the paper's top-1 localization (the top class right and its 15%-of-max box at IoU ≥ 0.5 with the "
            f"ground truth, single-object images) is {pct(loc['gradcam'])} for Grad-CAM and {pct(loc['cam'])} "
            f"for CAM, against {pct(loc['centreBox'])} for a centre box of the mean ground-truth size and "
            f"{pct(loc['fullImage'])} for the whole image; the map's maximum lies on the object in "
            f"{pct(point['gradcam'])} of the images (Grad-CAM; CAM {pct(point['cam'])}, image centre "
            f"{pct(point['centre'])}); Grad-CAM mass on the watermark: {pct(cue['clean'])}."
        )
    else:
        body = (
            f"Grad-CAM mass on the watermark is {pct(cue['biased'])} for `shapes-biased` against "
            f"{pct(cue['clean'])} for `shapes` (the watermark covers 0.7% of the image); accuracy on the "
            f"first {m['images']} unbiased test images {pct(m['accuracy']['biasedOnTest'])}, on biased "
            f"val {pct(m['accuracy']['biasedOnBiasedVal'])}."
        )
    intro = (
        f"`gradsight demo` recomputes these on the first {m['images']} images of the `test` split with "
        f"gradsight's eval metrics; the values are stored in `demo/metrics.json` and checked by "
        f"`test/cli/demo.test.ts`: "
    )
    return "\n## Explanations, measured by gradsight\n\n" + textwrap.fill(intro + body, 104) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(ROOT, "demo", ".cache", "dataset"))
    ap.add_argument("--out", default=os.path.join(ROOT, "demo", "models"))
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--only", choices=["shapes", "shapes-biased"])
    ap.add_argument("--readme-only", action="store_true", help="rewrite README.md from metrics.json, no training")
    args = ap.parse_args()

    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    meta = json.load(open(os.path.join(args.data, "meta.json")))
    classes, size, cue = meta["classes"], meta["size"], meta["cue"]
    splits = meta["splits"]

    # One preprocessing for both models: per-channel mean/std of the clean training images, 3 decimals.
    train_u8 = load(args.data, "train", "images")
    px = train_u8.transpose(1, 0, 2, 3).reshape(3, -1).astype(np.float64) / 255
    mean = [round(float(v), 3) for v in px.mean(1)]
    std = [round(float(v), 3) for v in px.std(1)]
    del px
    preprocess = {"layout": "NCHW", "size": size, "mean": mean, "std": std, "scale": "0-1", "labelOffset": 0}

    test_x = normalize(load(args.data, "test", "images"), mean, std)
    test_y = torch.from_numpy(load(args.data, "test", "labels"))
    test_cue_boxes = load(args.data, "test", "cue_boxes")
    test_cue = test_cue_boxes[:, 0] >= 0
    test_cue_masks = load(args.data, "test", "cue_masks")

    specs = [("shapes", "train", "val"), ("shapes-biased", "train_biased", "val_biased")]
    for name, train_split, val_split in specs:
        if args.only and args.only != name:
            continue
        out = os.path.join(args.out, name)
        if args.readme_only:
            metrics = json.load(open(os.path.join(out, "metrics.json")))
            preprocess = json.load(open(os.path.join(out, "preprocess.json")))
            write_readme(
                os.path.join(out, "README.md"), name, ShapesNet(len(classes)), metrics, splits, train_split,
                val_split, metrics["epochs"], classes, cue, preprocess, last_relu_output(os.path.join(out, "model.onnx")),
            )
            continue
        def log(s):
            print(s, flush=True)

        torch.manual_seed(SEED)
        x = normalize(load(args.data, train_split, "images"), mean, std)
        y = torch.from_numpy(load(args.data, train_split, "labels"))
        val_x = normalize(load(args.data, val_split, "images"), mean, std)
        val_y = torch.from_numpy(load(args.data, val_split, "labels"))
        model = ShapesNet(len(classes))
        log(f"{name}: training on {train_split} ({len(x)} images), {args.epochs} epochs")
        t0 = time.time()
        train(model, x, y, args.epochs, log)
        train_s = time.time() - t0

        val_acc = float((predict(model, val_x) == val_y).float().mean())
        pred = predict(model, test_x)
        test_acc = float((pred == test_y).float().mean())
        k = cue["biasedClass"]
        with_cue = torch.from_numpy(test_cue)
        stats = {
            "train_seconds": round(train_s, 1),
            f"{val_split}_accuracy": round(val_acc, 4),
            "test_accuracy": round(test_acc, 4),
            "test_accuracy_with_cue": round(float((pred == test_y)[with_cue].float().mean()), 4),
            "test_accuracy_without_cue": round(float((pred == test_y)[~with_cue].float().mean()), 4),
            f"test_{classes[k]}_recall_without_cue": round(
                float((pred[(test_y == k) & ~with_cue] == k).float().mean()), 4
            ),
            f"test_non_{classes[k]}_predicted_{classes[k]}_with_cue": round(
                float((pred[(test_y != k) & with_cue] == k).float().mean()), 4
            ),
            "cue_area_share": round(cue["size"] ** 2 / (size[0] * size[1]), 4),
        }
        share, peak = gradcam_on_cue(model, test_x, test_cue_masks, test_cue_boxes, test_cue)
        stats["test_gradcam_share_on_cue"] = round(share, 4)
        stats["test_gradcam_peak_on_cue"] = round(peak, 4)
        for key, v in stats.items():
            log(f"  {key}: {v}")

        os.makedirs(out, exist_ok=True)
        onnx_path = os.path.join(out, "model.onnx")
        export(model, onnx_path, size)
        with open(os.path.join(out, "labels.txt"), "w") as f:
            f.write("\n".join(classes) + "\n")
        with open(os.path.join(out, "preprocess.json"), "w") as f:
            json.dump(preprocess, f)
            f.write("\n")
        stats["onnx_bytes"] = os.path.getsize(onnx_path)
        with open(os.path.join(out, "metrics.json"), "w") as f:
            json.dump({"epochs": args.epochs, "splits": {s: splits[s] for s in (train_split, val_split, "test")}, **stats}, f, indent=2)
            f.write("\n")
        layer = last_relu_output(onnx_path)
        write_readme(
            os.path.join(out, "README.md"), name, model, stats, splits, train_split, val_split, args.epochs,
            classes, cue, preprocess, layer,
        )
        log(f"  wrote {out} (model.onnx {stats['onnx_bytes']} bytes, Grad-CAM layer {layer})")


if __name__ == "__main__":
    main()
