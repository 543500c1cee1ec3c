// Gradient rules for reductions, Softmax and LogSoftmax, BatchNormalization (inference) and
// LayerNormalization.

import { getFloat, getInt, getInts, type Node } from '../../onnx/index.ts';
import { type GradContext, type GradRule, only } from '../rule.ts';

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** Reduced axes of ReduceSum/ReduceMean: attribute before opset 13/18, input after; empty = all. */
function reducedAxes(ctx: GradContext, node: Node, rank: number): number[] {
  let axes: number[] | undefined;
  if (node.inputs[1]) {
    const v = ctx.constant(node.inputs[1]);
    if (!v) throw new Error(`${node.opType} '${node.name}': axes must be constant`);
    axes = Array.from(v as ArrayLike<number | bigint>, Number);
  } else if (node.attributes.has('axes')) {
    axes = [...getInts(node, 'axes')];
  }
  if (!axes || axes.length === 0) {
    if (getInt(node, 'noop_with_empty_axes', 0) === 1) return [];
    return Array.from({ length: rank }, (_, i) => i);
  }
  return axes.map((a) => norm(a, rank)).sort((a, b) => a - b);
}

function reduceBack(
  ctx: GradContext,
  gY: readonly (string | undefined)[],
  mean: boolean,
): (string | undefined)[] {
  const { e, node } = ctx;
  const x = node.inputs[0]!;
  const xs = ctx.shape(x);
  const axes = reducedAxes(ctx, node, xs.length);
  if (axes.length === 0) return [only(gY), undefined];
  let g = only(gY);
  if (getInt(node, 'keepdims', 1) === 0) g = e.unsqueeze(g, axes);
  if (mean) {
    // The divisor: static when every reduced axis is, else read at run time.
    const dims = axes.map((a) => xs[a]);
    const n = dims.every((d): d is number => typeof d === 'number')
      ? e.scalar(dims.reduce((p, d) => p * d, 1))
      : e.countAlong(x, axes);
    g = e.div(g, n);
  }
  return [e.expandLike(g, x), undefined];
}

// y = Σ over axes ⇒ dx = expand(g)
export const reduceSum: GradRule = (ctx, gY) => reduceBack(ctx, gY, false);
// y = mean over axes ⇒ dx = expand(g) / n
export const reduceMean: GradRule = (ctx, gY) => reduceBack(ctx, gY, true);

/** Softmax axes: one axis from opset 13; before, every axis from `axis` on (2-D coercion). */
function softmaxAxes(ctx: GradContext): number[] {
  const { node, e } = ctx;
  const rank = ctx.shape(node.inputs[0]!).length;
  if (e.opset >= 13) return [norm(getInt(node, 'axis', -1), rank)];
  const from = norm(getInt(node, 'axis', 1), rank);
  return Array.from({ length: rank - from }, (_, i) => from + i);
}

// y = softmax(x) ⇒ dx = y ⊙ (g − Σ(g ⊙ y))
export const softmax: GradRule = (ctx, gY) => {
  const { e } = ctx;
  const g = only(gY);
  const y = ctx.node.outputs[0]!;
  return [e.mul(y, e.sub(g, e.reduceSum(e.mul(g, y), softmaxAxes(ctx), true)))];
};

// y = log softmax(x) ⇒ dx = g − exp(y) ⊙ Σ g
export const logSoftmax: GradRule = (ctx, gY) => {
  const { e } = ctx;
  const g = only(gY);
  const y = ctx.node.outputs[0]!;
  return [e.sub(g, e.mul(e.exp(y), e.reduceSum(g, softmaxAxes(ctx), true)))];
};

// y = (x − μ)/√(σ² + ε)·γ + β (running statistics) ⇒ dx = g · γ/√(σ² + ε), per channel
export const batchNormalization: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  if (getInt(node, 'training_mode', 0) !== 0) {
    throw new Error(`BatchNormalization '${node.name}' runs in training mode`);
  }
  const [x, scale, , , variance] = node.inputs as [string, string, string, string, string];
  const rank = ctx.shape(x).length;
  const eps = getFloat(node, 'epsilon', 1e-5);
  const k = e.div(scale, e.op('Sqrt', [e.add(variance, e.scalar(eps))]));
  const perChannel = e.reshape(k, e.constI64([-1, ...Array(Math.max(0, rank - 2)).fill(1)]));
  return [e.mul(only(gY), perChannel), undefined, undefined, undefined, undefined];
};

// x̂ = (x − μ)/σ over the normalised axes, y = x̂·γ + β, ĝ = g·γ ⇒
// dx = (ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) / σ
export const layerNormalization: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const [x, scale] = node.inputs as [string, string];
  const rank = ctx.shape(x).length;
  const axis = norm(getInt(node, 'axis', -1), rank);
  const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
  const eps = getFloat(node, 'epsilon', 1e-5);
  const mean = e.reduceMean(x, axes, true);
  const centered = e.sub(x, mean);
  const sigma = e.op('Sqrt', [e.add(e.reduceMean(e.mul(centered, centered), axes, true), e.scalar(eps))]);
  const xhat = e.div(centered, sigma);
  const gh = e.mul(only(gY), scale);
  const inner = e.sub(
    e.sub(gh, e.reduceMean(gh, axes, true)),
    e.mul(xhat, e.reduceMean(e.mul(gh, xhat), axes, true)),
  );
  return [e.div(inner, sigma), undefined, undefined];
};
