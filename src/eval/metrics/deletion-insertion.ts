// Deletion and insertion (Petsiuk et al. 2018, RISE, arXiv:1806.07421). Pixels ranked by
// decreasing map value (ties: lower row-major index first); step k (k = 0 … K, K = ⌈HW/step⌉)
// changes the first n_k = min(k·step, HW) of them, all channels of a pixel together:
//   deletion:  start from the input, set the changed pixels to the baseline;
//   insertion: start from the baseline, set the changed pixels to the input's values.
// The curve is the class score at each step over the fraction n_k/HW; its area is the trapezoid
// rule over those fractions: AUC = Σ_k (f_{k+1} − f_k)(s_k + s_{k+1})/2. Good maps: low deletion
// AUC, high insertion AUC. Baselines, in the normalized input tensor the model takes:
//   zero: 0 (the normalization's mean colour for mean/std preprocessing; RISE's deletion substrate);
//   blur: the input blurred by a separable Gaussian, σ = 5 px, 11 taps (radius 5), normalised to sum
//         1, image edges replicated (RISE blurs with an 11×11, σ = 5 kernel and zero padding: gradsight
//         replicates the edge so the border does not darken). RISE's insertion substrate.

import { GradsightError } from '../../errors.ts';
import { checkMapFits, type InputRow, pixelAddressing, type Scorer } from '../perturbation.ts';

export type CurveMode = 'deletion' | 'insertion';
export type Baseline = 'zero' | 'blur';

export interface CurveOptions {
  /** Pixels changed per step (default: one image row, W, as RISE's 224 at 224×224). */
  readonly step?: number;
  /** Default: zero for deletion, blur for insertion (RISE's substrates). */
  readonly baseline?: Baseline;
}

export interface Curve {
  readonly mode: CurveMode;
  readonly baseline: Baseline;
  readonly step: number;
  /** n_k / HW for k = 0 … K. */
  readonly fractions: Float64Array;
  /** The class score at each step. */
  readonly scores: Float32Array;
  /** Trapezoid area under scores over fractions. */
  readonly auc: number;
}

export const BLUR_SIGMA = 5;
export const BLUR_RADIUS = 5;

/** The input blurred by the Gaussian above, per channel (the blur baseline). */
export function blurred(input: InputRow): Float32Array {
  const { height: H, width: W, channels: C } = input;
  const kernel = Array.from({ length: 2 * BLUR_RADIUS + 1 }, (_, i) =>
    Math.exp(-((i - BLUR_RADIUS) ** 2) / (2 * BLUR_SIGMA ** 2)),
  );
  const total = kernel.reduce((s, v) => s + v, 0);
  const k = kernel.map((v) => v / total);
  const { plane, step } = pixelAddressing(input);
  const out = new Float32Array(input.data.length);
  const tmp = new Float64Array(H * W);
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  for (let c = 0; c < C; c++) {
    const at = (p: number) => plane(c) + p * step;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let s = 0;
        for (let i = -BLUR_RADIUS; i <= BLUR_RADIUS; i++)
          s += k[i + BLUR_RADIUS]! * input.data[at(y * W + clamp(x + i, W))]!;
        tmp[y * W + x] = s;
      }
    }
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let s = 0;
        for (let i = -BLUR_RADIUS; i <= BLUR_RADIUS; i++)
          s += k[i + BLUR_RADIUS]! * tmp[clamp(y + i, H) * W + x]!;
        out[at(y * W + x)] = s;
      }
    }
  }
  return out;
}

/** Pixel indices by decreasing map value, ties by index. */
export function pixelOrder(map: Float32Array): Uint32Array {
  const order = Uint32Array.from(map.keys());
  return order.sort((a, b) => map[b]! - map[a]! || a - b);
}

/** Trapezoid area under y over x. */
export function trapezoid(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i + 1 < x.length; i++) s += ((x[i + 1]! - x[i]!) * (y[i]! + y[i + 1]!)) / 2;
  return s;
}

/** The deletion or insertion curve of one map; the copies made and scored a scorer batch at a time. */
export async function perturbationCurve(
  scorer: Scorer,
  input: InputRow,
  map: Float32Array,
  mode: CurveMode,
  o: CurveOptions = {},
): Promise<Curve> {
  checkMapFits(map, input, mode);
  const hw = map.length;
  const stepSize = o.step ?? input.width;
  if (!(Number.isInteger(stepSize) && stepSize > 0)) {
    throw new GradsightError(
      'bad-argument',
      `the ${mode} step must be a positive whole number of pixels, got ${stepSize}`,
      {
        hint: `e.g. ${input.width} (one image row per step)`,
      },
    );
  }
  const baseline = o.baseline ?? (mode === 'deletion' ? 'zero' : 'blur');
  const fill = baseline === 'zero' ? new Float32Array(input.data.length) : blurred(input);
  const [from, to] = mode === 'deletion' ? [input.data, fill] : [fill, input.data];
  const order = pixelOrder(map);
  const steps = Math.ceil(hw / stepSize);
  const fractions = Float64Array.from({ length: steps + 1 }, (_, k) => Math.min(k * stepSize, hw) / hw);
  const { plane, step } = pixelAddressing(input);
  const current = Float32Array.from(from);
  const scores = new Float32Array(steps + 1);
  const chunk = Math.max(1, scorer.batch ?? 16);
  let done = 0;
  for (let k0 = 0; k0 <= steps; k0 += chunk) {
    const rows: Float32Array[] = [];
    for (let k = k0; k < Math.min(k0 + chunk, steps + 1); k++) {
      const n = Math.min(k * stepSize, hw);
      for (; done < n; done++) {
        const p = order[done]!;
        for (let c = 0; c < input.channels; c++) current[plane(c) + p * step] = to[plane(c) + p * step]!;
      }
      rows.push(Float32Array.from(current));
    }
    scores.set(await scorer(rows), k0);
  }
  return { mode, baseline, step: stepSize, fractions, scores, auc: trapezoid(fractions, scores) };
}

/** Deletion curve (default baseline zero). */
export function deletion(
  scorer: Scorer,
  input: InputRow,
  map: Float32Array,
  o: CurveOptions = {},
): Promise<Curve> {
  return perturbationCurve(scorer, input, map, 'deletion', o);
}

/** Insertion curve (default baseline blur). */
export function insertion(
  scorer: Scorer,
  input: InputRow,
  map: Float32Array,
  o: CurveOptions = {},
): Promise<Curve> {
  return perturbationCurve(scorer, input, map, 'insertion', o);
}
