// The rows of one explain() call: each (image, target) row's input, repeated per SmoothGrad sample
// (with deterministic noise), and the plan for what the gradient runs are fed.

import type { MethodResult } from '../methods/types.ts';
import type { TargetRow, TargetValues } from '../targets/index.ts';
import { type Feeds, sliceFeeds } from '../tensor/rows.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';

export interface SmoothOptions {
  readonly samples: number;
  /** σ as a fraction of the input's range. */
  readonly noise: number;
  readonly seed?: number;
}

/**
 * Rows × samples copies of T's values, and of the input (noisy for SmoothGrad) made on first call:
 * a one-run explanation never reads them (its run already repeated the images in the graph).
 */
export function expandRows(
  batch: Float32Tensor,
  values: Float32Tensor,
  rows: readonly TargetRow[],
  samples: number,
  smooth: SmoothOptions | undefined,
): { input: () => Float32Tensor; values: Float32Tensor; rows: TargetRow[] } {
  const vsize = values.data.length / values.dims[0]!;
  const m = rows.length * samples;
  const vals = new Float32Array(m * vsize);
  const out: TargetRow[] = [];
  rows.forEach((row, r) => {
    for (let s = 0; s < samples; s++) {
      vals.set(values.data.subarray(row.image * vsize, (row.image + 1) * vsize), (r * samples + s) * vsize);
      out.push(row);
    }
  });
  let input: Float32Tensor | undefined;
  return {
    input: () => {
      input ??= expandInput(batch, rows, samples, smooth);
      return input;
    },
    values: { dtype: 'float32', dims: [m, ...values.dims.slice(1)], data: vals },
    rows: out,
  };
}

function expandInput(
  batch: Float32Tensor,
  rows: readonly TargetRow[],
  samples: number,
  smooth: SmoothOptions | undefined,
): Float32Tensor {
  const size = batch.data.length / batch.dims[0]!;
  const m = rows.length * samples;
  const input = new Float32Array(m * size);
  let state = smooth?.seed ?? 1;
  const gauss = () => {
    // Box–Muller on a small LCG: deterministic noise for reproducible SmoothGrad maps.
    const u = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return (state + 1) / 4294967297;
    };
    return Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  };
  rows.forEach((row, r) => {
    const src = batch.data.subarray(row.image * size, (row.image + 1) * size);
    let sigma = 0;
    if (samples > 1 && smooth?.noise) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let p = 0; p < src.length; p++) {
        const v = src[p]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      sigma = smooth.noise * (hi - lo);
    }
    for (let s = 0; s < samples; s++) {
      const dst = input.subarray((r * samples + s) * size, (r * samples + s + 1) * size);
      if (samples === 1) dst.set(src);
      else for (let p = 0; p < size; p++) dst[p] = src[p]! + sigma * gauss();
    }
  });
  return { dtype: 'float32', dims: [m, ...batch.dims.slice(1)], data: input };
}

/** Feed each image once when every image has the same number of contiguous rows (and no noise). */
export function forwardPlan(
  batch: Float32Tensor,
  rows: readonly TargetRow[],
  samples: number,
  expanded: () => Float32Tensor,
): { input: () => Float32Tensor; repeat: number } {
  const n = batch.dims[0]!;
  const r = rows.length / n;
  const uniform =
    samples === 1 && Number.isInteger(r) && r > 1 && rows.every((row, i) => row.image === Math.floor(i / r));
  return uniform ? { input: () => batch, repeat: r } : { input: expanded, repeat: 1 };
}

/** Mean over each row's consecutive samples (SmoothGrad); identity for one sample. */
export function averageSamples(r: MethodResult, samples: number): MethodResult {
  if (samples === 1) return r;
  const avg = (t: Float32Tensor): Float32Tensor => {
    const m = t.dims[0]! / samples;
    const size = t.data.length / t.dims[0]!;
    const out = new Float32Array(m * size);
    for (let i = 0; i < m; i++) {
      for (let s = 0; s < samples; s++) {
        const src = t.data.subarray((i * samples + s) * size, (i * samples + s + 1) * size);
        for (let p = 0; p < size; p++) out[i * size + p]! += src[p]! / samples;
      }
    }
    return { dtype: 'float32', dims: [m, ...t.dims.slice(1)], data: out };
  };
  if (r.kind === 'pixels') return { kind: 'pixels', pixels: avg(r.pixels) };
  return { kind: 'cam', perLayer: new Map([...r.perLayer].map(([k, v]) => [k, avg(v)])) };
}

/**
 * What each of `targets` targets sees of each image of the batch, from X and T [N, ...] (the same
 * values for every target): rows of both, their dims, the model input's size and the original's.
 */
export function perImageValues(
  x: Float32Tensor,
  t: Float32Tensor,
  targets: number,
  batch: Float32Tensor,
  originalSizes: readonly (readonly [number, number])[] | undefined,
  labels: readonly string[] | undefined,
  feeds?: Feeds,
): Omit<TargetValues, 'image'>[][] {
  const n = batch.dims[0]!;
  const xs = x.data.length / n;
  const ts = t.data.length / n;
  const inputSize = [batch.dims[batch.dims.length - 2]!, batch.dims[batch.dims.length - 1]!] as const;
  return Array.from({ length: n }, (_, i) => {
    const v = {
      x: x.data.subarray(i * xs, (i + 1) * xs),
      xDims: x.dims.slice(1),
      t: t.data.subarray(i * ts, (i + 1) * ts),
      tDims: t.dims.slice(1),
      labels,
      inputSize,
      originalSize: originalSizes?.[i],
      // Each image's own row of the extra inputs (its caption's or question's tokens).
      ...(feeds && Object.keys(feeds).length ? { feeds: sliceFeeds(feeds, i, 1) } : {}),
    };
    return Array.from({ length: targets }, () => v);
  });
}
