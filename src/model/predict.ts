// Turning a model output into ranked predictions. Classification outputs [N, K] give softmax
// probabilities (or the values themselves when the graph already ends in Softmax); dense outputs
// [N, C, H, W] (segmentation) give each class's share of the pixels, as argmax over C.

import { GradsightError } from '../errors.ts';
import { labelFor } from '../image/labels.ts';
import { type Float32Tensor, sizeOf, softmax, topK } from '../tensor/tensor.ts';

export interface ClassScore {
  readonly index: number;
  readonly label: string;
  /** Softmax probability (classification) or pixel share of the argmax map (segmentation). */
  readonly score: number;
  /** The raw output value (the logit) for classification; undefined for dense outputs. */
  readonly logit: number | undefined;
}

export interface Prediction {
  readonly kind: 'classification' | 'segmentation';
  readonly top: readonly ClassScore[];
}

export interface RankOptions {
  readonly top: number;
  readonly labels: readonly string[] | undefined;
  /** True when the output is already a probability (the graph ends in Softmax). */
  readonly outputIsProbability: boolean;
}

/** One Prediction per batch row of `output`. */
export function rankOutput(output: Float32Tensor, opts: RankOptions): Prediction[] {
  const dims = output.dims;
  if (dims.length === 4) return rankDense(output, opts);
  if (dims.length < 1) {
    throw new GradsightError('model-invalid', `cannot rank a scalar output; expected [N, K] or [N, C, H, W]`);
  }
  const n = dims.length === 1 ? 1 : dims[0]!;
  const k = sizeOf(dims) / n;
  const result: Prediction[] = [];
  for (let b = 0; b < n; b++) {
    const logits = output.data.subarray(b * k, (b + 1) * k);
    const probs = opts.outputIsProbability ? logits : softmax(logits);
    result.push({
      kind: 'classification',
      top: topK(probs, opts.top).map((index) => ({
        index,
        label: labelFor(opts.labels, index),
        score: probs[index]!,
        logit: opts.outputIsProbability ? undefined : logits[index]!,
      })),
    });
  }
  return result;
}

function rankDense(output: Float32Tensor, opts: RankOptions): Prediction[] {
  const [n, c, h, w] = output.dims as [number, number, number, number];
  const plane = h * w;
  const result: Prediction[] = [];
  for (let b = 0; b < n; b++) {
    const counts = new Float64Array(c);
    const base = b * c * plane;
    for (let p = 0; p < plane; p++) {
      let best = 0;
      let bestV = output.data[base + p]!;
      for (let ch = 1; ch < c; ch++) {
        const v = output.data[base + ch * plane + p]!;
        if (v > bestV) {
          bestV = v;
          best = ch;
        }
      }
      counts[best]! += 1;
    }
    const shares = counts.map((x) => x / plane);
    result.push({
      kind: 'segmentation',
      top: topK(shares, opts.top)
        .filter((i) => shares[i]! > 0)
        .map((index) => ({
          index,
          label: labelFor(opts.labels, index),
          score: shares[index]!,
          logit: undefined,
        })),
    });
  }
  return result;
}
