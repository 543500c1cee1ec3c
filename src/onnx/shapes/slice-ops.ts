// Ops that cut or join along axes: Concat, Split, Slice, Pad, Gather. Concat, Slice and Gather also
// fold small int values (shape vectors).

import { getInt, getInts, hasAttr } from '../attributes.ts';
import type { Dim } from '../ir.ts';
import { axis, known, numbers } from './dims.ts';
import type { RuleContext, RuleTable, TensorInfo } from './types.ts';

const concat = (ctx: RuleContext): TensorInfo[] => {
  const infos = Array.from({ length: ctx.inputCount }, (_, i) => ctx.input(i));
  const dtype = infos.find((x) => x?.dtype)?.dtype;
  const shapes = infos.map((x) => x?.shape);
  if (shapes.some((s) => !s) || shapes.length === 0) return [{ dtype, shape: undefined }];
  const rank = shapes[0]!.length;
  const a = axis(getInt(ctx.node, 'axis'), rank);
  const shape: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = shapes.map((s) => s![i] ?? null);
    if (i === a) shape.push(dims.every(known) ? dims.reduce((x, y) => x + y, 0) : null);
    else shape.push(dims.find(known) ?? dims[0]!);
  }
  const values = Array.from({ length: ctx.inputCount }, (_, i) => ctx.value(i));
  const value = rank === 1 && values.every((v) => v) ? values.flatMap((v) => [...v!]) : undefined;
  return [{ dtype, shape, value }];
};

function splitSizes(ctx: RuleContext, dim: Dim): (Dim | undefined)[] {
  const n = ctx.node.outputs.length;
  const explicit =
    ctx.opset < 13 ? (hasAttr(ctx.node, 'split') ? getInts(ctx.node, 'split') : undefined) : ctx.value(1);
  if (explicit) return [...explicit];
  if (ctx.opset >= 13 && ctx.inputCount > 1 && ctx.input(1)) return new Array(n).fill(undefined);
  if (!known(dim)) return new Array(n).fill(null);
  if (hasAttr(ctx.node, 'num_outputs')) {
    // Opset 18: chunks of ceil(dim / n), the last one smaller.
    const chunk = Math.ceil(dim / n);
    return Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
  }
  return new Array(n).fill(dim / n);
}

/** Length of one sliced axis, with ONNX clamping rules for out-of-range starts/ends. */
function sliceRange(dim: number, start: number, end: number, step: number): number[] {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, 0), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  const count = Math.max(0, Math.ceil((e - s) / step));
  return Array.from({ length: count }, (_, i) => s + i * step);
}

const slice = (ctx: RuleContext): TensorInfo[] => {
  const x = ctx.input(0);
  const s = x?.shape;
  const starts = numbers(ctx.value(1));
  const ends = numbers(ctx.value(2));
  const axesIn = ctx.inputCount > 3 && ctx.input(3) ? numbers(ctx.value(3)) : starts?.map((_, i) => i);
  const steps = ctx.inputCount > 4 && ctx.input(4) ? numbers(ctx.value(4)) : starts?.map(() => 1);
  if (!s || !starts || !ends || !axesIn || !steps) return [{ dtype: x?.dtype, shape: undefined }];
  const shape: Dim[] = [...s];
  let value = ctx.value(0);
  axesIn.forEach((rawAxis, i) => {
    const a = axis(rawAxis, s.length);
    const dim = s[a];
    const [start, end, step] = [starts[i]!, ends[i]!, steps[i]!];
    if (!known(dim)) {
      // The whole axis of an unknown (or symbolic) size: keep it.
      shape[a] = step === 1 && start === 0 && end >= 2 ** 31 - 1 ? (dim ?? null) : null;
      value = undefined;
      return;
    }
    const picked = sliceRange(dim, start, end, step);
    shape[a] = picked.length;
    if (value && s.length === 1) value = picked.map((j) => value![j]!);
  });
  return [{ dtype: x?.dtype, shape, value: s.length === 1 ? value : undefined }];
};

export const sliceOpRules: RuleTable = {
  Concat: concat,
  Split: (ctx) => {
    const x = ctx.input(0);
    const s = x?.shape;
    if (!s) return ctx.node.outputs.map(() => ({ dtype: x?.dtype, shape: undefined }));
    const a = axis(getInt(ctx.node, 'axis', 0), s.length);
    return splitSizes(ctx, s[a] ?? null).map((d) => ({
      dtype: x?.dtype,
      shape: d === undefined ? undefined : s.map((k, i) => (i === a ? d : k)),
    }));
  },
  Slice: slice,
  Pad: (ctx) => {
    const x = ctx.input(0);
    const s = x?.shape;
    const pads = ctx.opset < 11 ? getInts(ctx.node, 'pads') : numbers(ctx.value(1));
    if (!s || !pads) return [{ dtype: x?.dtype, shape: undefined }];
    // Opset 18 may name the padded axes; pads then has 2 * axes.length entries.
    const axesIn = ctx.inputCount > 3 && ctx.input(3) ? numbers(ctx.value(3)) : s.map((_, i) => i);
    if (!axesIn) return [{ dtype: x?.dtype, shape: undefined }];
    const shape: Dim[] = [...s];
    axesIn.forEach((raw, i) => {
      const a = axis(raw, s.length);
      const d = s[a];
      const add = pads[i]! + pads[i + axesIn.length]!;
      shape[a] = known(d) ? d + add : add === 0 ? (d ?? null) : null;
    });
    return [{ dtype: x?.dtype, shape }];
  },
  Gather: (ctx) => {
    const x = ctx.input(0);
    const s = x?.shape;
    const idx = ctx.input(1)?.shape;
    if (!s || !idx) return [{ dtype: x?.dtype, shape: undefined }];
    const a = axis(getInt(ctx.node, 'axis', 0), s.length);
    const shape = [...s.slice(0, a), ...idx, ...s.slice(a + 1)];
    const data = ctx.value(0);
    const indices = numbers(ctx.value(1));
    let value: Dim[] | undefined;
    if (s.length === 1 && data && indices)
      value = indices.map((i) => data[i < 0 ? i + data.length : i] ?? null);
    return [{ dtype: x?.dtype, shape, value }];
  },
};
