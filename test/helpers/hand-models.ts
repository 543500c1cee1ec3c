// Tiny models with hand-picked weights, for tests that compute the expected maps by hand: 3-channel
// inputs, 1×1 convolutions, and heads whose gradient at the feature map is known in closed form.
// Also small float64 helpers for the tests' own arithmetic (never gradsight's code).

import { Explainer, type ExplainResult, type Explanation } from '../../src/explain/explainer.ts';
import type { MethodId } from '../../src/methods/types.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { buildModel, type NodeSpec } from './onnx-builder.ts';

export interface GapModelSpec {
  /** 1×1 conv weights [C][3] (default: identity, C = 3). */
  readonly conv?: readonly (readonly number[])[];
  readonly convBias?: readonly number[];
  /** Stride of the 1×1 conv (2 keeps the pixels at even positions). */
  readonly stride?: number;
  /** Relu after the conv (default true): features = Relu(conv). */
  readonly relu?: boolean;
  /** Linear head [K][C]. */
  readonly fc: readonly (readonly number[])[];
  readonly fcBias?: readonly number[];
  /** Input height = width. */
  readonly size: number;
  /** 'gap' (default), 'gap-relu' (a Relu after the Gemm), 'max' (GlobalMaxPool instead of GAP). */
  readonly head?: 'gap' | 'gap-relu' | 'max';
  /** Declare value_info for 'conv' and 'features' (default true; exporters usually do). */
  readonly valueInfo?: boolean;
}

const IDENTITY = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

/**
 * input [N,3,s,s] → Conv 1×1 → 'conv' → Relu → 'features' → GlobalAveragePool → Flatten → Gemm →
 * 'logits' [N,K]; so ∂y_c/∂features[k,i,j] = fc[c][k]/(h·w) exactly.
 */
export function gapModel(spec: GapModelSpec): Uint8Array {
  const conv = spec.conv ?? IDENTITY;
  const c = conv.length;
  const k = spec.fc.length;
  const relu = spec.relu ?? true;
  const head = spec.head ?? 'gap';
  const feat = relu ? 'features' : 'conv';
  const fs = Math.ceil(spec.size / (spec.stride ?? 1));
  const nodes: NodeSpec[] = [
    {
      op: 'Conv',
      name: 'conv1x1',
      inputs: ['input', 'conv.weight', 'conv.bias'],
      outputs: ['conv'],
      attrs: { kernel_shape: [1, 1], strides: [spec.stride ?? 1, spec.stride ?? 1] },
    },
    ...(relu ? [{ op: 'Relu', name: 'relu', inputs: ['conv'], outputs: ['features'] }] : []),
    {
      op: head === 'max' ? 'GlobalMaxPool' : 'GlobalAveragePool',
      name: 'pool',
      inputs: [feat],
      outputs: ['pooled'],
    },
    { op: 'Flatten', name: 'flatten', inputs: ['pooled'], outputs: ['flat'] },
    {
      op: 'Gemm',
      name: 'fc',
      inputs: ['flat', 'fc.weight', 'fc.bias'],
      outputs: [head === 'gap-relu' ? 'fc' : 'logits'],
      attrs: { transB: 1 },
    },
    ...(head === 'gap-relu' ? [{ op: 'Relu', name: 'head_relu', inputs: ['fc'], outputs: ['logits'] }] : []),
  ];
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['batch', 3, spec.size, spec.size] }],
    outputs: [{ name: 'logits', shape: ['batch', k] }],
    initializers: [
      { name: 'conv.weight', dims: [c, 3, 1, 1], values: conv.flat() },
      { name: 'conv.bias', dims: [c], values: spec.convBias ?? new Array(c).fill(0) },
      { name: 'fc.weight', dims: [k, c], values: spec.fc.flat() },
      { name: 'fc.bias', dims: [k], values: spec.fcBias ?? new Array(k).fill(0) },
    ],
    nodes,
    valueInfo:
      spec.valueInfo === false
        ? []
        : ['conv', ...(relu ? ['features'] : [])].map((name) => ({ name, shape: ['batch', c, fs, fs] })),
  });
}

/**
 * input [N,3,s,s] → Conv 1×1 identity → 'features' (no Relu: the features can be negative) → Flatten →
 * Gemm → 'logits' [N,K]: ∂y_c/∂features[k,p] = fc[c][k·s·s + p], a gradient that varies in space.
 */
export function denseModel(fc: readonly (readonly number[])[], size: number, fcBias?: readonly number[]) {
  const k = fc.length;
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['batch', 3, size, size] }],
    outputs: [{ name: 'logits', shape: ['batch', k] }],
    initializers: [
      { name: 'conv.weight', dims: [3, 3, 1, 1], values: IDENTITY.flat() },
      { name: 'conv.bias', dims: [3], values: [0, 0, 0] },
      { name: 'fc.weight', dims: [k, 3 * size * size], values: fc.flat() },
      { name: 'fc.bias', dims: [k], values: fcBias ?? new Array(k).fill(0) },
    ],
    nodes: [
      {
        op: 'Conv',
        name: 'conv1x1',
        inputs: ['input', 'conv.weight', 'conv.bias'],
        outputs: ['features'],
        attrs: { kernel_shape: [1, 1] },
      },
      { op: 'Flatten', name: 'flatten', inputs: ['features'], outputs: ['flat'] },
      {
        op: 'Gemm',
        name: 'fc',
        inputs: ['flat', 'fc.weight', 'fc.bias'],
        outputs: ['logits'],
        attrs: { transB: 1 },
      },
    ],
    valueInfo: [{ name: 'features', shape: ['batch', 3, size, size] }],
  });
}

export async function explainerFor(bytes: Uint8Array, labels?: readonly string[]): Promise<Explainer> {
  const model = await ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes), labels });
  return Explainer.fromModel(model);
}

/** [N,3,s,s] from per-image, per-channel s×s arrays (row-major, flattened). */
export function inputTensor(
  images: readonly (readonly (readonly number[])[])[],
  size: number,
): Float32Tensor {
  const data = Float32Array.from(images.flatMap((img) => img.flat()));
  return { dtype: 'float32', dims: [images.length, 3, size, size], data };
}

/** The explanations of one method, in row order. */
export function rowsOf(r: ExplainResult, method: MethodId): Explanation[] {
  return r.explanations.filter((e) => e.method === method);
}

/** The final map (CAM methods) or pixel map of one method's row. */
export function mapOf(r: ExplainResult, method: MethodId, row = 0): Float32Array {
  const e = rowsOf(r, method)[row];
  if (!e) throw new Error(`no row ${row} for ${method}`);
  return (e.map ?? e.pixels)!;
}

// ---- the tests' own float64 arithmetic ----

export const relu = (xs: readonly number[]): number[] => xs.map((v) => Math.max(v, 0));
export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
export const mean = (xs: readonly number[]): number => sum(xs) / xs.length;

/** pytorch-grad-cam's scale_cam_image without resize: (x − min) / (max(x − min) + 1e-7). */
export function minMax(xs: readonly number[], lo = Math.min(...xs), hi = Math.max(...xs)): number[] {
  return xs.map((v) => (v - lo) / (hi - lo + 1e-7));
}

/** Σ_k w_k · A_k over channel planes. */
export function weighted(planes: readonly (readonly number[])[], w: readonly number[]): number[] {
  return planes[0]!.map((_, p) => sum(planes.map((a, k) => w[k]! * a[p]!)));
}

/** Fails with both arrays printed when max |got − want| > tol. */
export function assertClose(
  got: ArrayLike<number>,
  want: readonly number[],
  tol: number,
  what: string,
): void {
  const d = maxAbsDiff(got, want);
  if (!(d <= tol))
    throw new Error(`${what}: max |Δ| ${d}\n got  ${Array.from(got).join(', ')}\n want ${want.join(', ')}`);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// ---- the "blocks" image on gapModel({ fc: BLOCK_FC, size: 4 }) (identity conv, Relu) ----

/** Class weights: class 0 mixes signs, class 1 too, class 2 is all negative. */
export const BLOCK_FC = [
  [1, 2, -1],
  [-1, 0.5, 2],
  [-2, -1, -0.5],
];
const o = -1;
/**
 * features = Relu(input): channel 0 is 4 on the top-left 2×2 block, channel 1 is 1 on the top-right
 * block, channel 2 is 2 at (0,0) and 8 on the bottom half; −1 (so 0 after the Relu) elsewhere.
 */
export const BLOCK_IMAGE = [
  [4, 4, o, o, 4, 4, o, o, o, o, o, o, o, o, o, o],
  [o, o, 1, 1, o, o, 1, 1, o, o, o, o, o, o, o, o],
  [2, o, o, o, o, o, o, o, 8, 8, 8, 8, 8, 8, 8, 8],
];

// ---- denseModel(DENSE_FC, 3): a Flatten + Gemm head over signed 3×3 features, 4 classes ----

/** fc[c][k·9 + p] = ((7i + 5c) mod 11 − 5)/4 (exact in float32; no channel's mean is 0 for every class). */
export const DENSE_FC = Array.from({ length: 4 }, (_, c) =>
  Array.from({ length: 27 }, (_, i) => (((i * 7 + c * 5) % 11) - 5) / 4),
);
/** input[k][p] = ((5(9k + p)) mod 11 − 5)/2, in [−2.5, 2.5]. */
export const DENSE_IMAGE = Array.from({ length: 3 }, (_, k) =>
  Array.from({ length: 9 }, (_, p) => ((((k * 9 + p) * 5) % 11) - 5) / 2),
);
