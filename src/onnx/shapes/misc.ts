// Constant, ConstantOfShape, Range and a few layout ops (DepthToSpace, SpaceToDepth, GatherElements,
// ScatterND, QuantizeLinear/DequantizeLinear), TopK.

import { getInt, getTensor, hasAttr } from '../attributes.ts';
import type { Dim } from '../ir.ts';
import { MAX_FOLDED_ELEMENTS, smallValue } from './constants.ts';
import { known, numbers, product } from './dims.ts';
import type { RuleTable, TensorInfo } from './types.ts';

export const miscRules: RuleTable = {
  Constant: (ctx): (TensorInfo | undefined)[] => {
    const n = ctx.node;
    if (hasAttr(n, 'value')) {
      const t = getTensor(n, 'value');
      return [{ dtype: t.dtype, shape: t.dims, value: smallValue(t) }];
    }
    const attr = [...n.attributes.values()][0]?.value;
    switch (attr?.kind) {
      case 'int':
        return [{ dtype: 'int64', shape: [], value: [attr.value] }];
      case 'float':
        return [{ dtype: 'float32', shape: [], value: [attr.value] }];
      case 'ints':
        return [{ dtype: 'int64', shape: [attr.value.length], value: attr.value }];
      case 'floats':
        return [{ dtype: 'float32', shape: [attr.value.length], value: attr.value }];
      default:
        return [undefined];
    }
  },
  ConstantOfShape: (ctx) => {
    const shape = ctx.value(0);
    const fill = hasAttr(ctx.node, 'value') ? getTensor(ctx.node, 'value') : undefined;
    const dtype = fill?.dtype ?? 'float32';
    const size = shape ? product(shape) : null;
    const v = fill ? (smallValue(fill)?.[0] ?? null) : 0;
    const value = size !== null && size <= MAX_FOLDED_ELEMENTS ? new Array<Dim>(size).fill(v) : undefined;
    return [{ dtype, shape: shape ?? undefined, value }];
  },
  Range: (ctx) => {
    const dtype = ctx.input(0)?.dtype;
    const [start, limit, delta] = [0, 1, 2].map((i) => numbers(ctx.value(i))?.[0]);
    if (start === undefined || limit === undefined || delta === undefined || delta === 0) {
      return [{ dtype, shape: [null] }];
    }
    const count = Math.max(Math.ceil((limit - start) / delta), 0);
    const value =
      count <= MAX_FOLDED_ELEMENTS ? Array.from({ length: count }, (_, i) => start + i * delta) : undefined;
    return [{ dtype, shape: [count], value }];
  },
  DepthToSpace: (ctx) => {
    const x = ctx.input(0);
    const s = x?.shape;
    const b = getInt(ctx.node, 'blocksize');
    const shape = s?.map((d, i) => (i === 0 ? d : !known(d) ? null : i === 1 ? d / (b * b) : d * b));
    return [{ dtype: x?.dtype, shape }];
  },
  SpaceToDepth: (ctx) => {
    const x = ctx.input(0);
    const s = x?.shape;
    const b = getInt(ctx.node, 'blocksize');
    const shape = s?.map((d, i) => (i === 0 ? d : !known(d) ? null : i === 1 ? d * b * b : d / b));
    return [{ dtype: x?.dtype, shape }];
  },
  GatherElements: (ctx) => [{ dtype: ctx.input(0)?.dtype, shape: ctx.input(1)?.shape }],
  ScatterElements: (ctx) => [{ dtype: ctx.input(0)?.dtype, shape: ctx.input(0)?.shape }],
  ScatterND: (ctx) => [{ dtype: ctx.input(0)?.dtype, shape: ctx.input(0)?.shape }],
  DequantizeLinear: (ctx) => [{ dtype: ctx.input(1)?.dtype, shape: ctx.input(0)?.shape }],
  QuantizeLinear: (ctx) => [{ dtype: ctx.input(2)?.dtype ?? 'uint8', shape: ctx.input(0)?.shape }],
  // Values and int64 indices: the input's shape with k along `axis` (K an input from opset 10).
  TopK: (ctx) => {
    const x = ctx.input(0);
    const s = x?.shape;
    const k = ctx.opset >= 10 ? numbers(ctx.value(1))?.[0] : getInt(ctx.node, 'k');
    const rank = s?.length ?? 0;
    const a = getInt(ctx.node, 'axis', -1);
    const axis = a < 0 ? a + rank : a;
    const shape = s?.map((d, i) => (i === axis ? (k ?? null) : d));
    return [
      { dtype: x?.dtype, shape },
      { dtype: 'int64', shape },
    ];
  },
};
