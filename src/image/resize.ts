// Pillow's `Image.resize((w, h), Image.BILINEAR)` for 8-bit L, RGB and RGBA, bit for bit. The reference
// tensors and most training pipelines were made with PIL, so matching it exactly keeps inputs identical.
// Port of libImaging/Resample.c: separable (horizontal pass, then vertical), triangle filter widened by
// the scale when shrinking (antialiasing), 22-bit fixed-point weights, uint8 rounding after each pass.

import { type RgbImage, rgbImage } from './rgb-image.ts';
import { resizeRgbSimd } from './wasm/resize-simd.ts';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);
const SUPPORT = 1; // the triangle ("bilinear") filter's support

interface Coeffs {
  /** ksize fixed-point weights per output index. */
  readonly kk: Int32Array;
  readonly ksize: number;
  /** Per output index: first input index and the number of inputs used. */
  readonly bounds: Int32Array;
}

const triangle = (x: number) => {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
};

/** precompute_coeffs + normalize_coeffs_8bpc for the box [0, inSize]. */
function precomputeCoeffs(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(1, scale);
  const support = SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const kk = new Int32Array(outSize * ksize);
  const bounds = new Int32Array(outSize * 2);
  const ss = 1 / filterscale;
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero; Math.trunc does the same.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = triangle((x + xmin - center + 0.5) * ss);
      ww += w[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? w[x]! / ww : w[x]!;
      // Round half away from zero, as `(int)(k * ONE ± 0.5)` does in C.
      kk[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * ONE) : Math.trunc(0.5 + k * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { kk, ksize, bounds };
}

// Accumulators are exact integers below 2^31 (weights are non-negative and sum to about ONE, pixels
// ≤ 255), so `>> PRECISION_BITS` is Pillow's integer division and any summation order gives its bits.
const clip8 = (acc: number) => (acc <= 0 ? 0 : acc >= ONE * 256 ? 255 : acc >> PRECISION_BITS);

/** Interleaved 8-bit pixels with any number of bands (1 = L, 3 = RGB, 4 = RGBA), row-major. */
export interface Bands {
  readonly width: number;
  readonly height: number;
  readonly bands: number;
  readonly data: Uint8Array;
}

// The passes take only arrays and numbers, never a caller's objects (images come in several shapes),
// and each output row is one call of a small function: V8 optimizes each once, with complete feedback,
// instead of compiling a whole pass mid-loop and again when the code after the loop first runs.

/** Resamples rows `y0 .. y0 + outH - 1` of `src` horizontally to `outW` columns. */
function horizontal(src: Bands, y0: number, outH: number, outW: number, c: Coeffs): Uint8Array {
  const nb = src.bands;
  const out = new Uint8Array(outW * outH * nb);
  const rowLen = src.width * nb;
  for (let y = 0; y < outH; y++) {
    const row = (y + y0) * rowLen;
    const o = y * outW * nb;
    if (nb === 3) horizontalRow3(src.data, row, out, o, outW, c.kk, c.ksize, c.bounds);
    else horizontalRow(src.data, row, nb, out, o, outW, c.kk, c.ksize, c.bounds);
  }
  return out;
}

/** One RGB row: the common case unrolled over the bands, one walk over the taps. */
function horizontalRow3(
  d: Uint8Array,
  row: number,
  out: Uint8Array,
  o: number,
  outW: number,
  kk: Int32Array,
  ksize: number,
  bounds: Int32Array,
): void {
  for (let xx = 0; xx < outW; xx++, o += 3) {
    const n = bounds[xx * 2 + 1]!;
    const k0 = xx * ksize;
    let i = row + bounds[xx * 2]! * 3;
    let r = HALF;
    let g = HALF;
    let b = HALF;
    for (let x = 0; x < n; x++, i += 3) {
      const k = kk[k0 + x]!;
      r += d[i]! * k;
      g += d[i + 1]! * k;
      b += d[i + 2]! * k;
    }
    out[o] = clip8(r);
    out[o + 1] = clip8(g);
    out[o + 2] = clip8(b);
  }
}

function horizontalRow(
  d: Uint8Array,
  row: number,
  nb: number,
  out: Uint8Array,
  o: number,
  outW: number,
  kk: Int32Array,
  ksize: number,
  bounds: Int32Array,
): void {
  for (let xx = 0; xx < outW; xx++, o += nb) {
    const n = bounds[xx * 2 + 1]!;
    const k0 = xx * ksize;
    const i = row + bounds[xx * 2]! * nb;
    for (let b = 0; b < nb; b++) {
      let s = HALF;
      for (let x = 0; x < n; x++) s += d[i + x * nb + b]! * kk[k0 + x]!;
      out[o + b] = clip8(s);
    }
  }
}

/** Resamples vertically: each output row accumulates its input rows whole (sequential reads). */
function vertical(src: Bands, outH: number, c: Coeffs, yShift: number): Uint8Array {
  const len = src.width * src.bands;
  const out = new Uint8Array(len * outH);
  const acc = new Int32Array(len);
  const { kk, ksize, bounds } = c;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2]! - yShift;
    verticalRow(src.data, len, ymin, bounds[yy * 2 + 1]!, kk, yy * ksize, acc, out, yy * len);
  }
  return out;
}

/** One output row: the `n` input rows from `ymin`, weighted by kk[k0 ..], accumulated then clipped. */
function verticalRow(
  d: Uint8Array,
  len: number,
  ymin: number,
  n: number,
  kk: Int32Array,
  k0: number,
  acc: Int32Array,
  out: Uint8Array,
  o: number,
): void {
  acc.fill(HALF);
  for (let y = 0; y < n; y++) {
    const k = kk[k0 + y]!;
    if (k === 0) continue;
    const row = (y + ymin) * len;
    for (let i = 0; i < len; i++) acc[i] = acc[i]! + d[row + i]! * k;
  }
  for (let i = 0; i < len; i++) out[o + i] = clip8(acc[i]!);
}

/**
 * Pillow-exact bilinear resize of interleaved 8-bit bands, each band on its own (Pillow's L and RGB
 * modes). RGBA as Pillow resizes it (premultiplied) is `resizeRgba`.
 */
export function resizeBands(img: Bands, width: number, height: number): Bands {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`resize target must be positive integers, got ${width}x${height}`);
  }
  if (img.width <= 0 || img.height <= 0) throw new RangeError('cannot resize an empty image');
  const { bands } = img;
  if (width === img.width && height === img.height) return { width, height, bands, data: img.data.slice() };
  const needH = width !== img.width;
  const needV = height !== img.height;
  const ch = precomputeCoeffs(img.width, width);
  const cv = precomputeCoeffs(img.height, height);
  // Only the source rows the vertical pass reads (all rows when there is no vertical pass).
  const first = needV ? cv.bounds[0]! : 0;
  const last = needV ? cv.bounds[height * 2 - 2]! + cv.bounds[height * 2 - 1]! : img.height;
  if (bands === 3) {
    const data = resizeRgbSimd(
      img,
      width,
      height,
      needH ? ch : undefined,
      needV ? cv : undefined,
      first,
      last - first,
    );
    if (data) return { width, height, bands, data };
  }
  let cur = img;
  let yShift = 0;
  if (needH) {
    cur = { width, height: last - first, bands, data: horizontal(img, first, last - first, width, ch) };
    yShift = first;
  }
  if (needV) cur = { width: cur.width, height, bands, data: vertical(cur, height, cv, yShift) };
  return cur;
}

/** Pillow-exact bilinear resize of an 8-bit RGB image to `width` x `height` (alpha is not carried). */
export function resizeBilinear(img: RgbImage, width: number, height: number): RgbImage {
  const out = resizeBands({ width: img.width, height: img.height, bands: 3, data: img.data }, width, height);
  return rgbImage(out.width, out.height, out.data);
}

/**
 * RGBA (4 interleaved bands) as Pillow's `Image.resize` does it for mode RGBA: premultiply by alpha
 * ("RGBa", MULDIV255 rounding), resize every band, then divide by alpha again (truncating, clipped), so
 * transparent pixels do not bleed their colour into their neighbours. Same size: returned unchanged.
 */
export function resizeRgba(img: Bands, width: number, height: number): Bands {
  if (img.bands !== 4) throw new RangeError(`resizeRgba needs 4 bands, got ${img.bands}`);
  if (width === img.width && height === img.height) return { ...img, data: img.data.slice() };
  const pre = new Uint8Array(img.data.length);
  for (let i = 0; i < pre.length; i += 4) {
    const a = img.data[i + 3]!;
    for (let c = 0; c < 3; c++) {
      const t = img.data[i + c]! * a + 128; // MULDIV255 in libImaging/Convert.c
      pre[i + c] = ((t >> 8) + t) >> 8;
    }
    pre[i + 3] = a;
  }
  const out = resizeBands({ ...img, data: pre }, width, height);
  const d = out.data;
  for (let i = 0; i < d.length; i += 4) {
    const a = d[i + 3]!;
    if (a === 0 || a === 255) continue;
    for (let c = 0; c < 3; c++) d[i + c] = Math.min(255, Math.floor((255 * d[i + c]!) / a));
  }
  return out;
}
