// A tiny real CNN (Conv → Relu → GlobalAveragePool → Flatten → Gemm, 3 classes on 8×8 RGB) with fixed
// pseudo-random weights, for CLI and loader tests that must run without ../shared.

import { buildModel, type InitializerSpec } from './onnx-builder.ts';

/** Deterministic values in [-1, 1) from a linear congruential generator. */
export function seededValues(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/**
 * `fixedBatch`: exported the way many tools do it — batch fixed at 1 and a Reshape to the constant
 * [1, −1] instead of Flatten; batches must then run one image at a time.
 */
export function tinyCnn(
  opts: { externalWeights?: string; externalOffset?: number; fixedBatch?: boolean } = {},
): Uint8Array {
  const batch = opts.fixedBatch ? 1 : 'batch';
  const convW: InitializerSpec = {
    name: 'conv.weight',
    dims: [4, 3, 3, 3],
    values: seededValues(108, 1),
    ...(opts.externalWeights
      ? { external: { location: opts.externalWeights, offset: opts.externalOffset ?? 0, length: 108 * 4 } }
      : {}),
  };
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: [batch, 3, 8, 8] }],
    outputs: [{ name: 'logits', shape: [batch, 3] }],
    initializers: [
      convW,
      { name: 'conv.bias', dims: [4], values: seededValues(4, 2) },
      { name: 'fc.weight', dims: [3, 4], values: seededValues(12, 3) },
      { name: 'fc.bias', dims: [3], values: [0.1, -0.2, 0.3] },
      ...(opts.fixedBatch
        ? [{ name: 'flat.shape', dtype: 'int64' as const, dims: [2], values: [1, -1] }]
        : []),
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['input', 'conv.weight', 'conv.bias'],
        outputs: ['conv'],
        attrs: { pads: [1, 1, 1, 1] },
      },
      { op: 'Relu', inputs: ['conv'], outputs: ['features'] },
      { op: 'GlobalAveragePool', inputs: ['features'], outputs: ['pooled'] },
      opts.fixedBatch
        ? { op: 'Reshape', inputs: ['pooled', 'flat.shape'], outputs: ['flat'] }
        : { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
      { op: 'Gemm', inputs: ['flat', 'fc.weight', 'fc.bias'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  });
}

/**
 * A CNN exported with dynamic batch, height and width ({0: 'N', 2: 'H', 3: 'W'}): Conv(k3, stride 2,
 * pad 1) → Relu → MaxPool(k2, stride 1) → GlobalAveragePool → Flatten → Gemm, 3 classes.
 */
export function dynamicCnn(): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['N', 3, 'H', 'W'] }],
    outputs: [{ name: 'logits', shape: ['N', 3] }],
    initializers: [
      { name: 'cw', dims: [4, 3, 3, 3], values: seededValues(108, 1) },
      { name: 'cb', dims: [4], values: seededValues(4, 2) },
      { name: 'fw', dims: [3, 4], values: seededValues(12, 3) },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['input', 'cw', 'cb'],
        outputs: ['c'],
        attrs: { pads: [1, 1, 1, 1], strides: [2, 2] },
      },
      { op: 'Relu', inputs: ['c'], outputs: ['features'] },
      {
        op: 'MaxPool',
        inputs: ['features'],
        outputs: ['m'],
        attrs: { kernel_shape: [2, 2], strides: [1, 1] },
      },
      { op: 'GlobalAveragePool', inputs: ['m'], outputs: ['p'] },
      { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'fw'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  });
}

/** The conv weights of tinyCnn as little-endian float32 bytes (what an external data file holds). */
export function tinyCnnConvWeightBytes(): Uint8Array {
  return new Uint8Array(new Float32Array(seededValues(108, 1)).buffer);
}

/**
 * Two stride-2 conv + ReLU stages (14×14 → 7×7 → 4×4), GlobalAveragePool and a 3-class Gemm, with fixed
 * pseudo-random weights: CAMs at two resolutions, both upsampled by non-integer factors (2, 3.5).
 */
export function tinyStridedCnn(): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['batch', 3, 14, 14] }],
    outputs: [{ name: 'logits', shape: ['batch', 3] }],
    initializers: [
      { name: 'conv1.weight', dims: [4, 3, 3, 3], values: seededValues(108, 11) },
      { name: 'conv1.bias', dims: [4], values: seededValues(4, 12) },
      { name: 'conv2.weight', dims: [6, 4, 3, 3], values: seededValues(216, 13) },
      { name: 'conv2.bias', dims: [6], values: seededValues(6, 14) },
      { name: 'fc.weight', dims: [3, 6], values: seededValues(18, 15) },
      { name: 'fc.bias', dims: [3], values: [0.1, -0.2, 0.3] },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['input', 'conv1.weight', 'conv1.bias'],
        outputs: ['conv1'],
        attrs: { pads: [1, 1, 1, 1], strides: [2, 2] },
      },
      { op: 'Relu', inputs: ['conv1'], outputs: ['features1'] },
      {
        op: 'Conv',
        inputs: ['features1', 'conv2.weight', 'conv2.bias'],
        outputs: ['conv2'],
        attrs: { pads: [1, 1, 1, 1], strides: [2, 2] },
      },
      { op: 'Relu', inputs: ['conv2'], outputs: ['features2'] },
      { op: 'GlobalAveragePool', inputs: ['features2'], outputs: ['pooled'] },
      { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
      { op: 'Gemm', inputs: ['flat', 'fc.weight', 'fc.bias'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  });
}

/**
 * An image + question model: Conv → ReLU (`features` [N, 4, 8, 8]) → GlobalAveragePool → Flatten,
 * times the mean embedding of `tokens` (int64 [N, 3], a 10 × 4 table), → a 3-class Gemm. The answer
 * (and every map) depends on the question.
 */
export function tinyTwoInputModel(): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [
      { name: 'image', shape: ['batch', 3, 8, 8] },
      { name: 'tokens', dtype: 'int64', shape: ['batch', 3] },
    ],
    outputs: [{ name: 'logits', shape: ['batch', 3] }],
    initializers: [
      { name: 'conv.weight', dims: [4, 3, 3, 3], values: seededValues(108, 21) },
      { name: 'conv.bias', dims: [4], values: seededValues(4, 22) },
      { name: 'embedding', dims: [10, 4], values: seededValues(40, 23) },
      { name: 'fc.weight', dims: [3, 4], values: TWO_INPUT_FC },
      { name: 'fc.bias', dims: [3], values: [0.1, -0.2, 0.3] },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['image', 'conv.weight', 'conv.bias'],
        outputs: ['conv'],
        attrs: { pads: [1, 1, 1, 1] },
      },
      { op: 'Relu', inputs: ['conv'], outputs: ['features'] },
      { op: 'GlobalAveragePool', inputs: ['features'], outputs: ['pooled'] },
      { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
      { op: 'Gather', inputs: ['embedding', 'tokens'], outputs: ['embedded'] },
      { op: 'ReduceMean', inputs: ['embedded'], outputs: ['question'], attrs: { axes: [1], keepdims: 0 } },
      { op: 'Mul', inputs: ['flat', 'question'], outputs: ['joint'] },
      { op: 'Gemm', inputs: ['joint', 'fc.weight', 'fc.bias'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  });
}

export const TWO_INPUT_FC = seededValues(12, 24);
export const TWO_INPUT_EMBEDDING = seededValues(40, 23);
