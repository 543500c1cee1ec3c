// The platform-neutral tensor: a typed array plus its dims, row-major (C order). Every stage passes
// these around; only the runtime converts them to and from ONNX Runtime's own tensor class.

import { GradsightError } from '../errors.ts';

export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string';

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export interface Tensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TypedArray;
}

export interface Float32Tensor extends Tensor {
  readonly dtype: 'float32';
  readonly data: Float32Array;
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function float32(data: Float32Array, dims: readonly number[]): Float32Tensor {
  return checkFloat32Tensor({ dtype: 'float32', dims: [...dims], data });
}

/**
 * Checks a float32 tensor given to the library: whole dims ≥ 0, a Float32Array, and as many values
 * as the dims say ('shape-mismatch' otherwise; 'bad-argument' for what is not such a tensor at all).
 */
export function checkFloat32Tensor(t: unknown, what = 'the tensor'): Float32Tensor {
  const { dtype, dims, data } = (t ?? {}) as Partial<Float32Tensor>;
  const hint =
    "a Float32Tensor is { dtype: 'float32', dims: [N, C, H, W], data: Float32Array of N·C·H·W values }";
  if (!Array.isArray(dims) || dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new GradsightError(
      'bad-argument',
      `${what} has dims ${JSON.stringify(dims)}; they must be whole numbers ≥ 0`,
      {
        hint,
      },
    );
  }
  if (dtype !== 'float32' || !(data instanceof Float32Array)) {
    throw new GradsightError('bad-argument', `${what} must be float32 with a Float32Array as its data`, {
      hint,
    });
  }
  if (data.length !== sizeOf(dims)) {
    throw new GradsightError(
      'shape-mismatch',
      `${what} has ${data.length} values but its dims [${dims.join(', ')}] need ${sizeOf(dims)}`,
      { hint, details: { dims, length: data.length } },
    );
  }
  return t as Float32Tensor;
}

/** Copies row `i` (the i-th slice along axis 0) out of a batched float tensor. */
export function row(t: Float32Tensor, i: number): Float32Array {
  const stride = sizeOf(t.dims.slice(1));
  return t.data.slice(i * stride, (i + 1) * stride);
}

/** Numerically stable softmax over a vector. */
export function softmax(logits: ArrayLike<number>): Float32Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** Indices of the k largest values, largest first; ties keep the lower index first. */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const n = Math.max(0, Math.min(k, values.length));
  // The order of a full sort by (value descending, index ascending); NaN compares as a tie.
  const before = (a: number, b: number) => (values[b]! - values[a]! || a - b) < 0;
  if (n > 32) {
    const idx = Array.from({ length: values.length }, (_, i) => i);
    idx.sort((a, b) => values[b]! - values[a]! || a - b);
    return idx.slice(0, n);
  }
  // Few picks (top-5 of 1000 classes, on every call): keep the best n in order, O(length · n).
  const best: number[] = [];
  for (let i = 0; i < values.length && n > 0; i++) {
    if (best.length === n && !before(i, best[n - 1]!)) continue;
    let j = best.length === n ? n - 1 : best.length;
    while (j > 0 && before(i, best[j - 1]!)) {
      best[j] = best[j - 1]!;
      j--;
    }
    best[j] = i;
  }
  return best;
}
