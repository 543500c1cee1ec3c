// What an evaluation's results.json holds (aggregate.ts computes it from the per-image records) and
// its CSV form. Platform-neutral.

import type { RunConfig } from './record-types.ts';
import type { Summary } from './stats.ts';

/** The key under which method-free values are listed. */
export const MODEL_SCOPE = 'model';

export interface ValueResult {
  readonly key: string;
  readonly title: string;
  readonly better: 'higher' | 'lower';
  readonly percent: boolean;
  /** `model` for method-free values. */
  readonly byMethod: Readonly<Record<string, Summary>>;
}

export interface CurveResult {
  readonly key: string;
  readonly title: string;
  readonly x: readonly number[];
  readonly xLabel: string;
  readonly yLabel: string;
  /** Mean over the images with the curve, per x. */
  readonly byMethod: Readonly<Record<string, readonly number[]>>;
}

export interface DatasetValueResult {
  readonly key: string;
  readonly title: string;
  readonly better: 'higher' | 'lower';
  readonly percent: boolean;
  readonly byMethod: Readonly<Record<string, number>>;
}

export interface MetricResult {
  readonly id: string;
  readonly title: string;
  readonly values: readonly ValueResult[];
  readonly curves: readonly CurveResult[];
  readonly dataset: readonly DatasetValueResult[];
}

export interface GalleryEntry {
  readonly index: number;
  readonly id: string;
  readonly image: string;
  readonly labels: readonly string[];
  readonly value: number;
}

export interface Gallery {
  readonly key: string;
  readonly title: string;
  readonly method: string;
  readonly best: readonly GalleryEntry[];
  readonly worst: readonly GalleryEntry[];
}

export interface EvalResults {
  readonly gradsight: string;
  readonly config: RunConfig;
  readonly images: {
    readonly evaluated: number;
    readonly failed: number;
    /** Images per dataset class (an image with two classes counts for both). */
    readonly perClass: Readonly<Record<string, number>>;
  };
  readonly ci: {
    readonly method: string;
    readonly resamples: number;
    readonly seed: number;
    readonly level: 0.95;
  };
  readonly metrics: readonly MetricResult[];
  /** Mean per dataset class: value key → method → class → { n, mean }. */
  readonly perClass: Readonly<
    Record<string, Readonly<Record<string, Readonly<Record<string, { n: number; mean: number }>>>>>
  >;
  /** Per value and method: 20 bins over [lo, hi]. */
  readonly histograms: Readonly<
    Record<
      string,
      {
        readonly lo: number;
        readonly hi: number;
        readonly byMethod: Readonly<Record<string, readonly number[]>>;
      }
    >
  >;
  readonly gallery?: Gallery;
  /** The bias metric per method and class: share / area ≥ MIN_CONCENTRATION flags it (metrics/bias.ts). */
  readonly bias?: readonly {
    readonly method: string;
    readonly label: string;
    readonly images: number;
    readonly share: number;
    readonly area: number;
    readonly concentration: number;
    readonly flagged: boolean;
  }[];
  /** The first failed images (at most 100), with their errors. */
  readonly failures: readonly {
    readonly index: number;
    readonly id: string;
    readonly image: string;
    readonly error: unknown;
  }[];
  /** The first misclassified images (at most 100): predicted vs true. */
  readonly misclassified: readonly {
    readonly index: number;
    readonly id: string;
    readonly image: string;
    readonly labels: readonly string[];
    readonly predicted: string;
  }[];
}

/** results.csv: one row per metric value and method (method-free values under `model`). */
export function resultsCsv(results: EvalResults): string {
  const rows = [['metric', 'value', 'method', 'n', 'mean', 'std', 'ci_low', 'ci_high'].join(',')];
  const num = (v: number) => (Number.isFinite(v) ? String(v) : '');
  for (const m of results.metrics) {
    for (const v of m.values)
      for (const [method, s] of Object.entries(v.byMethod))
        rows.push(
          [m.id, v.key, method, s.n, num(s.mean), num(s.std), num(s.ci[0]), num(s.ci[1])]
            .map(csvCell)
            .join(','),
        );
    for (const d of m.dataset)
      for (const [method, value] of Object.entries(d.byMethod))
        rows.push([m.id, d.key, method, '', num(value), '', '', ''].map(csvCell).join(','));
  }
  return `${rows.join('\n')}\n`;
}

/** A CSV cell, quoted when it holds a comma, quote or newline; a leading = + - @ is defused (spreadsheets). */
function csvCell(v: string | number): string {
  let s = String(v);
  if (/^[=+@]/.test(s) || (/^-/.test(s) && Number.isNaN(Number(s)))) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
