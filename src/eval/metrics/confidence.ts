// Confidence under the map: the input multiplied by the explanation map, scored again. Per image,
// pytorch-grad-cam's CamMultImageConfidenceChange and its drop/increase; over images, the Grad-CAM++
// paper's Average Drop, Increase in Confidence and Win (Chattopadhay et al. 2018, §5.1). Formulas in
// docs/metrics.md.

import { GradsightError } from '../../errors.ts';
import { checkMapFits, type InputRow, pixelAddressing, type Scorer } from '../perturbation.ts';

export interface ConfidenceChange {
  /** Y: the score of the input. */
  readonly clean: number;
  /** O: the score of the input ⊙ map. */
  readonly masked: number;
  /** O − Y (pytorch-grad-cam's CamMultImageConfidenceChange). */
  readonly change: number;
  /** max(0, Y − O) (pytorch-grad-cam's DropInConfidence). */
  readonly drop: number;
  /** 1 when O > Y, else 0 (pytorch-grad-cam's IncreaseInConfidence). */
  readonly increase: 0 | 1;
}

/**
 * input ⊙ map, the map (one value per pixel, H×W) broadcast over the channels and multiplied with
 * the normalized input tensor as the model takes it (not the image's pixels): x'_{k,p} = x_{k,p}·m_p.
 */
export function camMultInput(input: InputRow, map: Float32Array): Float32Array {
  checkMapFits(map, input, 'cam-mult');
  const out = new Float32Array(input.data.length);
  const { plane, step } = pixelAddressing(input);
  for (let k = 0; k < input.channels; k++) {
    const o = plane(k);
    for (let p = 0; p < map.length; p++) out[o + p * step] = input.data[o + p * step]! * map[p]!;
  }
  return out;
}

/**
 * change = score(x ⊙ m) − score(x) for each map m of the same input (one scorer call: the input and
 * every masked copy, in batches), with drop = max(0, −change) and increase = [change > 0].
 */
export async function camMultConfidence(
  scorer: Scorer,
  input: InputRow,
  maps: readonly Float32Array[],
): Promise<ConfidenceChange[]> {
  const scores = await scorer([input.data, ...maps.map((m) => camMultInput(input, m))]);
  const clean = scores[0]!;
  return maps.map((_, i) => confidenceChange(clean, scores[i + 1]!));
}

/** The change record of a clean score Y and a masked score O. */
export function confidenceChange(clean: number, masked: number): ConfidenceChange {
  // In float32, as pytorch-grad-cam subtracts its float32 scores.
  const change = Math.fround(masked - clean);
  return { clean, masked, change, drop: Math.max(0, -change), increase: change > 0 ? 1 : 0 };
}

/** max(0, Y − O)/Y: the Grad-CAM++ paper's per-image drop, for a positive score Y (a probability). */
export function relativeDrop(clean: number, masked: number): number {
  if (!(clean > 0)) {
    throw new GradsightError('bad-argument', `Average Drop divides by the clean score, which is ${clean}`, {
      hint: 'compute Average Drop on probabilities (softmax scores), which are positive',
    });
  }
  return Math.max(0, clean - masked) / clean;
}

/** Average Drop % = 100 · (1/N) Σ_i max(0, Y_i − O_i)/Y_i. */
export function averageDrop(records: readonly Pick<ConfidenceChange, 'clean' | 'masked'>[]): number {
  if (records.length === 0) return Number.NaN;
  let sum = 0;
  for (const r of records) sum += relativeDrop(r.clean, r.masked);
  return (100 * sum) / records.length;
}

/** Increase in Confidence % = 100 · (1/N) Σ_i [O_i > Y_i]. */
export function increaseInConfidence(records: readonly Pick<ConfidenceChange, 'clean' | 'masked'>[]): number {
  if (records.length === 0) return Number.NaN;
  return (100 * records.filter((r) => r.masked > r.clean).length) / records.length;
}

/**
 * Win % per method = 100 · (1/N) Σ_i w_i(method): on image i the method(s) with the lowest relative
 * drop win it; a tie among k methods gives each 1/k, so the shares add up to 100 (with two methods
 * and no ties this is the paper's "fall in confidence lower than the other's"). `drops[method][i]`
 * is the relative drop of the method on image i; every method lists the same images in order.
 */
export function win(drops: Readonly<Record<string, readonly number[]>>): Record<string, number> {
  const methods = Object.keys(drops);
  const n = drops[methods[0]!]?.length ?? 0;
  for (const m of methods) {
    if (drops[m]!.length !== n) {
      throw new GradsightError(
        'bad-argument',
        `Win: ${m} has ${drops[m]!.length} drops, ${methods[0]} has ${n}`,
        {
          hint: 'give every method its drop on the same images, in the same order',
        },
      );
    }
  }
  const wins: Record<string, number> = Object.fromEntries(methods.map((m) => [m, 0]));
  for (let i = 0; i < n; i++) {
    const lowest = Math.min(...methods.map((m) => drops[m]![i]!));
    const winners = methods.filter((m) => drops[m]![i] === lowest);
    for (const m of winners) wins[m]! += 1 / winners.length;
  }
  return Object.fromEntries(methods.map((m) => [m, n === 0 ? Number.NaN : (100 * wins[m]!) / n]));
}
