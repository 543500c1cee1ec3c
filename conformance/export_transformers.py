#!/usr/bin/python3
"""Exports torchvision ViT-B/16 and Swin-T exactly as ../shared/reference/transformers/README.md says.

Run with the Debian python (torch 1.13, torchvision 0.14), from the repository root:

    /usr/bin/python3 conformance/export_transformers.py [OUT_DIR]

OUT_DIR (default conformance/.cache-transformers) gets <arch>/model.onnx for vit_b_16 and swin_t
(opset 14, dynamic batch, seeded random weights) and manifest.json naming them. The references made
by pytorch-grad-cam on the same weights live in ../shared/reference/transformers; the parity test
(test/methods/transformer-parity.test.ts) first checks the export reproduces their logits.
"""

import json
import sys
from pathlib import Path

import torch
import torchvision


def build(arch):
    # The README's recipe, line for line: seed 0, constructor, eval; ViT's zero-initialised head redrawn.
    torch.manual_seed(0)
    m = getattr(torchvision.models, arch)().eval()
    if arch == "vit_b_16":
        torch.manual_seed(1)
        torch.nn.init.normal_(m.heads.head.weight, std=0.02)
    return m


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "conformance/.cache-transformers")
    out.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for arch in ["vit_b_16", "swin_t"]:
        m = build(arch)
        path = out / arch / "model.onnx"
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.onnx.export(m, torch.randn(1, 3, 224, 224), str(path), opset_version=14,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "b"}, "logits": {0: "b"}})
        manifest[arch] = {"onnx": f"{arch}/model.onnx"}
        print(f"exported {arch} -> {path}", flush=True)
    # Written last: its presence means the cache is complete.
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
