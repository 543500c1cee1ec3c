// How alike two maps are, for the model-level checks (sanity checks, adversarial images): Spearman's
// rank correlation and SSIM (Wang et al. 2004), as Adebayo et al. 2018 compare an explanation with
// the explanation of a randomized model. Both take the maps as flat row-major H×W planes.

import { GradsightError } from '../../errors.ts';

/**
 * Ranks 1..n of `values`, ties given the average of the ranks they span (the "fractional" ranking
 * scipy.stats.rankdata uses by default): [10, 20, 20, 30] → [1, 2.5, 2.5, 4].
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    // Positions i..j (0-based) hold ranks i+1..j+1: their mean is (i + j) / 2 + 1.
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = r;
    i = j + 1;
  }
  return ranks;
}

/** Pearson's correlation of two equally long series; NaN when either is constant. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : Number.NaN;
}

/**
 * Spearman's ρ = Pearson's correlation of the average ranks (exact with ties, unlike the
 * 1 − 6Σd²/(n(n²−1)) shortcut). NaN when either map is constant: a constant map has no order to
 * agree with, and callers report it as undefined rather than as 0 or 1.
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b, 'spearman');
  return pearson(averageRanks(a), averageRanks(b));
}

export type SsimWindow = 'uniform-7' | 'gaussian-11';

export interface SsimOptions {
  /**
   * 'uniform-7' (default): scikit-image's `structural_similarity` defaults: a 7×7 mean filter and
   * sample (N − 1) covariances. 'gaussian-11': the paper's 11×11 Gaussian window, σ = 1.5 (skimage's
   * `gaussian_weights=True`: truncated at 3.5σ, population covariances).
   */
  readonly window?: SsimWindow;
}

/**
 * Mean SSIM of two H×W maps, each first min-max normalized to [0, 1] (a constant map becomes 0), so
 * the data range L is 1: per window, SSIM = (2μaμb + C1)(2σab + C2) / ((μa² + μb² + C1)(σa² + σb² + C2)),
 * C1 = (0.01 L)², C2 = (0.03 L)², averaged over the windows lying wholly inside the map (skimage
 * filters the whole image and then crops (win − 1)/2 pixels from each border: the same windows).
 */
export function ssim(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  width: number,
  height: number,
  options: SsimOptions = {},
): number {
  checkSameLength(a, b, 'ssim');
  if (a.length !== width * height) {
    throw new GradsightError('shape-mismatch', `ssim: ${a.length} values are not a ${width}×${height} map`, {
      hint: 'pass maps of width × height values, row-major',
    });
  }
  const window = options.window ?? 'uniform-7';
  const kernel = window === 'uniform-7' ? new Float64Array(7).fill(1 / 7) : gaussianKernel(1.5, 3.5);
  const k = kernel.length;
  if (width < k || height < k) {
    throw new GradsightError(
      'bad-argument',
      `ssim: a ${width}×${height} map is smaller than the ${k}×${k} window (${window})`,
      { hint: 'compare maps upsampled to the input size, or use the smaller uniform-7 window' },
    );
  }
  const x = minMax(a);
  const y = minMax(b);
  const n = width * height;
  const xx = new Float64Array(n);
  const yy = new Float64Array(n);
  const xy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xx[i] = x[i]! * x[i]!;
    yy[i] = y[i]! * y[i]!;
    xy[i] = x[i]! * y[i]!;
  }
  const [mx, my, mxx, myy, mxy] = [x, y, xx, yy, xy].map((p) => filterValid(p, width, height, kernel));
  // skimage: cov_norm = N/(N−1) with sample covariances (uniform window), 1 with Gaussian weights.
  const np = k * k;
  const covNorm = window === 'uniform-7' ? np / (np - 1) : 1;
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;
  let sum = 0;
  const m = mx!.length;
  for (let i = 0; i < m; i++) {
    const ux = mx![i]!;
    const uy = my![i]!;
    const vx = covNorm * (mxx![i]! - ux * ux);
    const vy = covNorm * (myy![i]! - uy * uy);
    const vxy = covNorm * (mxy![i]! - ux * uy);
    sum += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
  }
  return sum / m;
}

/** Values scaled to [0, 1] by their min and max; a constant map becomes all zeros. */
export function minMax(a: ArrayLike<number>): Float64Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out = new Float64Array(a.length);
  const span = hi - lo;
  if (span > 0) for (let i = 0; i < a.length; i++) out[i] = (a[i]! - lo) / span;
  return out;
}

/** scipy.ndimage's Gaussian: radius round(truncate·σ), weights exp(−x²/2σ²) normalized to sum 1. */
function gaussianKernel(sigma: number, truncate: number): Float64Array {
  const r = Math.floor(truncate * sigma + 0.5);
  const w = Float64Array.from({ length: 2 * r + 1 }, (_, i) =>
    Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)),
  );
  const s = w.reduce((p, v) => p + v, 0);
  return w.map((v) => v / s);
}

/** Separable filtering of an H×W plane with `kernel` on both axes, windows wholly inside only. */
function filterValid(
  p: ArrayLike<number>,
  width: number,
  height: number,
  kernel: Float64Array,
): Float64Array {
  const k = kernel.length;
  const ow = width - k + 1;
  const oh = height - k + 1;
  const rows = new Float64Array(height * ow);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += kernel[j]! * p[y * width + x + j]!;
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += kernel[j]! * rows[(y + j) * ow + x]!;
      out[y * ow + x] = s;
    }
  }
  return out;
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length || a.length === 0) {
    throw new GradsightError(
      'shape-mismatch',
      `${what}: the maps have ${a.length} and ${b.length} values; they must be equally long and not empty`,
      { hint: 'compare maps of the same size (upsample both to the image size first)' },
    );
  }
}
