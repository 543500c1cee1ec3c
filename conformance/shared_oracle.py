"""Float64 PyTorch autograd on the ONNX graphs of ../shared/models, as an independent oracle.

Evaluates every node of an ONNX model with torch ops (the interpreter in op_goldens.py), in float64,
and writes the activation and the gradient of logits[class] at a layer. The parity test uses it for
reference entries whose expected map disagrees with autograd on the graph itself (see
test/methods/parity.test.ts). Run with Debian's Python:

    /usr/bin/python3 conformance/shared_oracle.py [out_dir]     # default conformance/.oracle
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
import op_goldens as og  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, '..', '..', 'shared')
# (model, image, layer, class): the entries checked against this oracle.
CASES = [
    ('mobilenet_v1_0.75_192_quant', 'cat', 'MobilenetV1/MobilenetV1/Conv2d_11_pointwise/Relu6', 282),
    ('mobilenet_v1_0.75_192_quant', 'parrot', 'MobilenetV1/MobilenetV1/Conv2d_11_pointwise/Relu6', 89),
    ('mobilenet_v1_0.75_192_quant', 'dog_segmentation', 'MobilenetV1/MobilenetV1/Conv2d_11_pointwise/Relu6', 259),
]


def node_dict(n):
    attrs = {}
    for a in n.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        if a.type == onnx.AttributeProto.FLOAT:
            v = {'float': v}
        elif a.type == onnx.AttributeProto.FLOATS:
            v = {'floats': list(v)}
        elif a.type == onnx.AttributeProto.INTS:
            v = list(v)
        attrs[a.name] = v
    return {'op': n.op_type, 'inputs': list(n.input), 'outputs': list(n.output), 'attrs': attrs}


def run(model, x, layer, cls):
    env = {}
    for t in model.graph.initializer:
        a = numpy_helper.to_array(t).copy()
        env[t.name] = torch.from_numpy(a.astype(np.float64) if a.dtype == np.float32 else a)
    env[model.graph.input[0].name] = torch.from_numpy(x.astype(np.float64))[None].requires_grad_(True)
    opset = model.opset_import[0].version
    for n in model.graph.node:
        outs = og.run_node(node_dict(n), [env[i] if i else None for i in n.input], opset, 'standard')
        for name, v in zip(n.output, outs):
            env[name] = v
            if name == layer:
                v.retain_grad()
    y = env[model.graph.output[0].name]
    y[0, cls].backward()
    return env[layer].detach().numpy()[0], env[layer].grad.numpy()[0]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '.oracle')
    os.makedirs(out, exist_ok=True)
    manifest = []
    for model_name, image, layer, cls in CASES:
        model = onnx.load(os.path.join(SHARED, 'models', model_name, 'model.onnx'))
        x = np.load(os.path.join(SHARED, 'reference', model_name, image, 'input.npy'))
        torch.set_grad_enabled(True)
        activation, gradient = run(model, x, layer, cls)
        base = f"{model_name}__{image}__c{cls}"
        np.save(os.path.join(out, base + '__A.npy'), activation.astype(np.float32))
        np.save(os.path.join(out, base + '__dA.npy'), gradient.astype(np.float32))
        manifest.append({'model': model_name, 'image': image + '.png', 'layer': layer, 'class': cls, 'base': base})
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
    print('wrote', len(manifest), 'oracle cases to', out)


if __name__ == '__main__':
    main()
