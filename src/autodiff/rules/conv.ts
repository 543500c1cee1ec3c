// Conv's input gradient is ConvTranspose with the same weight initializer (no copy, no flip: the
// layouts coincide for every group count). Weight and bias gradients are not needed for saliency.

import { getInt, getInts } from '../../onnx/index.ts';
import { type GradContext, type GradRule, only } from '../rule.ts';
import { coveredLength, isStatic, type Window, windowOf } from './geometry.ts';

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
  const reach = kernel.map((k, i) => (k - 1) * win.dilations[i]!);
  const unitStrides = win.strides.every((st) => st === 1);
  if (
    ctx.profile === 'cpu' &&
    unitStrides &&
    reach.every((r, i) => r >= win.padBegin[i]! && r >= win.padEnd[i]!)
  ) {
    // Stride 1: dx = Conv(g, w̃) with pads (k−1)d − p, where w̃ swaps w's in/out channels within each
    // group and flips it spatially — ONNX Runtime's Conv (NCHWc, depthwise) is several times faster
    // than its ConvTranspose; w̃ of a weight initializer is folded once when the session loads.
    const dx = e.op('Conv', [only(gY), transposedKernel(ctx, w, group)], {
      ...base,
      pads: {
        ints: [...reach.map((r, i) => r - win.padBegin[i]!), ...reach.map((r, i) => r - win.padEnd[i]!)],
      },
    });
    return [dx, undefined, undefined];
  }
  const strided =
    ctx.profile === 'cpu' && ctx.shapesDeclared ? stridedDepthwise(ctx, win, group, only(gY)) : undefined;
  if (strided) return [strided, undefined, undefined];
  if (!isStatic(win) && !(unitStrides && (ctx.profile === 'cpu' || symmetric))) {
    // Symbolic H, W with strides > 1: how many input rows the last window left out (the output
    // padding) depends on the size. Transpose without pads, pad the end by the most that can be
    // missing (s − 1 − p_e), and crop [p_b, p_b + H) with H read at run time.
    const full = e.op('ConvTranspose', [only(gY), w], { ...base, pads: { ints: Array(2 * n).fill(0) } });
    const extra = kernel.map((_, i) => Math.max(0, win.strides[i]! - 1 - win.padEnd[i]!));
    const axes = kernel.map((_, i) => i + 2);
    const padded = e.pad(full, [...Array(n + 2).fill(0), 0, 0, ...extra]);
    const ends = e.add(e.dimsOf(x, 2, 2 + n), e.constI64(win.padBegin));
    return [e.op('Slice', [padded, e.constI64(win.padBegin), ends, e.constI64(axes)]), undefined, undefined];
  }
  if (ctx.profile === 'cpu' || symmetric) {
    // r = 0 at unit strides, whatever the (possibly symbolic) size.
    const r = kernel.map((_, i) => {
      if (unitStrides) return 0;
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
  if (!isStatic(win)) throw new Error('internal: symbolic web Conv handled above');
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

/**
 * A strided depthwise Conv's input gradient as the stride-1 one on the zero-inserted gradient z
 * (z[s·p] = g[p], 0 between): dx = Conv(z, flip(w)) with pads (k−1)d − p_b and H − s·H_g + p_b.
 * z is a nearest upsampling (index ⌊j/s⌋, exact) times a constant 0/1 lattice. ONNX Runtime has no
 * depthwise ConvTranspose kernel: on MobileNetV2's 96×56² → 112² layer this is 0.86 against 1.42 ms
 * (its profile). Depthwise only: for a full Conv the zeros would cost s² times the multiplications.
 * Only where gradients are declared with their shapes (GradContext.shapesDeclared): ONNX Runtime
 * infers a new batch for the Resize, and without the declarations every mask after it leaves NCHWc.
 * Undefined where it does not apply (2-D, static, opset ≥ 11, pads that come out non-negative).
 */
function stridedDepthwise(ctx: GradContext, win: Window, group: number, g: string): string | undefined {
  const { e, node } = ctx;
  const [c, i] = ctx.shape(node.inputs[1]!) as number[];
  if (win.kernel.length !== 2 || !isStatic(win) || e.opset < 11) return undefined;
  if (i !== 1 || c !== group || win.strides.every((st) => st === 1)) return undefined;
  const z = win.outSize.map((o, a) => o * win.strides[a]!);
  const begin = win.kernel.map((k, a) => (k - 1) * win.dilations[a]! - win.padBegin[a]!);
  const end = win.inSize.map((h, a) => h - z[a]! + win.padBegin[a]!);
  if ([...begin, ...end].some((p) => p < 0)) return undefined;
  const none = e.opset >= 13 ? '' : e.constF([], [0]);
  const up = e.op('Resize', [g, none, e.constF([1, 1, ...win.strides], [4])], {
    mode: { s: 'nearest' },
    coordinate_transformation_mode: { s: 'asymmetric' },
    nearest_mode: { s: 'floor' },
  });
  const [sh, sw] = win.strides as [number, number];
  const [zh, zw] = z as [number, number];
  const lattice = new Float32Array(zh * zw);
  for (let y = 0; y < zh; y += sh) for (let x = 0; x < zw; x += sw) lattice[y * zw + x] = 1;
  const zeroed = e.mul(up, e.constF(lattice, [1, 1, zh, zw]));
  return e.op('Conv', [zeroed, transposedKernel(ctx, node.inputs[1]!, group)], {
    kernel_shape: { ints: win.kernel },
    dilations: { ints: win.dilations },
    group: { i: group },
    pads: { ints: [...begin, ...end] },
  });
}

/**
 * The kernel of Conv's input gradient at stride 1: w̃[g·I + i, o] = flip(w[g·O + o, i]) for group g,
 * w of shape [G·O, I, k…] — a flip alone when depthwise (I = O = 1), a transpose and flip when G = 1.
 */
function transposedKernel(ctx: GradContext, w: string, group: number): string {
  const { e } = ctx;
  const [m, c, ...kernel] = ctx.shape(w) as number[];
  const axes = kernel.map((_, i) => i + 2);
  const flip = (t: string) =>
    kernel.every((k) => k === 1)
      ? t
      : e.slice(
          t,
          axes.map(() => -1),
          axes.map(() => Number.MIN_SAFE_INTEGER),
          axes,
          axes.map(() => -1),
        );
  const o = m! / group;
  if (c === 1 && o === 1) return flip(w);
  const perm = [1, 0, ...axes];
  if (group === 1) return flip(e.transpose(w, perm));
  const grouped = e.reshape(w, e.constI64([group, o, c!, ...kernel]));
  const swapped = e.transpose(grouped, [0, 2, 1, ...axes.map((a) => a + 1)]);
  return flip(e.reshape(swapped, e.constI64([group * c!, o, ...kernel])));
}
