// Conv's input gradient is ConvTranspose with the same weight initializer (no copy, no flip: the
// layouts coincide for every group count). Weight and bias gradients are not needed for saliency.

import { getInt, getInts } from '../../onnx/index.ts';
import { type GradRule, only } from '../rule.ts';
import { coveredLength, windowOf } from './geometry.ts';

// y = x ⋆ w ⇒ dx = ConvTranspose(g, w) with output_padding r = (H + p_b + p_e − dk) mod s
export const conv: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const [x, w] = node.inputs as [string, string];
  if (!ctx.need(0)) return [undefined, undefined, undefined];
  const wShape = ctx.shape(w);
  const kernel = [...getInts(node, 'kernel_shape', wShape.slice(2) as number[])];
  const win = windowOf(node, kernel, ctx.shape(x), ctx.shape(node.outputs[0]!));
  const n = kernel.length;
  const group = getInt(node, 'group', 1);
  const base = {
    kernel_shape: { ints: kernel },
    strides: { ints: win.strides },
    dilations: { ints: win.dilations },
    group: { i: group },
  };
  const symmetric = win.padBegin.every((p, i) => p === win.padEnd[i]);
  if (ctx.profile === 'cpu' || symmetric) {
    const r = kernel.map((_, i) => {
      const dk = (kernel[i]! - 1) * win.dilations[i]! + 1;
      return (win.inSize[i]! + win.padBegin[i]! + win.padEnd[i]! - dk) % win.strides[i]!;
    });
    const dx = e.op('ConvTranspose', [only(gY), w], {
      ...base,
      pads: { ints: [...win.padBegin, ...win.padEnd] },
      output_padding: { ints: r },
    });
    return [dx, undefined, undefined];
  }
  // 'web': pads = 0 then crop, because an older WebGPU shader averaged asymmetric begin/end pads.
  const extra = kernel.map((_, i) => Math.max(0, win.padBegin[i]! + win.inSize[i]! - coveredLength(win, i)));
  const full = e.op('ConvTranspose', [only(gY), w], {
    ...base,
    pads: { ints: Array(2 * n).fill(0) },
    output_padding: { ints: extra },
  });
  const axes = kernel.map((_, i) => i + 2);
  const dx = e.slice(
    full,
    win.padBegin,
    win.padBegin.map((p, i) => p + win.inSize[i]!),
    axes,
  );
  return [dx, undefined, undefined];
};
