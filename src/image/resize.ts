// Pillow's `Image.resize((w, h), Image.BILINEAR)` for 8-bit RGB, bit for bit. The reference tensors and
// most training pipelines were made with PIL, so matching it exactly keeps gradsight's inputs identical.
// Port of libImaging/Resample.c: separable (horizontal pass, then vertical), triangle filter widened by
// the scale when shrinking (antialiasing), 22-bit fixed-point weights, uint8 rounding after each pass.

import { type RgbImage, rgbImage } from './rgb-image.ts';

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

const clip8 = (acc: number) => (acc <= 0 ? 0 : acc >= ONE * 256 ? 255 : Math.floor(acc / ONE));

/** Resamples rows `y0 .. y0 + outH - 1` of `src` horizontally to `outW` columns. */
function horizontal(src: RgbImage, y0: number, outH: number, outW: number, c: Coeffs): Uint8Array {
  const out = new Uint8Array(outW * outH * 3);
  const { kk, ksize, bounds } = c;
  for (let y = 0; y < outH; y++) {
    const row = (y + y0) * src.width * 3;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = bounds[xx * 2]!;
      const n = bounds[xx * 2 + 1]!;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      for (let x = 0; x < n; x++) {
        const k = kk[xx * ksize + x]!;
        const p = row + (x + xmin) * 3;
        s0 += src.data[p]! * k;
        s1 += src.data[p + 1]! * k;
        s2 += src.data[p + 2]! * k;
      }
      const o = (y * outW + xx) * 3;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return out;
}

function vertical(src: RgbImage, outH: number, c: Coeffs, yShift: number): Uint8Array {
  const w = src.width;
  const out = new Uint8Array(w * outH * 3);
  const { kk, ksize, bounds } = c;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2]! - yShift;
    const n = bounds[yy * 2 + 1]!;
    for (let xx = 0; xx < w; xx++) {
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      for (let y = 0; y < n; y++) {
        const k = kk[yy * ksize + y]!;
        const p = ((y + ymin) * w + xx) * 3;
        s0 += src.data[p]! * k;
        s1 += src.data[p + 1]! * k;
        s2 += src.data[p + 2]! * k;
      }
      const o = (yy * w + xx) * 3;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return out;
}

/** Pillow-exact bilinear resize of an 8-bit RGB image to `width` x `height`. */
export function resizeBilinear(img: RgbImage, width: number, height: number): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`resize target must be positive integers, got ${width}x${height}`);
  }
  if (img.width <= 0 || img.height <= 0) throw new RangeError('cannot resize an empty image');
  if (width === img.width && height === img.height) return rgbImage(width, height, img.data.slice());
  const needH = width !== img.width;
  const needV = height !== img.height;
  const ch = precomputeCoeffs(img.width, width);
  const cv = precomputeCoeffs(img.height, height);
  let cur = img;
  let yShift = 0;
  if (needH) {
    // Only the source rows the vertical pass reads (all rows when there is no vertical pass).
    const first = cv.bounds[0]!;
    const last = cv.bounds[height * 2 - 2]! + cv.bounds[height * 2 - 1]!;
    cur = rgbImage(width, last - first, horizontal(img, first, last - first, width, ch));
    yShift = first;
  }
  if (needV) cur = rgbImage(cur.width, height, vertical(cur, height, cv, yShift));
  return cur;
}
