// Pure math on batched feature maps [M, C, h, w] (row-major float32): the building blocks of the CAM
// methods. Accumulations run in float64 and round once, so results are at least as exact as
// pytorch-grad-cam's float32 numpy.

import type { Float32Tensor } from './tensor.ts';

export interface MapDims {
  readonly m: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

export function mapDims(t: Float32Tensor): MapDims {
  const [m, c, h, w] = t.dims as [number, number, number, number];
  if (t.dims.length !== 4)
    throw new RangeError(`expected a [M, C, h, w] feature map, got [${t.dims.join(', ')}]`);
  return { m, c, h, w };
}

/** Mean over h, w for every (row, channel): [M·C]. */
export function spatialMean(t: Float32Tensor): Float64Array {
  return spatialSum(t).map((s) => s / (mapDims(t).h * mapDims(t).w));
}

/** Sum over h, w for every (row, channel): [M·C]. */
export function spatialSum(t: Float32Tensor): Float64Array {
  const { m, c, h, w } = mapDims(t);
  const hw = h * w;
  const out = new Float64Array(m * c);
  for (let i = 0; i < m * c; i++) {
    let s = 0;
    const base = i * hw;
    for (let p = 0; p < hw; p++) s += t.data[base + p]!;
    out[i] = s;
  }
  return out;
}

/** Σ_k weights[row, k] · A[row, k]: [M, h, w]. */
export function weightedChannelSum(a: Float32Tensor, weights: ArrayLike<number>): Float32Tensor {
  const { m, c, h, w } = mapDims(a);
  const hw = h * w;
  const out = new Float32Array(m * hw);
  const acc = new Float64Array(hw);
  for (let r = 0; r < m; r++) {
    acc.fill(0);
    for (let k = 0; k < c; k++) {
      const wk = weights[r * c + k]!;
      if (wk === 0) continue;
      const base = (r * c + k) * hw;
      for (let p = 0; p < hw; p++) acc[p]! += wk * a.data[base + p]!;
    }
    out.set(acc, r * hw);
  }
  return { dtype: 'float32', dims: [m, h, w], data: out };
}

/** Σ_k f(A[row, k, p], G[row, k, p]) over channels: [M, h, w]. */
export function channelSumOf(
  a: Float32Tensor,
  g: Float32Tensor,
  f: (a: number, g: number) => number,
): Float32Tensor {
  const { m, c, h, w } = mapDims(a);
  const hw = h * w;
  const out = new Float32Array(m * hw);
  const acc = new Float64Array(hw);
  for (let r = 0; r < m; r++) {
    acc.fill(0);
    for (let k = 0; k < c; k++) {
      const base = (r * c + k) * hw;
      for (let p = 0; p < hw; p++) acc[p]! += f(a.data[base + p]!, g.data[base + p]!);
    }
    out.set(acc, r * hw);
  }
  return { dtype: 'float32', dims: [m, h, w], data: out };
}

/** Elementwise f(A, G) as a new [M, C, h, w] map. */
export function zipMaps(
  a: Float32Tensor,
  g: Float32Tensor,
  f: (a: number, g: number) => number,
): Float32Tensor {
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[i]!, g.data[i]!);
  return { dtype: 'float32', dims: a.dims, data: out };
}

/**
 * Projection of each row's (hw × C) activation matrix, centred per channel, on its first right
 * singular vector: pytorch-grad-cam's get_2d_projection (Eigen-CAM). The singular vector comes from
 * power iteration on the Gram matrix. Its sign is arbitrary: `sign(x, hw, C, v)` returns ±1 for the
 * centred matrix x (row-major, one row per position) and v (methods/eigen-sign.ts gives LAPACK's).
 */
export function firstComponentProjection(
  t: Float32Tensor,
  sign: (x: Float64Array, rows: number, cols: number, v: Float64Array) => number,
): Float32Tensor {
  const { m, c, h, w } = mapDims(t);
  const hw = h * w;
  const out = new Float32Array(m * hw);
  for (let r = 0; r < m; r++) {
    // x: hw × C, centred per channel; NaN → 0 as in the reference.
    const x = new Float64Array(hw * c);
    for (let k = 0; k < c; k++) {
      const base = (r * c + k) * hw;
      let mean = 0;
      for (let p = 0; p < hw; p++) {
        const v = t.data[base + p]!;
        mean += Number.isNaN(v) ? 0 : v;
      }
      mean /= hw;
      for (let p = 0; p < hw; p++) {
        const v = t.data[base + p]!;
        x[p * c + k] = (Number.isNaN(v) ? 0 : v) - mean;
      }
    }
    const v = topRightSingularVector(x, hw, c);
    const s = sign(x, hw, c, v);
    for (let p = 0; p < hw; p++) {
      let dot = 0;
      for (let k = 0; k < c; k++) dot += x[p * c + k]! * v[k]!;
      out[r * hw + p] = s * dot;
    }
  }
  return { dtype: 'float32', dims: [m, h, w], data: out };
}

/** Top right singular vector of x (n × c): power iteration on xᵀx via the smaller Gram matrix. */
function topRightSingularVector(x: Float64Array, n: number, c: number): Float64Array {
  // Iterate on the n × n matrix x·xᵀ (n = h·w is small for CAM layers), then v = xᵀu / |xᵀu|. Real
  // activations converge in tens of steps; the cap serves nearly equal top singular values.
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < c; k++) s += x[i * c + k]! * x[j * c + k]!;
      gram[i * n + j] = s;
      gram[j * n + i] = s;
    }
  }
  let u = new Float64Array(n).map((_, i) => 1 + i / n);
  for (let it = 0; it < 20000; it++) {
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += gram[i * n + j]! * u[j]!;
      next[i] = s;
    }
    const norm = Math.hypot(...next) || 1;
    let delta = 0;
    for (let i = 0; i < n; i++) {
      next[i]! /= norm;
      delta = Math.max(delta, Math.abs(next[i]! - u[i]!));
    }
    u = next;
    if (delta < 1e-13) break;
  }
  const v = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i * c + k]! * u[i]!;
    v[k] = s;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((e) => e / norm);
}
