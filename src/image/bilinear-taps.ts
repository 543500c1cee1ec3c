// The sampling of OpenCV's INTER_LINEAR (half-pixel centres, edges clamped): for each output index its
// two source indices and float32 weights, shared by upsample.ts and its WebAssembly kernels
// (wasm/map-simd.ts). Internal: not part of the library's API.

import type { FloatMap } from './upsample.ts';

/** Per output index: the two source indices and their weights. */
export interface Taps {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly a0: Float32Array;
  readonly a1: Float32Array;
}

const f = Math.fround;

/** Source taps per output index; edges clamp (OpenCV sets the weight to 0 past the border). */
export function taps(inSize: number, outSize: number): Taps {
  // OpenCV computes the scale as 1 / (out / in) in double.
  const scale = 1 / (outSize / inSize);
  const t: Taps = {
    i0: new Int32Array(outSize),
    i1: new Int32Array(outSize),
    a0: new Float32Array(outSize),
    a1: new Float32Array(outSize),
  };
  for (let d = 0; d < outSize; d++) {
    let fx = f((d + 0.5) * scale - 0.5);
    let sx = Math.floor(fx);
    fx = f(fx - sx);
    if (sx < 0) {
      sx = 0;
      fx = 0;
    }
    if (sx >= inSize - 1) {
      sx = inSize - 1;
      fx = 0;
    }
    t.i0[d] = sx;
    t.i1[d] = Math.min(sx + 1, inSize - 1);
    t.a0[d] = f(1 - fx);
    t.a1[d] = fx;
  }
  return t;
}

/** A RangeError for a target size that is not positive integers or a map whose values do not fit it. */
export function checkBilinear(src: FloatMap, width: number, height: number, channels: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`resize target must be positive integers, got ${width}x${height}`);
  }
  if (src.data.length !== src.width * src.height * channels || src.width <= 0 || src.height <= 0) {
    throw new RangeError(
      `float map ${src.width}x${src.height}x${channels} does not match its ${src.data.length} values`,
    );
  }
}
