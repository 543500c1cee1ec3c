// The built-in target heads: nonlinear scalars of a score row computed in the graph, so they are
// differentiated exactly at every input (each SmoothGrad copy too) rather than linearised once.
// Each reads X [N, K] (or any [N, ..., K]: the last axis is the class axis) and gives T of X's shape.

import type { Shape } from '../onnx/index.ts';
import type { TargetHead } from './head.ts';

/** softmax over the last axis: T = p. */
export const softmaxHead: TargetHead = {
  key: 'softmax',
  description: 'softmax',
  build: (e, x, shape) => e.op('Softmax', [x], { axis: { i: lastAxis(e.opset, shape) } }),
};

/** log softmax over the last axis: T = log p. */
export const logSoftmaxHead: TargetHead = {
  key: 'log-softmax',
  description: 'log-softmax',
  build: (e, x, shape) => e.op('LogSoftmax', [x], { axis: { i: lastAxis(e.opset, shape) } }),
};

/** Elementwise sigmoid: independent label probabilities of a multi-label model. */
export const sigmoidHead: TargetHead = {
  key: 'sigmoid',
  description: 'sigmoid',
  build: (e, x) => e.op('Sigmoid', [x]),
};

/**
 * T = cos(x_row, r) = ⟨x, r⟩ / (‖x‖‖r‖ + ε) over the flattened row, [N, 1]: similarity to a reference
 * embedding r (pytorch-grad-cam's SimilarityToConceptTarget).
 */
export function cosineHead(reference: Float32Array): TargetHead {
  let norm = 0;
  for (const v of reference) norm += v * v;
  norm = Math.sqrt(norm);
  let hash = 0;
  for (let i = 0; i < reference.length; i++)
    hash = (Math.imul(hash, 31) + Math.round(reference[i]! * 1e6)) | 0;
  return {
    key: `cosine:${reference.length}:${hash}`,
    description: 'cosine similarity to a reference embedding',
    build: (e, x) => {
      const flat = e.op('Flatten', [x], { axis: { i: 1 } });
      const r = e.constF(reference, [1, reference.length]);
      const dot = e.reduceSum(e.mul(flat, r), [1], true);
      const xNorm = e.op('Sqrt', [e.reduceSum(e.mul(flat, flat), [1], true)]);
      return e.div(dot, e.add(e.mul(xNorm, e.scalar(norm)), e.scalar(1e-8)));
    },
  };
}

/** The last axis, written out: before opset 13 Softmax coerces to 2-D at `axis`, which for the last
 * axis is the same reduction. */
function lastAxis(_opset: number, shape: Shape): number {
  return shape.length - 1;
}

/** Heads by the name `gradsight compile --score` takes; `logit` is no head (the scores themselves). */
export const NAMED_HEADS = {
  logit: undefined,
  prob: softmaxHead,
  logprob: logSoftmaxHead,
  sigmoid: sigmoidHead,
} as const satisfies Record<string, TargetHead | undefined>;
export type HeadName = keyof typeof NAMED_HEADS | 'detection';
export const HEAD_NAMES = [...Object.keys(NAMED_HEADS), 'detection'] as HeadName[];
