// Small hand-made models for layer-view tests: a channels-last CNN and its NCHW twin (same weights), a
// ViT-like token model (Conv patch embedding, class token) and a model with an ambiguous [1, 7, 7, 7] map.

import { buildModel, type InitializerSpec, type NodeSpec } from '../helpers/onnx-builder.ts';
import { seededValues } from '../helpers/tiny-models.ts';

const common: InitializerSpec[] = [
  { name: 'conv.weight', dims: [4, 3, 3, 3], values: seededValues(108, 1) },
  { name: 'conv.bias', dims: [4], values: seededValues(4, 2) },
  { name: 'fc.weight', dims: [3, 4], values: seededValues(12, 3) },
  { name: 'fc.bias', dims: [3], values: [0.1, -0.2, 0.3] },
];
const scale = [1.5, -0.5, 2, 0.75];
const conv: NodeSpec = {
  op: 'Conv',
  inputs: ['input', 'conv.weight', 'conv.bias'],
  outputs: ['conv'],
  attrs: { pads: [1, 1, 1, 1] },
};

/** Conv → (NHWC) per-channel scale → Relu → mean over H, W → Gemm. */
export function channelsLast(): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['batch', 3, 8, 8] }],
    outputs: [{ name: 'logits', shape: ['batch', 3] }],
    initializers: [...common, { name: 'scale', dims: [4], values: scale }],
    nodes: [
      conv,
      { op: 'Transpose', inputs: ['conv'], outputs: ['hwc'], attrs: { perm: [0, 2, 3, 1] } },
      { op: 'Mul', inputs: ['hwc', 'scale'], outputs: ['scaled'] },
      { op: 'Relu', inputs: ['scaled'], outputs: ['features'] },
      { op: 'ReduceMean', inputs: ['features'], outputs: ['pooled'], attrs: { axes: [1, 2], keepdims: 0 } },
      { op: 'Gemm', inputs: ['pooled', 'fc.weight', 'fc.bias'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  });
}

/** The same network in NCHW. */
export function channelsFirst(): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['batch', 3, 8, 8] }],
    outputs: [{ name: 'logits', shape: ['batch', 3] }],
    initializers: [...common, { name: 'scale', dims: [4, 1, 1], values: scale }],
    nodes: [
      conv,
      { op: 'Mul', inputs: ['conv', 'scale'], outputs: ['scaled'] },
      { op: 'Relu', inputs: ['scaled'], outputs: ['features'] },
      { op: 'GlobalAveragePool', inputs: ['features'], outputs: ['gap'] },
      { op: 'Flatten', inputs: ['gap'], outputs: ['pooled'] },
      { op: 'Gemm', inputs: ['pooled', 'fc.weight', 'fc.bias'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  });
}

/**
 * A tiny ViT-like model (batch 1): a 2×2/2 Conv patch embedding [1, 6, 4, 4] flattened to 16 tokens,
 * a class token in front (17 × 6), a token-wise Linear + Relu, then the mean of all 17 tokens → Gemm.
 */
export function tokenModel(): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: [1, 3, 8, 8] }],
    outputs: [{ name: 'logits', shape: [1, 3] }],
    initializers: [
      { name: 'patch.weight', dims: [6, 3, 2, 2], values: seededValues(72, 4) },
      { name: 'patch.bias', dims: [6], values: seededValues(6, 5) },
      { name: 'flat', dtype: 'int64', dims: [3], values: [1, 6, 16] },
      { name: 'cls', dims: [1, 1, 6], values: seededValues(6, 6) },
      { name: 'lin', dims: [6, 6], values: seededValues(36, 7) },
      { name: 'head.weight', dims: [3, 6], values: seededValues(18, 8) },
      { name: 'head.bias', dims: [3], values: [0, 0.1, 0.2] },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['input', 'patch.weight', 'patch.bias'],
        outputs: ['patches'],
        attrs: { strides: [2, 2], kernel_shape: [2, 2] },
      },
      { op: 'Reshape', inputs: ['patches', 'flat'], outputs: ['flat_patches'] },
      { op: 'Transpose', inputs: ['flat_patches'], outputs: ['tokens0'], attrs: { perm: [0, 2, 1] } },
      { op: 'Concat', inputs: ['cls', 'tokens0'], outputs: ['tokens'], attrs: { axis: 1 } },
      { op: 'MatMul', inputs: ['tokens', 'lin'], outputs: ['mixed'] },
      { op: 'Relu', inputs: ['mixed'], outputs: ['features'] },
      { op: 'ReduceMean', inputs: ['features'], outputs: ['pooled'], attrs: { axes: [1], keepdims: 0 } },
      {
        op: 'Gemm',
        inputs: ['pooled', 'head.weight', 'head.bias'],
        outputs: ['logits'],
        attrs: { transB: 1 },
      },
    ],
  });
}

/** A [1, 7, 7, 7] map that no producer explains (elementwise on the input), and a 3-D reshape of it. */
export function ambiguousModel(): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: [1, 7, 7, 7] }],
    outputs: [{ name: 'logits', shape: [1, 3] }],
    initializers: [
      { name: 'fc.weight', dims: [3, 7], values: seededValues(21, 9) },
      { name: 'fc.bias', dims: [3], values: [0, 0, 0] },
      { name: 'shape3', dtype: 'int64', dims: [3], values: [1, 10, -1] },
    ],
    nodes: [
      { op: 'Relu', inputs: ['input'], outputs: ['features'] },
      { op: 'Reshape', inputs: ['features', 'shape3'], outputs: ['tokens'] },
      { op: 'ReduceMean', inputs: ['tokens'], outputs: ['t'], attrs: { axes: [1], keepdims: 0 } },
      { op: 'ReduceMean', inputs: ['features'], outputs: ['pooled'], attrs: { axes: [2, 3], keepdims: 0 } },
      { op: 'Gemm', inputs: ['pooled', 'fc.weight', 'fc.bias'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  });
}
