// Gradient rules for MatMul and Gemm. MatMul follows numpy semantics (batched, broadcast, 1-D operands
// promoted); Gemm's four transpose cases map to one Gemm each.

import { getFloat, getInt } from '../../onnx/index.ts';
import { broadcastAxes } from '../broadcast.ts';
import { type GradRule, only } from '../rule.ts';

const swapLast = (rank: number): number[] => {
  const p = Array.from({ length: rank }, (_, i) => i);
  [p[rank - 2], p[rank - 1]] = [p[rank - 1]!, p[rank - 2]!];
  return p;
};

// y = a·b ⇒ da = g·bᵀ, db = aᵀ·g   (summed over broadcast batch axes; 1-D operands promoted)
export const matMul: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const [a, b] = node.inputs as [string, string];
  const sa = ctx.shape(a);
  const sb = ctx.shape(b);
  // Promote 1-D operands as numpy does (a [K] → [1, K], b [K] → [K, 1]); g regains the dropped axes.
  const pa = sa.length === 1 ? [1, sa[0]!] : sa;
  const pb = sb.length === 1 ? [sb[0]!, 1] : sb;
  let g = only(gY);
  if (sb.length === 1) g = e.unsqueeze(g, [-1]);
  if (sa.length === 1) g = e.unsqueeze(g, [-2]);
  const a2 = sa.length === 1 ? e.unsqueeze(a, [0]) : a;
  const b2 = sb.length === 1 ? e.unsqueeze(b, [1]) : b;
  const rank = Math.max(pa.length, pb.length);
  const batchOut = broadcastBatch(pa.slice(0, -2), pb.slice(0, -2), rank - 2);
  const back = (grad: string, promoted: readonly (number | string | null)[], operand: string) => {
    const axes = broadcastAxes(batchOut, promoted.slice(0, -2));
    return e.reshapeLike(e.reduceSum(grad, axes, true), operand);
  };
  return [
    ctx.need(0) ? back(e.matmul(g, e.transpose(b2, swapLast(pb.length))), pa, a) : undefined,
    ctx.need(1) ? back(e.matmul(e.transpose(a2, swapLast(pa.length)), g), pb, b) : undefined,
  ];
};

/** numpy broadcast of two batch shapes, right-aligned, to `rank` axes. */
function broadcastBatch(
  x: readonly (number | string | null)[],
  y: readonly (number | string | null)[],
  rank: number,
): (number | string | null)[] {
  const out: (number | string | null)[] = [];
  for (let i = 0; i < rank; i++) {
    const dx = x[x.length - rank + i];
    const dy = y[y.length - rank + i];
    out.push(dx === undefined || dx === 1 ? (dy ?? 1) : dx);
  }
  return out;
}

// y = α·op(a)·op(b) + β·c ⇒ da = α·g·op(b)ᵀ (transposed back if transA), db likewise, dc = β·g
export const gemm: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const g = only(gY);
  const [a, b, c] = node.inputs as [string, string, string | undefined];
  const alpha = getFloat(node, 'alpha', 1);
  const beta = getFloat(node, 'beta', 1);
  const tA = getInt(node, 'transA', 0);
  const tB = getInt(node, 'transB', 0);
  const gemmOp = (x: string, y: string, transA: number, transB: number) =>
    e.op('Gemm', [x, y], { alpha: { f: alpha }, transA: { i: transA }, transB: { i: transB } });
  let da: string | undefined;
  if (ctx.need(0)) {
    if (!tA) da = tB ? gemmOp(g, b, 0, 0) : gemmOp(g, b, 0, 1);
    else da = tB ? gemmOp(b, g, 1, 1) : gemmOp(b, g, 0, 1);
  }
  let db: string | undefined;
  if (ctx.need(1)) {
    if (!tB) db = tA ? gemmOp(a, g, 0, 0) : gemmOp(a, g, 1, 0);
    else db = tA ? gemmOp(g, a, 1, 1) : gemmOp(g, a, 1, 0);
  }
  let dc: string | undefined;
  if (c && ctx.need(2)) {
    const scaled = beta === 1 ? g : e.mul(g, e.scalar(beta));
    const cs = ctx.shape(c);
    const axes = broadcastAxes(ctx.shape(node.outputs[0]!), cs);
    dc = axes.length || cs.length !== 2 ? e.reshapeLike(e.reduceSum(scaled, axes, true), c) : scaled;
  }
  return [da, db, dc];
};
