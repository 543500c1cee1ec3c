// Reductions (axes from the attribute or, from opset 13 for ReduceSum and 18 for the rest, from input 1;
// keepdims; noop_with_empty_axes) and ArgMax/ArgMin.

import { getInt } from '../attributes.ts';
import type { Dim } from '../ir.ts';
import { axis } from './dims.ts';
import { axesOf } from './shape-ops.ts';
import type { RuleContext, RuleTable, ShapeRule, TensorInfo } from './types.ts';

const reduceOps = [
  'ReduceMean',
  'ReduceSum',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceSumSquare',
] as const;

function reduced(shape: readonly Dim[], axes: readonly number[], keep: boolean): Dim[] {
  const drop = new Set(axes.map((a) => axis(a, shape.length)));
  return shape.flatMap((d, i) => (drop.has(i) ? (keep ? [1] : []) : [d]));
}

const reduce: ShapeRule = (ctx: RuleContext): TensorInfo[] => {
  const x = ctx.input(0);
  const s = x?.shape;
  const axes = axesOf(ctx, ctx.node.opType === 'ReduceSum' ? 13 : 18);
  if (!s || axes === undefined) return [{ dtype: x?.dtype, shape: undefined }];
  const keep = getInt(ctx.node, 'keepdims', 1) === 1;
  if (axes === null || axes.length === 0) {
    if (getInt(ctx.node, 'noop_with_empty_axes', 0) === 1) return [{ dtype: x?.dtype, shape: s }];
    return [{ dtype: x?.dtype, shape: reduced(s, [...s.keys()], keep) }];
  }
  return [{ dtype: x?.dtype, shape: reduced(s, axes, keep) }];
};

const argReduce: ShapeRule = (ctx) => {
  const s = ctx.input(0)?.shape;
  const keep = getInt(ctx.node, 'keepdims', 1) === 1;
  return [{ dtype: 'int64', shape: s ? reduced(s, [getInt(ctx.node, 'axis', 0)], keep) : undefined }];
};

export const reduceRules: RuleTable = {
  ...Object.fromEntries(reduceOps.map((op) => [op, reduce])),
  ArgMax: argReduce,
  ArgMin: argReduce,
};
