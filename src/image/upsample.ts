// Bilinear resize of float maps with half-pixel centres and no antialiasing: OpenCV's INTER_LINEAR (what
// pytorch-grad-cam uses to bring a CAM to input size) and torch's interpolate(align_corners=False).
// Arithmetic is float32 at each step, horizontal pass then vertical, to follow OpenCV's float path.

import { checkBilinear, taps } from './bilinear-taps.ts';

export interface FloatMap {
  readonly width: number;
  readonly height: number;
  /** Row-major HW (or HWC with `channels` > 1, interleaved). */
  readonly data: Float32Array;
}

const f = Math.fround;

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
  const plan = bilinearPlan(src, width, height, c);
  for (let y = 0; y < height; y++) blendRow(plan, y, out, y * width * c);
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
 * row, and for each output row y the offsets in `tmp` of its two source rows (r0, r1) and their
 * weights (b0, b1), so that row y is `f(f(tmp[r0[y] + i] · b0[y]) + f(tmp[r1[y] + i] · b1[y]))` for
 * i < rowLength. A caller that turns values into something smaller (colormap indices) consumes each
 * row as it comes, without the float image. A class, so that the loops over it see one shape.
 */
export class BilinearPlan {
  constructor(
    readonly tmp: Float32Array,
    readonly r0: Int32Array,
    readonly r1: Int32Array,
    readonly b0: Float32Array,
    readonly b1: Float32Array,
    /** Values per output row: width · channels. */
    readonly rowLength: number,
  ) {}
}

export function bilinearPlan(src: FloatMap, width: number, height: number, channels: number): BilinearPlan {
  checkBilinear(src, width, height, channels);
  const tx = taps(src.width, width);
  const ty = taps(src.height, height);
  const c = channels;
  const tmp = new Float32Array(src.height * width * c);
  // The hot loops take only arrays and numbers (never a caller's objects), so V8 optimizes them once.
  if (c === 1) horizontalPass1(src.data, src.width, src.height, width, tx.i0, tx.i1, tx.a0, tx.a1, tmp);
  else horizontalPass(src.data, src.width, src.height, c, width, tx.i0, tx.i1, tx.a0, tx.a1, tmp);
  const r0 = new Int32Array(height);
  const r1 = new Int32Array(height);
  for (let y = 0; y < height; y++) {
    r0[y] = ty.i0[y]! * width * c;
    r1[y] = ty.i1[y]! * width * c;
  }
  return new BilinearPlan(tmp, r0, r1, ty.a0, ty.a1, width * c);
}

/** Row y of the plan's output, written to `out` from `o`. */
export function blendRow(p: BilinearPlan, y: number, out: Float32Array, o: number): void {
  const { tmp, rowLength } = p;
  const r0 = p.r0[y]!;
  const r1 = p.r1[y]!;
  const b0 = p.b0[y]!;
  const b1 = p.b1[y]!;
  for (let i = 0; i < rowLength; i++) out[o + i] = f(f(tmp[r0 + i]! * b0) + f(tmp[r1 + i]! * b1));
}

/** The horizontal pass of one channel (every CAM): the same arithmetic without the channel loop. */
function horizontalPass1(
  d: Float32Array,
  sw: number,
  sh: number,
  width: number,
  i0: Int32Array,
  i1: Int32Array,
  a0: Float32Array,
  a1: Float32Array,
  tmp: Float32Array,
): void {
  for (let y = 0; y < sh; y++) {
    const row = y * sw;
    const o = y * width;
    for (let x = 0; x < width; x++)
      tmp[o + x] = f(f(d[row + i0[x]!]! * a0[x]!) + f(d[row + i1[x]!]! * a1[x]!));
  }
}

function horizontalPass(
  d: Float32Array,
  sw: number,
  sh: number,
  c: number,
  width: number,
  i0: Int32Array,
  i1: Int32Array,
  a0: Float32Array,
  a1: Float32Array,
  tmp: Float32Array,
): void {
  for (let y = 0; y < sh; y++) {
    const row = y * sw * c;
    for (let x = 0; x < width; x++) {
      const p0 = row + i0[x]! * c;
      const p1 = row + i1[x]! * c;
      const w0 = a0[x]!;
      const w1 = a1[x]!;
      const o = (y * width + x) * c;
      for (let k = 0; k < c; k++) tmp[o + k] = f(f(d[p0 + k]! * w0) + f(d[p1 + k]! * w1));
    }
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
