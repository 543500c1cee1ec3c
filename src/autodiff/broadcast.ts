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

/** g (shaped like `y`) reduced to the shape of operand `x`. */
export function unbroadcast(ctx: GradContext, g: string, y: string, x: string): string {
  const ys = ctx.shape(y);
  const xs = ctx.shape(x);
  const axes = broadcastAxes(ys, xs);
  if (axes.length === 0 && ys.length === xs.length) return g;
  return ctx.e.reshapeLike(ctx.e.reduceSum(g, axes, true), x);
}
