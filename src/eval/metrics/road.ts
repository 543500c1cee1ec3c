// ROAD: RemOve And Debias (Rong et al. 2022, arXiv:2202.00449), as pytorch-grad-cam 1.5.5 computes
// it (metrics/road.py, metrics/perturbation_confidence.py). For each percentile p (10, 20, …, 90):
//   most relevant first (MoRF):  t = percentile_p(m),     keep pixels with m < t,     impute the rest;
//   least relevant first (LeRF): t = percentile_p(1 − m), keep pixels with 1 − m < t, impute the rest;
// the removed pixels filled by the noisy linear imputer (imputer.ts), and the change of the class
// score score(imputed) − score(x) recorded. Then mean over p of each, and
//   combined = (mean LeRF − mean MoRF) / 2
// (high when removing the most relevant pixels hurts and removing the least relevant does not).
// percentile_p is NumPy's default (linear interpolation between the sorted values); the comparison
// is in float32, as pytorch-grad-cam compares its float32 map tensor with the threshold.

import { GradsightError } from '../../errors.ts';
import { checkMapFits, type InputRow, type Scorer } from '../perturbation.ts';
import { type ImputeOptions, noisyLinearImpute } from './imputer.ts';

export const ROAD_PERCENTILES: readonly number[] = [10, 20, 30, 40, 50, 60, 70, 80, 90];

export type RoadOrder = 'morf' | 'lerf';

export interface RoadOptions extends ImputeOptions {
  /** Percentiles of the map to threshold at (default ROAD_PERCENTILES). */
  readonly percentiles?: readonly number[];
}

export interface RoadCurve {
  readonly percentiles: readonly number[];
  /** score(imputed at percentile p) − score(input), per percentile. */
  readonly changes: readonly number[];
  /** Mean of changes. */
  readonly mean: number;
}

export interface RoadResult {
  /** The score of the input itself. */
  readonly clean: number;
  readonly morf: RoadCurve;
  readonly lerf: RoadCurve;
  /** (lerf.mean − morf.mean) / 2. */
  readonly combined: number;
}

/** NumPy's percentile (method 'linear'): q in [0, 100] of `values`, in float64. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const a = Float64Array.from(values).sort();
  const pos = (q / 100) * (a.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, a.length - 1);
  const t = pos - lo;
  const x = a[lo]!;
  const y = a[hi]!;
  // NumPy's _lerp: from the upper end when t ≥ 0.5, for symmetry.
  return t >= 0.5 ? y - (y - x) * (1 - t) : x + (y - x) * t;
}

/** The keep mask (1 = kept, 0 = imputed) of one ROAD step. */
export function roadKeepMask(map: Float32Array, p: number, order: RoadOrder): Uint8Array {
  const ranked = order === 'morf' ? map : map.map((v) => 1 - v);
  const t = Math.fround(percentile(ranked, p));
  return Uint8Array.from(ranked, (v) => (v < t ? 1 : 0));
}

/** The input imputed at one ROAD step. */
export function roadImputed(
  input: InputRow,
  map: Float32Array,
  p: number,
  order: RoadOrder,
  o: ImputeOptions = {},
): Float32Array {
  checkMapFits(map, input, 'ROAD');
  return noisyLinearImpute(input, roadKeepMask(map, p, order), o);
}

/** ROAD MoRF, LeRF and combined for one map of one input; the imputed copies scored in batches. */
export async function road(
  scorer: Scorer,
  input: InputRow,
  map: Float32Array,
  o: RoadOptions = {},
): Promise<RoadResult> {
  checkMapFits(map, input, 'ROAD');
  const percentiles = o.percentiles ?? ROAD_PERCENTILES;
  for (const p of percentiles) {
    if (!(p >= 0 && p <= 100)) {
      throw new GradsightError('bad-argument', `ROAD percentile ${p} is not in [0, 100]`, {
        hint: 'give percentiles like 10,20,…,90',
      });
    }
  }
  const steps = (['morf', 'lerf'] as const).flatMap((order) => percentiles.map((p) => ({ order, p })));
  const seed = o.seed ?? 0;
  // The input first, then the imputed copies, made a batch at a time.
  const chunk = Math.max(1, scorer.batch ?? steps.length + 1);
  const scores: number[] = [];
  for (let start = -1; start < steps.length; start += chunk) {
    const rows: Float32Array[] = [];
    for (let i = start; i < Math.min(start + chunk, steps.length); i++) {
      if (i < 0) rows.push(input.data);
      else rows.push(roadImputed(input, map, steps[i]!.p, steps[i]!.order, { ...o, seed: seed + i }));
    }
    scores.push(...(await scorer(rows)));
  }
  const clean = scores[0]!;
  const curve = (k: number): RoadCurve => {
    const changes = percentiles.map((_, i) => Math.fround(scores[1 + k * percentiles.length + i]! - clean));
    return { percentiles, changes, mean: changes.reduce((s, v) => s + v, 0) / changes.length };
  };
  const morf = curve(0);
  const lerf = curve(1);
  return { clean, morf, lerf, combined: (lerf.mean - morf.mean) / 2 };
}
