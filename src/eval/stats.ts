// Means and 95% confidence intervals over images, for results.json and the report. Platform-neutral.
//
// The interval is a percentile bootstrap (Efron & Tibshirani, ch. 13): B resamples of the n per-image
// values drawn with replacement, each resample's mean, and the 2.5th and 97.5th percentiles of those
// means (linear interpolation between order statistics, NumPy's default `np.percentile`). Draws come
// from a seeded mulberry32 stream (demo/prng.ts), index = floor(u · n), so the same values in the same
// order give the same interval on every machine; test/eval/stats-oracle.py recomputes it in NumPy.
// The bootstrap needs no normality, which matters for the bounded, often binary metrics here (a
// pointing game hit, an IoU ≥ 0.5); `normal` gives mean ± 1.96 · s / √n (s with n − 1) instead.

import { mulberry32 } from '../demo/prng.ts';

export const CI_METHODS = ['bootstrap', 'normal'] as const;
export type CiMethod = (typeof CI_METHODS)[number];

export interface CiOptions {
  readonly method?: CiMethod;
  /** Bootstrap resamples (default 1000). */
  readonly resamples?: number;
  /** Seed of the resampling stream (default 12). */
  readonly seed?: number;
}

export interface Summary {
  /** Images with a value. */
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (n − 1); 0 for one value. */
  readonly std: number;
  /** The 95% interval of the mean; equal to the mean for n = 1, NaN for n = 0. */
  readonly ci: readonly [number, number];
}

export const DEFAULT_RESAMPLES = 1000;
export const DEFAULT_CI_SEED = 12;

/** z for a two-sided 95% normal interval. */
const Z95 = 1.959963984540054;

export function summarize(values: ArrayLike<number>, opts: CiOptions = {}): Summary {
  const n = values.length;
  if (n === 0) return { n, mean: Number.NaN, std: Number.NaN, ci: [Number.NaN, Number.NaN] };
  const m = mean(values);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - m) ** 2;
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  if (n === 1) return { n, mean: m, std, ci: [m, m] };
  const ci: [number, number] =
    (opts.method ?? 'bootstrap') === 'normal'
      ? [m - (Z95 * std) / Math.sqrt(n), m + (Z95 * std) / Math.sqrt(n)]
      : bootstrapCi(values, opts.resamples ?? DEFAULT_RESAMPLES, opts.seed ?? DEFAULT_CI_SEED);
  return { n, mean: m, std, ci };
}

export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s / values.length;
}

/** The percentile-bootstrap 95% interval of the mean (see the file header for the exact draws). */
export function bootstrapCi(values: ArrayLike<number>, resamples: number, seed: number): [number, number] {
  const n = values.length;
  const rng = mulberry32(seed);
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rng.next() * n)]!;
    means[b] = s / n;
  }
  means.sort();
  return [percentile(means, 2.5), percentile(means, 97.5)];
}

/** NumPy's `np.percentile(sorted, q)` (method 'linear') of ascending values. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Counts of values in `bins` equal bins over [lo, hi] (the last bin closed), for the report's histograms. */
export function histogram(values: ArrayLike<number>, bins: number, lo: number, hi: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  const width = hi > lo ? (hi - lo) / bins : 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    const k = Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)));
    counts[k]!++;
  }
  return counts;
}
