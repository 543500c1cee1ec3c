// From per-layer CAMs at feature resolution to one map per row at input resolution, exactly as
// pytorch-grad-cam does it (reference-semantics.md b1):
//   per layer: ReLU → min-max (x − min)/(max + 1e-7) at feature resolution → bilinear (OpenCV) resize
//   fused:     ReLU → mean over layers → min-max again.
// Normalisation 'per-image' is that; 'none' skips both min-max steps (raw ReLU'd maps, resized and
// averaged); 'batch' uses one min and max over all rows, so maps of a batch can be compared.

import { resizeBilinearPlanes } from '../image/upsample.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';

export type Normalization = 'per-image' | 'none' | 'batch';
export const NORMALIZATIONS: readonly Normalization[] = ['per-image', 'none', 'batch'];

const EPS = 1e-7;

/** pytorch-grad-cam's scale_cam_image without the resize: per row, or over the whole batch. */
export function minMax(t: Float32Tensor, mode: Normalization, inPlace = false): Float32Tensor {
  if (mode === 'none') return t;
  const rows = t.dims[0]!;
  const size = t.data.length / rows;
  const out = inPlace ? t.data : new Float32Array(t.data.length);
  const ranges = Array.from({ length: rows }, (_, r) => range(t.data.subarray(r * size, (r + 1) * size)));
  const global = ranges.reduce((a, b) => ({ min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) }), {
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
  });
  for (let r = 0; r < rows; r++) {
    const { min, max } = mode === 'batch' ? global : ranges[r]!;
    // float32 as numpy: x − min, then / (1e-7 + max(x − min)).
    const f32min = Math.fround(min);
    const denom = Math.fround(EPS + Math.fround(Math.fround(max) - f32min));
    for (let i = r * size; i < (r + 1) * size; i++)
      out[i] = Math.fround(Math.fround(t.data[i]! - f32min) / denom);
  }
  return { dtype: 'float32', dims: t.dims, data: out };
}

function range(a: Float32Array): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

export function relu(t: Float32Tensor): Float32Tensor {
  return { dtype: 'float32', dims: t.dims, data: t.data.map((v) => Math.max(v, 0)) };
}

/** Bilinear resize (half-pixel centres, OpenCV INTER_LINEAR) of every row of [M, h, w] to [M, H, W]. */
export function upsampleRows(t: Float32Tensor, height: number, width: number): Float32Tensor {
  const [m, h, w] = t.dims as [number, number, number];
  return {
    dtype: 'float32',
    dims: [m, height, width],
    data: resizeBilinearPlanes(t.data, w, h, m, width, height),
  };
}

/** Per-layer raw CAMs → one [M, H, W] map per row (see the header). */
export function fuseLayers(
  perLayer: ReadonlyMap<string, Float32Tensor>,
  height: number,
  width: number,
  mode: Normalization,
): Float32Tensor {
  const layers = [...perLayer.values()];
  const rows = layers[0]!.dims[0]!;
  // With one layer the upsampled map is the result; with several, their mean. Few allocations: this
  // runs for every (image, target) row.
  let sum: Float32Array | undefined;
  for (const cam of layers) {
    const up = upsampleRows(minMax(relu(cam), mode), height, width).data;
    reluInPlace(up);
    if (!sum) sum = up;
    else for (let i = 0; i < sum.length; i++) sum[i]! += up[i]!;
  }
  if (layers.length > 1)
    for (let i = 0; i < sum!.length; i++) sum![i] = Math.fround(sum![i]! / layers.length);
  return minMax({ dtype: 'float32', dims: [rows, height, width], data: sum! }, mode, true);
}

function reluInPlace(a: Float32Array): void {
  for (let i = 0; i < a.length; i++) if (a[i]! < 0) a[i] = 0;
}
