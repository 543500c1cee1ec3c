// Reducing a broadcast gradient back to an operand's shape (numpy broadcasting, right-aligned):
// sum over the leading axes the operand lacks and the axes where it has size 1, then reshape.

import type { Shape } from '../onnx/index.ts';
import type { GradContext } from './rule.ts';

/** Axes of `out` along which an operand of shape `operand` was broadcast. */
export function broadcastAxes(out: Shape, operand: Shape): number[] {
  const offset = out.length - operand.length;
  const axes: number[] = [];
  for (let i = 0; i < out.length; i++) {
    if (i < offset) axes.push(i);
    else if (operand[i - offset] === 1 && out[i] !== 1) axes.push(i);
  }
  return axes;
}

/**
 * Axes of `out` where a symbolic operand dim meets a known size n > 1: the operand is n there, or 1
 * and broadcast to n, which only the run time tells.
 */
export function openAxes(out: Shape, operand: Shape): number[] {
  const offset = out.length - operand.length;
  const axes: number[] = [];
  for (let i = Math.max(0, offset); i < out.length; i++) {
    const d = operand[i - offset];
    if (typeof d !== 'number' && typeof out[i] === 'number' && out[i] !== 1) axes.push(i);
  }
  return axes;
}

/** g (shaped like `y`) reduced to the shape of operand `x`. */
export function unbroadcast(ctx: GradContext, g: string, y: string, x: string): string {
  const { e } = ctx;
  const ys = ctx.shape(y);
  const xs = ctx.shape(x);
  const offset = ys.length - xs.length;
  let r = g;
  for (const i of openAxes(ys, xs)) {
    // Split axis i of g (size n) into [d, n / d] with d = x's size at run time, and sum the second
    // part: with d = n that sums nothing, with d = 1 it sums the broadcast rows. Exact either way.
    const parts = [
      ...(i > 0 ? [e.dimsOf(r, 0, i)] : []),
      e.dimsOf(x, i - offset, i - offset + 1),
      e.constI64([-1]),
      ...(i + 1 < ys.length ? [e.dimsOf(r, i + 1, ys.length)] : []),
    ];
    r = e.reduceSum(e.reshape(r, e.concat(parts, 0)), [i + 1], false);
  }
  const axes = broadcastAxes(ys, xs);
  if (axes.length === 0 && ys.length === xs.length) return r;
  return e.reshapeLike(e.reduceSum(r, axes, true), x);
}
