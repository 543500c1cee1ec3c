// The rule sets, as values. `guided` and `deconvnet` are `standard` with other rules for ReLU-like
// nodes. ReLU-like policy: every Relu, and every Clip whose lower bound is 0 (ReLU6 and clipped
// ReLUs); other Clips (e.g. hardtanh to [−1, 1]) and LeakyRelu keep the standard rule. This matches
// the references in ../shared (guided rule on every ReLU and ReLU6). Ops with parameter inputs
// (weights, bounds, slopes, scales) differentiate through their data input only (`throughFirst`).

import { LOWERED_OPS } from './recurrent-cells.ts';
import { type GradContext, type GradRule, type RuleSet, type RuleTable, STOP, throughFirst } from './rule.ts';
import * as act from './rules/activations.ts';
import * as arith from './rules/arithmetic.ts';
import { conv } from './rules/conv.ts';
import { gemm, matMul } from './rules/linear.ts';
import * as pool from './rules/pooling.ts';
import * as red from './rules/reduce.ts';
import { resize } from './rules/resize.ts';
import * as shape from './rules/shape-ops.ts';

/** Ops whose outputs carry no gradient: integer/bool results and constants. */
const STOPS = [
  'Shape',
  'Size',
  'Equal',
  'Greater',
  'Less',
  'GreaterOrEqual',
  'LessOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'ArgMax',
  'ArgMin',
  'Constant',
  'ConstantOfShape',
  'NonZero',
  'Range',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'IsNaN',
  'IsInf',
] as const;

const standardRules: RuleTable = {
  Relu: act.relu,
  Clip: throughFirst(1, act.clip),
  LeakyRelu: act.leakyRelu,
  PRelu: throughFirst(1, act.prelu),
  Sigmoid: act.sigmoid,
  HardSigmoid: act.hardSigmoid,
  HardSwish: act.hardSwish,
  Tanh: act.tanh,
  Erf: act.erf,
  Gelu: act.gelu,
  Exp: act.exp,
  Sqrt: act.sqrt,
  Neg: act.neg,
  Reciprocal: act.reciprocal,
  Identity: act.passThrough,
  Cast: act.passThrough,
  Dropout: throughFirst(1, act.dropout),
  Add: arith.add,
  Sub: arith.sub,
  Mul: arith.mul,
  Div: arith.div,
  Where: arith.where,
  Pow: arith.pow,
  Conv: throughFirst(1, conv),
  MaxPool: pool.maxPool,
  AveragePool: pool.averagePool,
  GlobalAveragePool: pool.globalAveragePool,
  GlobalMaxPool: pool.globalMaxPool,
  MatMul: matMul,
  Gemm: gemm,
  BatchNormalization: throughFirst(1, red.batchNormalization),
  LayerNormalization: throughFirst(1, red.layerNormalization),
  Softmax: red.softmax,
  LogSoftmax: red.logSoftmax,
  ReduceMean: red.reduceMean,
  ReduceSum: red.reduceSum,
  Reshape: shape.reshapeBack,
  Flatten: shape.reshapeBack,
  Squeeze: shape.squeezeBack,
  Unsqueeze: shape.squeezeBack,
  Transpose: shape.transpose,
  Concat: shape.concat,
  Split: shape.split,
  Slice: shape.slice,
  Pad: throughFirst(1, shape.pad),
  Expand: shape.expand,
  Gather: shape.gather,
  Resize: throughFirst(1, resize),
  ...Object.fromEntries(STOPS.map((op) => [op, STOP])),
};

/** True for the nodes the guided and deconvnet rules replace (see the policy above). */
export function isReluLike(ctx: GradContext): boolean {
  if (ctx.node.opType === 'Relu') return true;
  return ctx.node.opType === 'Clip' && act.clipBounds(ctx).lo === 0;
}

const onReluLike =
  (modified: GradRule, fallback: GradRule): GradRule =>
  (ctx, gY) =>
    isReluLike(ctx) ? modified(ctx, gY) : fallback(ctx, gY);

export const standard: RuleSet = {
  name: 'standard',
  description: 'plain reverse-mode gradients, as PyTorch autograd computes them',
  rules: standardRules,
};

export const guided: RuleSet = {
  name: 'guided',
  description:
    'Guided Backpropagation: ReLU-like nodes pass only positive gradient where their input is active',
  rules: {
    ...standardRules,
    Relu: onReluLike(act.guidedReluLike, act.relu),
    Clip: throughFirst(1, onReluLike(act.guidedReluLike, act.clip)),
  },
};

export const deconvnet: RuleSet = {
  name: 'deconvnet',
  description: 'Deconvnet: ReLU-like nodes pass only positive gradient, ignoring the forward activation',
  rules: {
    ...standardRules,
    Relu: onReluLike(act.deconvReluLike, act.relu),
    Clip: throughFirst(1, onReluLike(act.deconvReluLike, act.clip)),
  },
};

export const RULE_SETS = { standard, guided, deconvnet } as const;
export type RuleSetName = keyof typeof RULE_SETS;

/** Ops with a gradient rule (or an explicit stop) in a rule set, or lowered before the walk, sorted. */
export function supportedOps(set: RuleSet = standard): string[] {
  return [...Object.keys(set.rules), ...LOWERED_OPS].sort();
}
