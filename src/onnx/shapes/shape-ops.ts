// Ops that rearrange dims without touching data order much: Shape, Size, Reshape, Flatten, Transpose,
// Squeeze, Unsqueeze, Expand, Tile. Shape/Reshape/Squeeze/Unsqueeze/Flatten carry small int values
// along, so torch-style Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains resolve.

import { getInt, getInts, hasAttr } from '../attributes.ts';
import type { Dim, Shape } from '../ir.ts';
import { axis, broadcastShapes, known, product } from './dims.ts';
import type { RuleContext, RuleTable, TensorInfo } from './types.ts';

/** Product of dims that keeps a lone symbol ('batch' * 1 * 1 = 'batch'). */
export function productDim(dims: readonly Dim[]): Dim {
  const p = product(dims);
  if (p !== null) return p;
  const unknown = dims.filter((d) => !known(d));
  const rest = product(dims.filter(known));
  return unknown.length === 1 && typeof unknown[0] === 'string' && rest === 1 ? unknown[0] : null;
}

/** Axes from the attribute (older opsets) or from input 1 (newer), undefined when not known. */
export function axesOf(ctx: RuleContext, inputFromOpset: number): readonly number[] | null | undefined {
  if (ctx.opset < inputFromOpset) return hasAttr(ctx.node, 'axes') ? getInts(ctx.node, 'axes') : null;
  if (ctx.inputCount < 2 || ctx.input(1) === undefined) return null; // absent: "all axes"
  const v = ctx.value(1);
  return v?.every(known) ? (v as number[]) : undefined;
}

/** Resolves a Reshape target: 0 copies the input dim (unless allowzero), -1 takes what is left. */
function reshapeTarget(input: Shape, target: readonly Dim[], allowZero: boolean): Shape {
  const out = target.map((d, i) => (d === 0 && !allowZero ? (input[i] ?? null) : d));
  const inferred = out.indexOf(-1);
  if (inferred < 0) return out;
  const others = out.filter((_, i) => i !== inferred);
  // Cancel symbols that appear on both sides ('batch' in and out), then divide the known products.
  const symbolsIn = input.filter((d) => typeof d === 'string') as string[];
  const symbolsOut = others.filter((d) => typeof d === 'string') as string[];
  let ok = !input.includes(null) && !others.includes(null);
  for (const s of symbolsOut) {
    const at = symbolsIn.indexOf(s);
    if (at < 0) ok = false;
    else symbolsIn.splice(at, 1);
  }
  const pin = product(input.filter(known));
  const pout = product(others.filter(known));
  let dim: Dim = null;
  if (ok && pin !== null && pout !== null && pout !== 0) {
    if (symbolsIn.length === 0) dim = pin / pout;
    else if (symbolsIn.length === 1 && pin === pout) dim = symbolsIn[0]!;
  }
  out[inferred] = dim;
  return out;
}

const passValue = (ctx: RuleContext, shape: Shape | undefined): TensorInfo[] => [
  { dtype: ctx.input(0)?.dtype, shape, value: ctx.value(0) },
];

export const shapeOpRules: RuleTable = {
  Shape: (ctx) => {
    const s = ctx.input(0)?.shape;
    if (!s) return [{ dtype: 'int64', shape: undefined }];
    const clamp = (a: number) => Math.min(Math.max(a < 0 ? a + s.length : a, 0), s.length);
    const value = s.slice(clamp(getInt(ctx.node, 'start', 0)), clamp(getInt(ctx.node, 'end', s.length)));
    return [{ dtype: 'int64', shape: [value.length], value }];
  },
  Size: (ctx) => {
    const s = ctx.input(0)?.shape;
    return [{ dtype: 'int64', shape: [], value: s ? [product(s)] : undefined }];
  },
  Reshape: (ctx) => {
    const s = ctx.input(0)?.shape;
    const target = ctx.value(1);
    if (!target) {
      const rank = ctx.input(1)?.shape?.[0];
      return passValue(ctx, known(rank) ? new Array<Dim>(rank).fill(null) : undefined);
    }
    const allowZero = getInt(ctx.node, 'allowzero', 0) === 1;
    return passValue(ctx, reshapeTarget(s ?? target.map(() => null), target, allowZero));
  },
  Flatten: (ctx) => {
    const s = ctx.input(0)?.shape;
    if (!s) return passValue(ctx, undefined);
    const a = axis(getInt(ctx.node, 'axis', 1), s.length);
    return passValue(ctx, [productDim(s.slice(0, a)), productDim(s.slice(a))]);
  },
  Transpose: (ctx) => {
    const s = ctx.input(0)?.shape;
    if (!s) return [{ dtype: ctx.input(0)?.dtype, shape: undefined }];
    const perm = getInts(
      ctx.node,
      'perm',
      s.map((_, i) => s.length - 1 - i),
    );
    return [{ dtype: ctx.input(0)?.dtype, shape: perm.map((p) => s[p] ?? null) }];
  },
  Squeeze: (ctx) => {
    const s = ctx.input(0)?.shape;
    const axes = axesOf(ctx, 13);
    if (!s || axes === undefined) return passValue(ctx, undefined);
    if (axes === null) {
      // Without axes every size-1 dim goes, so every dim must be known.
      return passValue(ctx, s.every(known) ? s.filter((d) => d !== 1) : undefined);
    }
    const drop = new Set(axes.map((a) => axis(a, s.length)));
    return passValue(
      ctx,
      s.filter((_, i) => !drop.has(i)),
    );
  },
  Unsqueeze: (ctx) => {
    const s = ctx.input(0)?.shape;
    const axes = axesOf(ctx, 13);
    if (!s || !axes) return passValue(ctx, undefined);
    const rank = s.length + axes.length;
    const insert = new Set(axes.map((a) => axis(a, rank)));
    const out: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) out.push(insert.has(i) ? 1 : (s[j++] ?? null));
    return passValue(ctx, out);
  },
  Expand: (ctx) => {
    const target = ctx.value(1);
    const s = ctx.input(0)?.shape;
    return [{ dtype: ctx.input(0)?.dtype, shape: target && s ? broadcastShapes([s, target]) : undefined }];
  },
  Tile: (ctx) => {
    const s = ctx.input(0)?.shape;
    const repeats = ctx.value(1);
    const shape =
      s && repeats ? s.map((d, i) => (known(d) && known(repeats[i]) ? d * repeats[i] : null)) : undefined;
    return [{ dtype: ctx.input(0)?.dtype, shape }];
  },
};
