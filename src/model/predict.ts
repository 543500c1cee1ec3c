// Turning a model output into ranked predictions, by the output's task (model/description.ts):
// classification [N, K] gives softmax probabilities (or the values themselves when the graph already
// ends in Softmax); multi-label gives a sigmoid per class (each class on its own, not summing to 1);
// segmentation [N, C, H, W] or [N, H, W, C] gives each class's share of the pixels, as argmax over C.
// `predictImages` runs the whole path of `gradsight predict` (decode, batch, run, rank) for a library.

import { GradsightError } from '../errors.ts';
import { labelFor } from '../image/labels.ts';
import { imagesToBatch } from '../image/preprocess.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { type Float32Tensor, sizeOf, softmax, topK } from '../tensor/tensor.ts';
import type { TaskDescription } from './description.ts';
import type { ImageModel } from './image-model.ts';

export interface ClassScore {
  readonly index: number;
  readonly label: string;
  /** Softmax probability (classification), sigmoid (multi-label) or pixel share (segmentation). */
  readonly score: number;
  /** The raw output value (the logit) for classification and multi-label; undefined for dense outputs. */
  readonly logit: number | undefined;
}

export interface Prediction {
  readonly kind: 'classification' | 'multi-label' | 'segmentation';
  /** Best first; only classes with a finite score (empty when the output row is not finite). */
  readonly top: readonly ClassScore[];
  /** Set when the output row holds NaN or ±Inf: its ranking means nothing (NaN weights, overflow). */
  readonly diagnostic?: OutputDiagnostic;
}

export interface OutputDiagnostic {
  readonly code: 'non-finite';
  readonly message: string;
  readonly suggestion: string;
}

export interface RankOptions {
  readonly top: number;
  readonly labels: readonly string[] | undefined;
  /** True when the output is already a probability (the graph ends in Softmax, or Sigmoid for multi-label). */
  readonly outputIsProbability: boolean;
  /** The output's task; default: segmentation (NCHW) for 4-D outputs, classification otherwise. */
  readonly task?: TaskDescription;
}

/** One Prediction per batch row of `output`. */
export function rankOutput(output: Float32Tensor, opts: RankOptions): Prediction[] {
  const dims = output.dims;
  const task: TaskDescription =
    opts.task ??
    (dims.length === 4 ? { kind: 'segmentation', outputLayout: 'NCHW' } : { kind: 'classification' });
  if (task.kind === 'segmentation') return rankDense(output, opts, task.outputLayout === 'NHWC');
  if (task.kind === 'detection') {
    throw new GradsightError(
      'method-not-applicable',
      `the output is a "${task.decoder}" detection grid: it has detections, not a ranking of classes`,
      {
        hint: '`gradsight explain -t det` decodes and explains the detections; or read another output (--output)',
      },
    );
  }
  if (dims.length < 1) {
    throw new GradsightError('model-invalid', `cannot rank a scalar output; expected [N, K] or [N, C, H, W]`);
  }
  const n = dims.length === 1 ? 1 : dims[0]!;
  const k = sizeOf(dims) / n;
  // A captioner scores the next word at every position [N, L, V]: its ranking is the first word's.
  const ranked = task.kind === 'captioning' && dims.length === 3 ? dims[2]! : k;
  const result: Prediction[] = [];
  for (let b = 0; b < n; b++) {
    const logits = output.data.subarray(b * k, b * k + ranked);
    const probs = opts.outputIsProbability
      ? logits
      : task.kind === 'multi-label'
        ? sigmoid(logits)
        : softmax(logits);
    const diagnostic = nonFinite(logits);
    result.push({
      kind: task.kind === 'multi-label' ? 'multi-label' : 'classification',
      // One NaN or Inf logit makes every softmax probability NaN: no ranking, a diagnostic instead.
      top: (diagnostic && !opts.outputIsProbability && task.kind === 'classification'
        ? []
        : topK(probs, opts.top).filter((index) => Number.isFinite(probs[index]!))
      ).map((index) => ({
        index,
        label: labelFor(opts.labels, index),
        score: probs[index]!,
        logit: opts.outputIsProbability ? undefined : logits[index]!,
      })),
      ...(diagnostic ? { diagnostic } : {}),
    });
  }
  return result;
}

/** A diagnostic when a row of the output holds NaN or ±Inf. */
function nonFinite(row: Float32Array): OutputDiagnostic | undefined {
  let count = 0;
  for (let i = 0; i < row.length; i++) if (!Number.isFinite(row[i]!)) count++;
  if (count === 0) return undefined;
  return {
    code: 'non-finite',
    message: `the model output holds NaN or infinite values (${count} of ${row.length}): its scores mean nothing`,
    suggestion:
      'check the model weights for NaN/Inf and the input for extreme values; an fp16 model may overflow',
  };
}

/** 1 / (1 + e^−x) per value, in float64 then stored as float32. */
function sigmoid(x: Float32Array): Float32Array {
  return x.map((v) => 1 / (1 + Math.exp(-v)));
}

function rankDense(output: Float32Tensor, opts: RankOptions, channelsLast: boolean): Prediction[] {
  if (output.dims.length !== 4) {
    throw new GradsightError(
      'bad-description',
      `a segmentation output must be 4-D, got [${output.dims.join(', ')}]`,
      { hint: 'describe the output\'s task in preprocess.json ("task")' },
    );
  }
  const [n, d1, d2, d3] = output.dims as [number, number, number, number];
  const [c, plane] = channelsLast ? [d3, d1 * d2] : [d1, d2 * d3];
  // Class ch of pixel p in row b: NCHW strides (plane, 1), NHWC strides (1, c).
  const [chStride, pStride] = channelsLast ? [1, c] : [plane, 1];
  const result: Prediction[] = [];
  for (let b = 0; b < n; b++) {
    const counts = new Float64Array(c);
    const base = b * c * plane;
    for (let p = 0; p < plane; p++) {
      const at = base + p * pStride;
      let best = 0;
      let bestV = output.data[at]!;
      for (let ch = 1; ch < c; ch++) {
        const v = output.data[at + ch * chStride]!;
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

export interface PredictImagesOptions<S> {
  /** Turns a source (a path, a URL, bytes) into an image; a GradsightError marks that image as failed. */
  readonly decode: (source: S) => Promise<RgbImage>;
  /** Images per model run (default 8). */
  readonly batch?: number;
  /** Classes per prediction (default 5). */
  readonly top?: number;
}

export type ImagePrediction<S> =
  | { readonly source: S; readonly prediction: Prediction }
  | { readonly source: S; readonly error: GradsightError };

/**
 * Predicts for every source, in order, `batch` images per model run. Images that fail to decode are
 * reported, not thrown, so one bad file does not stop a folder.
 */
export async function predictImages<S>(
  model: ImageModel,
  sources: readonly S[],
  opts: PredictImagesOptions<S>,
): Promise<ImagePrediction<S>[]> {
  const batch = opts.batch ?? 8;
  const out: ImagePrediction<S>[] = new Array(sources.length);
  for (let start = 0; start < sources.length; start += batch) {
    const decoded: { at: number; img: RgbImage }[] = [];
    for (let at = start; at < Math.min(start + batch, sources.length); at++) {
      const source = sources[at]!;
      try {
        decoded.push({ at, img: await opts.decode(source) });
      } catch (e) {
        if (!(e instanceof GradsightError)) throw e;
        out[at] = { source, error: e };
      }
    }
    if (decoded.length === 0) continue;
    const x = imagesToBatch(
      decoded.map((d) => d.img),
      model.preprocess,
    );
    const preds = await model.predict(x, opts.top ?? 5);
    decoded.forEach((d, i) => {
      out[d.at] = { source: sources[d.at]!, prediction: preds[i]! };
    });
  }
  return out;
}
