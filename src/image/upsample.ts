// Bilinear resize of float maps with half-pixel centres and no antialiasing: OpenCV's INTER_LINEAR (what
// pytorch-grad-cam uses to bring a CAM to input size) and torch's interpolate(align_corners=False).
// Arithmetic is float32 at each step, horizontal pass then vertical, to follow OpenCV's float path.

export interface FloatMap {
  readonly width: number;
  readonly height: number;
  /** Row-major HW (or HWC with `channels` > 1, interleaved). */
  readonly data: Float32Array;
}

interface Taps {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly a0: Float32Array;
  readonly a1: Float32Array;
}

const f = Math.fround;

/** Source taps per output index; edges clamp (OpenCV sets the weight to 0 past the border). */
function taps(inSize: number, outSize: number): Taps {
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

/** `into`: where the output goes (height · width · channels values; a new array when absent). */
export function resizeBilinearFloat(
  src: FloatMap,
  width: number,
  height: number,
  channels = 1,
  into?: Float32Array,
): FloatMap {
  const c = channels;
  if (into && into.length !== height * width * c) {
    throw new RangeError(`resize output has ${into.length} values, not ${height}x${width}x${c}`);
  }
  const out = into ?? new Float32Array(height * width * c);
  bilinearRows(src, width, height, c, (y, tmp, r0, r1, b0, b1) => {
    const o = y * width * c;
    for (let i = 0; i < width * c; i++) out[o + i] = f(f(tmp[r0 + i]! * b0) + f(tmp[r1 + i]! * b1));
  });
  return { width, height, data: out };
}

/**
 * resizeBilinearFloat of each of `planes` consecutive w × h planes of `data` (CHW channels, or the
 * rows of an [M, h, w] batch) to width × height, written one after another into one array.
 */
export function resizeBilinearPlanes(
  data: Float32Array,
  w: number,
  h: number,
  planes: number,
  width: number,
  height: number,
): Float32Array {
  const out = new Float32Array(planes * height * width);
  for (let p = 0; p < planes; p++) {
    const src = { width: w, height: h, data: data.subarray(p * h * w, (p + 1) * h * w) };
    resizeBilinearFloat(src, width, height, 1, out.subarray(p * height * width, (p + 1) * height * width));
  }
  return out;
}

/**
 * resizeBilinearFloat's output rows without the output: the horizontal pass `tmp` over every source
 * row, then for each output row y its two rows' offsets in `tmp` and their weights, so that row y is
 * `f(f(tmp[r0 + i] · b0) + f(tmp[r1 + i] · b1))` for i < width · channels. A caller that turns values
 * into something smaller (colormap indices) consumes each row as it comes, without the float image.
 */
export function bilinearRows(
  src: FloatMap,
  width: number,
  height: number,
  channels: number,
  row: (y: number, tmp: Float32Array, r0: number, r1: number, b0: number, b1: number) => void,
): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`resize target must be positive integers, got ${width}x${height}`);
  }
  if (src.data.length !== src.width * src.height * channels || src.width <= 0 || src.height <= 0) {
    throw new RangeError(
      `float map ${src.width}x${src.height}x${channels} does not match its ${src.data.length} values`,
    );
  }
  const tx = taps(src.width, width);
  const ty = taps(src.height, height);
  const c = channels;
  // Horizontal pass over every source row.
  const tmp = new Float32Array(src.height * width * c);
  const d = src.data;
  for (let y = 0; y < src.height; y++) {
    const row = y * src.width * c;
    if (c === 1) {
      // One channel (every CAM): the same arithmetic without the channel loop.
      const o = y * width;
      for (let x = 0; x < width; x++) {
        tmp[o + x] = f(f(d[row + tx.i0[x]!]! * tx.a0[x]!) + f(d[row + tx.i1[x]!]! * tx.a1[x]!));
      }
      continue;
    }
    for (let x = 0; x < width; x++) {
      const p0 = row + tx.i0[x]! * c;
      const p1 = row + tx.i1[x]! * c;
      const a0 = tx.a0[x]!;
      const a1 = tx.a1[x]!;
      for (let k = 0; k < c; k++) {
        tmp[(y * width + x) * c + k] = f(f(d[p0 + k]! * a0) + f(d[p1 + k]! * a1));
      }
    }
  }
  for (let y = 0; y < height; y++) {
    row(y, tmp, ty.i0[y]! * width * c, ty.i1[y]! * width * c, ty.a0[y]!, ty.a1[y]!);
  }
}

/**
 * Bilinear resize with align_corners=True (corner pixels map to corner pixels): torch's
 * UpsamplingBilinear2d, which pytorch-grad-cam's Score-CAM uses to upsample activations.
 */
export function resizeBilinearAlignCorners(src: FloatMap, width: number, height: number): FloatMap {
  const coords = (inSize: number, outSize: number) => {
    const scale = outSize > 1 ? f((inSize - 1) / (outSize - 1)) : 0;
    const i0 = new Int32Array(outSize);
    const i1 = new Int32Array(outSize);
    const a1 = new Float32Array(outSize);
    for (let d = 0; d < outSize; d++) {
      const x = f(scale * d);
      const lo = Math.min(Math.floor(x), inSize - 1);
      i0[d] = lo;
      i1[d] = Math.min(lo + 1, inSize - 1);
      a1[d] = f(x - lo);
    }
    return { i0, i1, a1 };
  };
  const cx = coords(src.width, width);
  const cy = coords(src.height, height);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const wy = cy.a1[y]!;
    const r0 = cy.i0[y]! * src.width;
    const r1 = cy.i1[y]! * src.width;
    for (let x = 0; x < width; x++) {
      const wx = cx.a1[x]!;
      const c0 = cx.i0[x]!;
      const c1 = cx.i1[x]!;
      const top = f(f(f(1 - wx) * src.data[r0 + c0]!) + f(wx * src.data[r0 + c1]!));
      const bottom = f(f(f(1 - wx) * src.data[r1 + c0]!) + f(wx * src.data[r1 + c1]!));
      out[y * width + x] = f(f(f(1 - wy) * top) + f(wy * bottom));
    }
  }
  return { width, height, data: out };
}
