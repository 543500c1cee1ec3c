"""Exports the torchvision models the benchmarks use (random weights, torch.manual_seed(0): no
network here) into bench/.cache/. Run with Debian's Python: /usr/bin/python3 bench/export_models.py
(needs python3-torch, python3-torchvision; conformance/setup.sh installs them)."""
import os
import sys

import torch
import torchvision

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '.cache')
os.makedirs(out, exist_ok=True)
for name in ['resnet50', 'vgg16']:
    path = os.path.join(out, f'{name}.onnx')
    if os.path.exists(path):
        continue
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)().eval()
    x = torch.randn(1, 3, 224, 224)
    torch.onnx.export(model, x, path, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13,
                      do_constant_folding=True)
    print(name, os.path.getsize(path) // 2**20, 'MB')
