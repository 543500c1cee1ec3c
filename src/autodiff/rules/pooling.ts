// Pooling gradients in standard ops that every backend runs. MaxPool uses unfold–compare–fold:
// gather each tap with a strided Slice, keep the FIRST tap equal to the max (CumSum), and scatter-add
// back with a one-hot ConvTranspose. That matches PyTorch exactly: the first max in row-major window
// order wins ties (all-zero windows after a ReLU are ties), and overlapping windows add up.

import { getInt, getInts } from '../../onnx/index.ts';
import type { Emitter } from '../emitter.ts';
import { type GradContext, type GradRule, only } from '../rule.ts';
import { coveredLength, spatialDims, type Window, windowOf } from './geometry.ts';

const LOWEST = -3.4028234663852886e38;

function window2d(ctx: GradContext): Window {
  const { node } = ctx;
  const kernel = getInts(node, 'kernel_shape');
  if (kernel.length !== 2)
    throw new Error(`${node.opType} '${node.name}': only 2-D pooling has a gradient rule`);
  return windowOf(node, kernel, ctx.shape(node.inputs[0]!), ctx.shape(node.outputs[0]!));
}

/** Folds per-tap gradients G [NC, T, Ho, Wo] back onto the padded input and crops to [N, C, H, W]. */
function foldTaps(e: Emitter, taps: string, kernelW: string, w: Window, x: string, dilated: boolean): string {
  const folded = e.op('ConvTranspose', [taps, kernelW], {
    kernel_shape: { ints: w.kernel },
    strides: { ints: w.strides },
    ...(dilated ? { dilations: { ints: w.dilations } } : {}),
  });
  // The windows cover [0, L) of the padded input; rows past L (floor mode) get zero gradient.
  const extra = [0, 1].map((i) => Math.max(0, w.padBegin[i]! + w.inSize[i]! - coveredLength(w, i)));
  const padded = e.pad(folded, [0, 0, 0, 0, 0, 0, extra[0]!, extra[1]!]);
  const cropped = e.slice(
    padded,
    w.padBegin,
    [0, 1].map((i) => w.padBegin[i]! + w.inSize[i]!),
    [2, 3],
  );
  return e.reshapeLike(cropped, x);
}

function oneHotKernel(e: Emitter, kh: number, kw: number): string {
  const t = kh * kw;
  const values = new Float32Array(t * t);
  for (let i = 0; i < t; i++) values[i * t + i] = 1;
  return e.constF(values, [t, 1, kh, kw]);
}

/** max over axis 1 (the taps), keepdims: axes as an attribute before opset 18, an input from 18. */
function reduceMaxTaps(e: Emitter, unfolded: string): string {
  if (e.opset >= 18) return e.op('ReduceMax', [unfolded, e.constI64([1])], { keepdims: { i: 1 } });
  return e.op('ReduceMax', [unfolded], { axes: { ints: [1] }, keepdims: { i: 1 } });
}

// y = max over window ⇒ dx[argmax] += g   (first max wins, overlapping windows add; the optional
// Indices output is an integer path)
export const maxPool: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const x = node.inputs[0]!;
  const w = window2d(ctx);
  const [H, W] = w.inSize as [number, number];
  const [Ho, Wo] = w.outSize as [number, number];
  const [kh, kw] = w.kernel as [number, number];
  const [sh, sw] = w.strides as [number, number];
  const [dh, dw] = w.dilations as [number, number];
  const xr = e.reshape(x, e.constI64([-1, 1, H, W]));
  const endH = Math.max(w.padEnd[0]!, coveredLength(w, 0) - H - w.padBegin[0]!);
  const endW = Math.max(w.padEnd[1]!, coveredLength(w, 1) - W - w.padBegin[1]!);
  const xp = e.pad(xr, [0, 0, w.padBegin[0]!, w.padBegin[1]!, 0, 0, endH, endW], LOWEST);
  const taps: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      taps.push(
        e.slice(
          xp,
          [i * dh, j * dw],
          [i * dh + (Ho - 1) * sh + 1, j * dw + (Wo - 1) * sw + 1],
          [2, 3],
          [sh, sw],
        ),
      );
    }
  }
  const unfolded = e.concat(taps, 1);
  // The window max recomputed from the taps (bit-identical to Y) rather than read from Y: when ceil_mode
  // drops a last window that would start in the end padding, ORT's kernel does too but ONNX shape
  // inference does not, so a Y reshaped to the true [Ho, Wo] would fail to load.
  const yr = reduceMaxTaps(e, unfolded);
  const hits = e.castFloat(e.equal(unfolded, yr));
  const first = e.mul(hits, e.castFloat(e.equal(e.cumSum(hits, 1), e.scalar(1))));
  const perTap = e.mul(first, e.reshape(only(gY), e.constI64([-1, 1, Ho, Wo])));
  return [foldTaps(e, perTap, oneHotKernel(e, kh, kw), w, x, dh !== 1 || dw !== 1)];
};

/** PyTorch/ORT divisor per output position: explicit pads count when count_include_pad, ceil overhang never. */
function divisors(w: Window, includePad: boolean, axis: number): number[] {
  const out: number[] = [];
  const size = w.inSize[axis]!;
  for (let o = 0; o < w.outSize[axis]!; o++) {
    const start = o * w.strides[axis]! - w.padBegin[axis]!;
    const end = Math.min(start + w.kernel[axis]!, size + w.padEnd[axis]!);
    out.push(includePad ? end - start : Math.min(end, size) - Math.max(start, 0));
  }
  return out;
}

// y = mean over window ⇒ dx[window] += g / divisor
export const averagePool: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const x = node.inputs[0]!;
  const w = window2d(ctx);
  if (w.dilations.some((d) => d !== 1))
    throw new Error(`AveragePool '${node.name}': dilations are not supported`);
  const [Ho, Wo] = w.outSize as [number, number];
  const [kh, kw] = w.kernel as [number, number];
  const includePad = getInt(node, 'count_include_pad', 0) === 1;
  const dh = divisors(w, includePad, 0);
  const dw = divisors(w, includePad, 1);
  const d = new Float32Array(Ho * Wo);
  for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) d[i * Wo + j] = dh[i]! * dw[j]!;
  const scaled = e.div(e.reshape(only(gY), e.constI64([-1, 1, Ho, Wo])), e.constF(d, [1, 1, Ho, Wo]));
  return [foldTaps(e, scaled, e.constF(new Float32Array(kh * kw).fill(1), [1, 1, kh, kw]), w, x, false)];
};

// y = mean over H, W ⇒ dx = expand(g / (H·W))
export const globalAveragePool: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const x = node.inputs[0]!;
  const area = spatialDims(ctx.shape(x), `GlobalAveragePool '${node.name}'`).reduce((a, b) => a * b, 1);
  return [e.expandLike(e.div(only(gY), e.scalar(area)), x)];
};

// y = max over H, W ⇒ dx[first argmax] = g
export const globalMaxPool: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  const flat = e.reshape(x, e.constI64([0, 0, -1]));
  const hits = e.castFloat(e.equal(flat, e.reshape(y, e.constI64([0, 0, 1]))));
  const first = e.mul(hits, e.castFloat(e.equal(e.cumSum(hits, 2), e.scalar(1))));
  return [e.reshapeLike(e.mul(first, e.reshape(only(gY), e.constI64([0, 0, 1]))), x)];
};
