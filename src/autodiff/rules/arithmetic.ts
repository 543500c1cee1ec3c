// Gradient rules for broadcasting binary ops, Where and Pow. Each gradient is reduced back to its
// operand's shape (broadcast.ts). Mul(x, x) needs no special case: the walker adds both inputs'
// contributions to x.

import { unbroadcast } from '../broadcast.ts';
import { type GradRule, only } from '../rule.ts';

// y = a + b ⇒ da = g, db = g   (reduced over broadcast axes)
export const add: GradRule = (ctx, gY) => {
  const g = only(gY);
  const [a, b] = ctx.node.inputs as [string, string];
  const y = ctx.node.outputs[0]!;
  return [
    ctx.need(0) ? unbroadcast(ctx, g, y, a) : undefined,
    ctx.need(1) ? unbroadcast(ctx, g, y, b) : undefined,
  ];
};

// y = a − b ⇒ da = g, db = −g
export const sub: GradRule = (ctx, gY) => {
  const g = only(gY);
  const [a, b] = ctx.node.inputs as [string, string];
  const y = ctx.node.outputs[0]!;
  return [
    ctx.need(0) ? unbroadcast(ctx, g, y, a) : undefined,
    ctx.need(1) ? unbroadcast(ctx, ctx.e.neg(g), y, b) : undefined,
  ];
};

// y = a · b ⇒ da = g · b, db = g · a
export const mul: GradRule = (ctx, gY) => {
  const { e } = ctx;
  const g = only(gY);
  const [a, b] = ctx.node.inputs as [string, string];
  const y = ctx.node.outputs[0]!;
  return [
    ctx.need(0) ? unbroadcast(ctx, e.mul(g, b), y, a) : undefined,
    ctx.need(1) ? unbroadcast(ctx, e.mul(g, a), y, b) : undefined,
  ];
};

// y = a / b ⇒ da = g / b, db = −g · y / b
export const div: GradRule = (ctx, gY) => {
  const { e } = ctx;
  const g = only(gY);
  const [a, b] = ctx.node.inputs as [string, string];
  const y = ctx.node.outputs[0]!;
  return [
    ctx.need(0) ? unbroadcast(ctx, e.div(g, b), y, a) : undefined,
    ctx.need(1) ? unbroadcast(ctx, e.neg(e.div(e.mul(g, y), b)), y, b) : undefined,
  ];
};

// y = c ? a : b ⇒ da = c ? g : 0, db = c ? 0 : g   (the condition carries no gradient)
export const where: GradRule = (ctx, gY) => {
  const { e } = ctx;
  const g = only(gY);
  const [c, a, b] = ctx.node.inputs as [string, string, string];
  const y = ctx.node.outputs[0]!;
  const zero = e.scalar(0);
  return [
    undefined,
    ctx.need(1) ? unbroadcast(ctx, e.where(c, g, zero), y, a) : undefined,
    ctx.need(2) ? unbroadcast(ctx, e.where(c, zero, g), y, b) : undefined,
  ];
};

// y = aᵇ ⇒ da = g · b · aᵇ⁻¹, db = g · y · ln a
export const pow: GradRule = (ctx, gY) => {
  const { e } = ctx;
  const g = only(gY);
  const [a, b] = ctx.node.inputs as [string, string];
  const y = ctx.node.outputs[0]!;
  const exponent = ctx.constant(b);
  let da: string | undefined;
  if (ctx.need(0)) {
    // A constant scalar exponent folds: p = 2 gives 2·a·g, as PyTorch's pow_backward.
    const p = exponent?.length === 1 ? Number(exponent[0]) : undefined;
    const slope =
      p === undefined
        ? e.mul(b, e.op('Pow', [a, e.sub(b, e.scalar(1))]))
        : p === 2
          ? e.mul(e.scalar(2), a)
          : p === 1
            ? e.scalar(1)
            : e.mul(e.scalar(p), e.op('Pow', [a, e.scalar(p - 1)]));
    da = unbroadcast(ctx, e.mul(g, slope), y, a);
  }
  const db = ctx.need(1) ? unbroadcast(ctx, e.mul(g, e.mul(y, e.op('Log', [a]))), y, b) : undefined;
  return [da, db];
};
