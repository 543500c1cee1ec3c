// Gradient rules for ops that move data without arithmetic: reshapes, transposes, joins, slices,
// pads, expands and constant-index gathers. The gradient goes back to where each element came from.

import { getInt, getInts, getString } from '../../onnx/index.ts';
import { unbroadcast } from '../broadcast.ts';
import { type GradContext, type GradRule, only } from '../rule.ts';

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

// Reshape, Flatten (and Squeeze / Unsqueeze without known axes): y is x with other dims ⇒ dx = reshape(g, shape(x))
export const reshapeBack: GradRule = (ctx, gY) => {
  const x = ctx.node.inputs[0]!;
  const xs = ctx.shape(x);
  const ys = ctx.shape(ctx.node.outputs[0]!);
  // A constant shape where x's dims after the first are static and the first passes through (0 =
  // copy g's): ONNX Runtime then knows every backward shape at load time, which its NCHWc layout
  // needs to keep elementwise gradient ops beside the Convs. Else x's runtime shape.
  const keepsFirst = xs.length > 0 && ys.length > 0 && xs[0] === ys[0];
  const dx =
    keepsFirst && xs.slice(1).every((d) => typeof d === 'number')
      ? ctx.e.reshape(only(gY), ctx.e.constI64([0, ...(xs.slice(1) as number[])]))
      : ctx.e.reshapeLike(only(gY), x);
  return [dx, ...ctx.node.inputs.slice(1).map(() => undefined)];
};

// y = squeeze(x, axes) ⇒ dx = unsqueeze(g, axes);  y = unsqueeze(x, axes) ⇒ dx = squeeze(g, axes)
// No forward shape is read, so the batch may sit on any axis (time-major recurrent tensors [T, N, H]
// repeated by CompileOptions.repeatRows); a Squeeze without axes whose 1s are not all known falls
// back to the reshape.
export const squeezeBack: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const x = node.inputs[0]!;
  const squeeze = node.opType === 'Squeeze';
  const rank = ctx.shape(squeeze ? x : node.outputs[0]!).length;
  const axesInput = node.inputs[1] ? ctx.constant(node.inputs[1]) : undefined;
  let axes: number[] | undefined;
  if (axesInput) axes = Array.from(axesInput as ArrayLike<number | bigint>, (a) => norm(Number(a), rank));
  else if (node.attributes.has('axes')) axes = getInts(node, 'axes').map((a) => norm(a, rank));
  else if (node.inputs[1] === undefined || node.inputs[1] === '') {
    const xs = ctx.shape(x);
    if (squeeze && xs.every((d) => typeof d === 'number')) axes = xs.flatMap((d, i) => (d === 1 ? [i] : []));
  }
  if (!axes) return reshapeBack(ctx, gY);
  const sorted = [...axes].sort((a, b) => a - b);
  const g = only(gY);
  const dx = sorted.length === 0 ? g : squeeze ? e.unsqueeze(g, sorted) : e.squeeze(g, sorted);
  return [dx, ...node.inputs.slice(1).map(() => undefined)];
};

// y = transpose(x, p) ⇒ dx = transpose(g, p⁻¹)
export const transpose: GradRule = (ctx, gY) => {
  const rank = ctx.shape(ctx.node.inputs[0]!).length;
  const perm = getInts(
    ctx.node,
    'perm',
    Array.from({ length: rank }, (_, i) => rank - 1 - i),
  );
  const inv: number[] = [];
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return [ctx.e.transpose(only(gY), inv)];
};

// y = concat(x₀, x₁, …) ⇒ dxᵢ = g[offᵢ : offᵢ + lenᵢ] along the axis
export const concat: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const rank = ctx.shape(node.outputs[0]!).length;
  const axis = norm(getInt(node, 'axis'), rank);
  const lens = node.inputs.map((x) => ctx.shape(x)[axis]);
  if (!lens.every((d): d is number => typeof d === 'number')) {
    // Symbolic lengths (a concat along H or W): Split g by the inputs' runtime lengths.
    if (e.opset < 13) throw new Error(`Concat '${node.name}': symbolic sizes on axis ${axis} need opset 13`);
    const split = e.concat(
      node.inputs.map((x) => e.dimsOf(x, axis, axis + 1)),
      0,
    );
    const parts = e.emit('Split', [only(gY), split], { axis: { i: axis } }, node.inputs.length);
    return parts.map((p, i) => (ctx.need(i) ? p : undefined));
  }
  let offset = 0;
  return node.inputs.map((_, i) => {
    const start = offset;
    offset += lens[i]!;
    return ctx.need(i) ? e.slice(only(gY), [start], [offset], [axis]) : undefined;
  });
};

// (y₀, y₁, …) = split(x) ⇒ dx = concat(g₀, g₁, …), zeros for outputs without gradient
export const split: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const rank = ctx.shape(node.inputs[0]!).length;
  const axis = norm(getInt(node, 'axis', 0), rank);
  const parts = node.outputs.map((y, i) => gY[i] ?? e.expandLike(e.scalar(0), y));
  return [e.concat(parts, axis), ...node.inputs.slice(1).map(() => undefined)];
};

/** Per-axis start/step/length of a Slice node, normalised and clamped as the ONNX spec does. */
function sliceGeometry(ctx: GradContext) {
  const { node } = ctx;
  const x = node.inputs[0]!;
  const dims = ctx.shape(x);
  const rank = dims.length;
  const value = (i: number): number[] | undefined => {
    const name = node.inputs[i];
    if (!name) return undefined;
    const v = ctx.constant(name);
    if (!v) throw new Error(`Slice '${node.name}': input ${name} is not a constant`);
    return Array.from(v as ArrayLike<number | bigint>, Number);
  };
  const starts = value(1)!;
  const ends = value(2)!;
  const axes = (value(3) ?? starts.map((_, i) => i)).map((a) => norm(a, rank));
  const steps = value(4) ?? starts.map(() => 1);
  return axes.map((axis, k) => {
    const dim = dims[axis];
    if (typeof dim !== 'number') throw new Error(`Slice '${node.name}': axis ${axis} has no static size`);
    const step = steps[k]!;
    const clampIdx = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + dim : v, lo), hi);
    const start = step > 0 ? clampIdx(starts[k]!, 0, dim) : clampIdx(starts[k]!, -1, dim - 1);
    const end = step > 0 ? clampIdx(ends[k]!, 0, dim) : clampIdx(ends[k]!, -1, dim - 1);
    const length = Math.max(0, Math.ceil((end - start) / step));
    return { axis, dim, step, start, length };
  });
}

// y = x[start : end : step] per axis ⇒ dx = g placed back at those positions, zeros elsewhere
export const slice: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  let g = only(gY);
  const computed = [1, 2].some((i) => node.inputs[i] && !ctx.constant(node.inputs[i]!));
  if (computed) return [sliceComputedBounds(ctx, g), undefined, undefined, undefined, undefined];
  const rank = ctx.shape(node.inputs[0]!).length;
  const shape = [...ctx.shape(node.outputs[0]!)];
  for (const { axis, dim, step, start, length } of sliceGeometry(ctx)) {
    const s = Math.abs(step);
    // The lowest index the slice touches; a negative step visits it last, so reverse g first.
    const low = step > 0 ? start : start + (length - 1) * step;
    if (step < 0) g = e.slice(g, [-1], [Number.MIN_SAFE_INTEGER], [axis], [-1]);
    if (s > 1) {
      // Interleave s − 1 zeros after each element: [.., L, ..] → [.., L, s, ..] → [.., L·s, ..].
      g = e.unsqueeze(g, [axis + 1]);
      const pads = Array(2 * (rank + 1)).fill(0);
      pads[rank + 1 + axis + 1] = s - 1;
      g = e.pad(g, pads);
      const merged = shape.map((d, i) => (i === axis ? length * s : i < axis ? 0 : d));
      if (merged.some((d) => typeof d !== 'number'))
        throw new Error(`Slice '${node.name}': needs static sizes`);
      g = e.reshape(g, e.constI64(merged as number[]));
      const keep = Math.min(length * s, dim - low);
      if (keep < length * s) g = e.slice(g, [0], [keep], [axis]);
    }
    const span = s > 1 ? Math.min(length * s, dim - low) : length;
    const pads = Array(2 * rank).fill(0);
    pads[axis] = low;
    pads[rank + axis] = dim - low - span;
    g = e.pad(g, pads);
    shape[axis] = dim;
  }
  return [g, undefined, undefined, undefined, undefined];
};

/**
 * Slice whose starts/ends are computed in the graph (torch.chunk exported with a dynamic batch:
 * Shape → Gather → Div → Mul): unit steps only; the pads [begin, dim − end] per axis are computed
 * in the graph too, with the spec's normalisation (negative → + dim, then clamped to [0, dim]).
 */
function sliceComputedBounds(ctx: GradContext, g: string): string {
  const { e, node } = ctx;
  const dims = ctx.shape(node.inputs[0]!);
  const rank = dims.length;
  const constant = (i: number): number[] | undefined => {
    const name = node.inputs[i];
    const v = name ? ctx.constant(name) : undefined;
    if (name && !v) throw new Error(`Slice '${node.name}': input ${name} (axes/steps) is not a constant`);
    return v ? Array.from(v as ArrayLike<number | bigint>, Number) : undefined;
  };
  const count = ctx.shape(node.inputs[1]!)[0];
  const axes = constant(3) ?? (typeof count === 'number' ? [...Array(count).keys()] : undefined);
  if (!axes) throw new Error(`Slice '${node.name}': the number of sliced axes is unknown`);
  if ((constant(4) ?? []).some((s) => s !== 1))
    throw new Error(`Slice '${node.name}': computed bounds need unit steps`);
  const zero = e.constI64([0]);
  const bound = (input: number, k: number, dim: number): string => {
    const v = e.slice(node.inputs[input]!, [k], [k + 1], [0]);
    const d = e.constI64([dim]);
    const n = e.where(e.less(v, zero), e.add(v, d), v);
    return e.where(e.less(n, zero), zero, e.where(e.greater(n, d), d, n));
  };
  const begins: string[] = Array(rank).fill(zero);
  const ends: string[] = Array(rank).fill(zero);
  axes.forEach((a, k) => {
    const axis = norm(a, rank);
    const dim = dims[axis];
    if (typeof dim !== 'number') throw new Error(`Slice '${node.name}': axis ${axis} has no static size`);
    begins[axis] = bound(1, k, dim);
    ends[axis] = e.sub(e.constI64([dim]), bound(2, k, dim));
  });
  return e.op('Pad', [g, e.concat([...begins, ...ends], 0)]);
}

// y = pad(x, constant) ⇒ dx = g[begin : begin + dim]   (negative pads crop: pad g back)
// Only the padded axes are sliced, each from its begin pad to its end pad counted from the end, so
// no axis needs a static size.
export const pad: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const x = node.inputs[0]!;
  const rank = ctx.shape(x).length;
  const mode = getString(node, 'mode', 'constant');
  if (mode !== 'constant') throw new Error(`Pad '${node.name}': mode ${mode} has no gradient rule`);
  const padsValue = node.inputs[1] ? ctx.constant(node.inputs[1]) : undefined;
  const raw = padsValue
    ? Array.from(padsValue as ArrayLike<number | bigint>, Number)
    : [...getInts(node, 'pads')];
  const axesValue = node.inputs[3] ? ctx.constant(node.inputs[3]) : undefined;
  const axes = axesValue
    ? Array.from(axesValue as ArrayLike<number | bigint>, (a) => norm(Number(a), rank))
    : Array.from({ length: rank }, (_, i) => i);
  if (raw.length !== 2 * axes.length)
    throw new Error(`Pad '${node.name}': ${raw.length} pads for ${axes.length} axes`);
  const begin: number[] = Array(rank).fill(0);
  const end: number[] = Array(rank).fill(0);
  axes.forEach((a, k) => {
    begin[a] = raw[k]!;
    end[a] = raw[axes.length + k]!;
  });
  // Crop what was padded: g[b : len − e] on each axis with a positive pad (an end pad counted from
  // the end, so the axis length is never needed); re-pad with zeros what the forward cropped.
  const sliced = begin.map((_, i) => i).filter((i) => begin[i]! > 0 || end[i]! > 0);
  const g =
    sliced.length === 0
      ? only(gY)
      : e.slice(
          only(gY),
          sliced.map((i) => Math.max(begin[i]!, 0)),
          sliced.map((i) => (end[i]! > 0 ? -end[i]! : Number.MAX_SAFE_INTEGER)),
          sliced,
        );
  const back = [...begin.map((b) => Math.max(-b, 0)), ...end.map((v) => Math.max(-v, 0))];
  return [e.pad(g, back), undefined, undefined, undefined];
};

// y = expand(x, shape) ⇒ dx = g summed over the broadcast axes
export const expand: GradRule = (ctx, gY) => [
  unbroadcast(ctx, only(gY), ctx.node.outputs[0]!, ctx.node.inputs[0]!),
  undefined,
];

// y = gather(x, idx, axis) ⇒ dx[idx] += g   (one-hot MatMul: duplicates add up)
export const gather: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const [x, idxName] = node.inputs as [string, string];
  const idx = ctx.constant(idxName);
  const xs = ctx.shape(x);
  const rank = xs.length;
  const axis = norm(getInt(node, 'axis', 0), rank);
  const dim = xs[axis];
  if (typeof dim !== 'number') throw new Error(`Gather '${node.name}': axis ${axis} has no static size`);
  if (!idx) return [gatherRuntime(ctx, only(gY), axis, dim), undefined];
  const indices = Array.from(idx as ArrayLike<number | bigint>, (v) => norm(Number(v), dim));
  const idxRank = ctx.shape(idxName).length;
  let g = only(gY);
  if (idxRank === 0) g = e.unsqueeze(g, [axis]);
  else if (idxRank > 1)
    throw new Error(`Gather '${node.name}': indices of rank ${idxRank} are not supported`);
  // Move the gathered axis last, multiply by the one-hot [len(idx), dim], move it back.
  const perm = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis);
  perm.push(axis);
  const inv: number[] = [];
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  const onehot = new Float32Array(indices.length * dim);
  indices.forEach((v, i) => {
    onehot[i * dim + v] = 1;
  });
  const moved = axis === rank - 1 ? g : e.transpose(g, perm);
  const scattered = e.matmul(moved, e.constF(onehot, [indices.length, dim]));
  return [axis === rank - 1 ? scattered : e.transpose(scattered, inv), undefined];
};

/**
 * The same scatter-add when the indices are computed at run time (token ids into an embedding table):
 * the one-hot [dim, n] is Equal(range(dim), idx) built in-graph, and g, viewed as [pre, n, post],
 * is multiplied by it: dx = onehot · g → [pre, dim, post]. One MatMul rather than ScatterND with
 * reduction 'add' (opset 16, and missing on the WebGPU backends); it costs dim × n floats.
 */
function gatherRuntime(ctx: GradContext, g: string, axis: number, dim: number): string {
  const { e, node } = ctx;
  const [x, idxName] = node.inputs as [string, string];
  const xs = ctx.shape(x);
  const staticDims = (dims: readonly unknown[], what: string): number => {
    if (!dims.every((d): d is number => typeof d === 'number'))
      throw new Error(`Gather '${node.name}': runtime indices need static sizes ${what} axis ${axis}`);
    return dims.reduce((a, b) => a * b, 1);
  };
  const pre = staticDims(xs.slice(0, axis), 'before');
  const post = staticDims(xs.slice(axis + 1), 'after');
  const flat = e.op('Cast', [e.reshape(idxName, e.constI64([-1]))], { to: { i: 7 } });
  // Negative indices count from the end (ONNX), as the forward Gather reads them.
  const dimC = e.constI64([dim], []);
  const ids = e.where(e.less(flat, e.constI64([0], [])), e.add(flat, dimC), flat);
  const range = e.constI64(
    Array.from({ length: dim }, (_, i) => i),
    [dim, 1],
  );
  const onehot = e.castFloat(e.equal(range, e.unsqueeze(ids, [0])));
  const g3 = e.reshape(g, e.constI64([pre, -1, post]));
  const scattered = e.matmul(onehot, g3);
  return e.reshape(scattered, e.constI64(xs as number[]));
}
