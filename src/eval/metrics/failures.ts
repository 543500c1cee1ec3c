// Failure analysis (Grad-CAM paper, Sec. 6.1): for a misclassified image, the predicted class, the
// true class and their contrast `pred-vs-true` (y_pred − y_true: what made the model choose the
// prediction over the truth) explained side by side, for a report gallery.

import { GradsightError } from '../../errors.ts';
import type { Explainer, ExplainOptions, Explanation } from '../../explain/explainer.ts';
import { imagesToBatch } from '../../image/preprocess.ts';
import type { RgbImage } from '../../image/rgb-image.ts';
import type { MethodId } from '../../methods/types.ts';

export type FailureRole = 'predicted' | 'true' | 'contrast';

export interface FailurePanel {
  readonly role: FailureRole;
  readonly method: MethodId;
  /** The target string explained: the class index, or `P-vs-T`. */
  readonly target: string;
  readonly label: string;
  /** The explained scalar at the image (the class score, or y_P − y_T) and the class probability. */
  readonly score: number;
  readonly probability: number | undefined;
  /** The explanation itself: map (H×W) or pixels ([C, H, W]) at the model's input size. */
  readonly explanation: Explanation;
}

export interface FailureCase {
  /** Index of the image in the call. */
  readonly image: number;
  readonly predicted: number;
  readonly predictedLabel: string;
  /** The true class explained: of the image's true classes, the one the model scores highest. */
  readonly trueClass: number;
  readonly trueLabel: string;
  /** Softmax probabilities of the two classes. */
  readonly predictedProbability: number;
  readonly trueProbability: number;
  /** Per method: predicted, true, contrast (in this order). */
  readonly panels: readonly FailurePanel[];
}

export interface FailureOptions {
  /** Methods shown (default Grad-CAM). */
  readonly methods?: readonly MethodId[];
  /** Other explain() options (layers, normalize, ...). */
  readonly explain?: Omit<ExplainOptions, 'method' | 'target' | 'counterfactual'>;
}

/**
 * The failure cases among `images`: each image's true classes (model class indices; a dataset class
 * may map to several, e.g. VOC "bird" to every ImageNet bird) against the model's top-1 class. An
 * image whose top-1 class is one of its true classes is not a failure and is left out.
 */
export async function explainFailures(
  explainer: Explainer,
  images: readonly RgbImage[],
  trueClasses: readonly (number | readonly number[])[],
  options: FailureOptions = {},
): Promise<FailureCase[]> {
  if (images.length !== trueClasses.length) {
    throw new GradsightError(
      'bad-argument',
      `${images.length} images but ${trueClasses.length} true classes`,
      {
        hint: 'give one true class (or list of classes) per image',
      },
    );
  }
  if (images.length === 0) return [];
  const model = explainer.model;
  const methods = [...(options.methods ?? ['gradcam'])];
  const out = await model.run(imagesToBatch(images, model.preprocess));
  const k = out.data.length / images.length;
  const cases: FailureCase[] = [];
  for (let i = 0; i < images.length; i++) {
    const scores = out.data.subarray(i * k, (i + 1) * k);
    const truth = [trueClasses[i]!].flat();
    if (truth.length === 0 || truth.some((c) => !Number.isInteger(c) || c < 0 || c >= k)) {
      throw new GradsightError(
        'bad-argument',
        `image ${i}: true classes [${truth.join(', ')}] are not among the model's ${k} classes`,
        {
          hint: `give class indices from 0 to ${k - 1} (map dataset labels with mapClasses first)`,
        },
      );
    }
    const predicted = argmax(scores);
    if (truth.includes(predicted)) continue;
    const trueClass = truth.reduce((best, c) => (scores[c]! > scores[best]! ? c : best), truth[0]!);
    const targets = [String(predicted), String(trueClass), `${predicted}-vs-${trueClass}`];
    const r = await explainer.explain(images[i]!, { ...options.explain, method: methods, target: targets });
    // explain() gives rows in target order within each method.
    const panels: FailurePanel[] = [];
    const roles: FailureRole[] = ['predicted', 'true', 'contrast'];
    for (const m of methods) {
      const rows = r.explanations.filter((e) => e.method === m);
      rows.forEach((e, j) => {
        panels.push({
          role: roles[j]!,
          method: m,
          target: targets[j]!,
          label: e.target.label,
          score: e.target.score,
          probability: e.target.probability,
          explanation: e,
        });
      });
    }
    const p = softmaxOf(scores, model.outputIsProbability);
    const label = (c: number) => model.labels?.[c] ?? String(c);
    cases.push({
      image: i,
      predicted,
      predictedLabel: label(predicted),
      trueClass,
      trueLabel: label(trueClass),
      predictedProbability: p[predicted]!,
      trueProbability: p[trueClass]!,
      panels,
    });
  }
  return cases;
}

function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

/** Probabilities of an output row: as is when it already is one, else its softmax (log-softmax too). */
function softmaxOf(row: Float32Array, isProbability: boolean): Float64Array {
  if (isProbability) return Float64Array.from(row);
  let max = Number.NEGATIVE_INFINITY;
  for (const v of row) max = Math.max(max, v);
  const e = Float64Array.from(row, (v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
