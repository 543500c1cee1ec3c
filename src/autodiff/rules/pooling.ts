// Pooling gradients in standard ops that every backend runs. MaxPool uses unfold–compare–fold:
// gather each tap with a strided Slice, keep the FIRST tap equal to the max (CumSum), and scatter-add
// back with a one-hot ConvTranspose. That matches PyTorch exactly: the first max in row-major window
// order wins ties (all-zero windows after a ReLU are ties), and overlapping windows add up.

import { getInt, getInts } from '../../onnx/index.ts';
import type { Emitter } from '../emitter.ts';
import { type GradContext, type GradRule, only } from '../rule.ts';
import {
  coveredLength,
  isStatic,
  type StaticWindow,
  staticWindow,
  type Window,
  windowOf,
} from './geometry.ts';

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
  // Symbolic sizes: pad by the most floor mode can leave out (s − 1 − p_e), crop with H, W read at
  // run time.
  const extra = [0, 1].map((i) =>
    isStatic(w)
      ? Math.max(0, w.padBegin[i]! + w.inSize[i]! - coveredLength(w, i))
      : Math.max(0, w.strides[i]! - 1 - w.padEnd[i]!),
  );
  const padded = e.pad(folded, [0, 0, 0, 0, 0, 0, extra[0]!, extra[1]!]);
  const cropped = isStatic(w)
    ? e.slice(
        padded,
        w.padBegin,
        [0, 1].map((i) => w.padBegin[i]! + w.inSize[i]!),
        [2, 3],
      )
    : e.op('Slice', [
        padded,
        e.constI64(w.padBegin),
        e.add(e.dimsOf(x, 2, 4), e.constI64(w.padBegin)),
        e.constI64([2, 3]),
      ]);
  return e.reshapeLike(cropped, x);
}

/** [-1, 1, H, W] of a tensor's spatial dims: static when known, else read at run time. */
function planes(e: Emitter, t: string, hw: readonly (number | undefined)[]): string {
  if (hw.every((d) => d !== undefined)) return e.constI64([-1, 1, ...hw]);
  return e.concat([e.constI64([-1, 1]), e.dimsOf(t, 2, 4)], 0);
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
  const [kh, kw] = w.kernel as [number, number];
  const [dh, dw] = w.dilations as [number, number];
  const xr = e.reshape(x, planes(e, x, w.inSize));
  const unfolded = e.concat(isStatic(w) ? staticTaps(e, xr, w) : symbolicTaps(e, xr, w, only(gY)), 1);
  // The window max recomputed from the taps (bit-identical to Y) rather than read from Y: when ceil_mode
  // drops a last window that would start in the end padding, ORT's kernel does too but ONNX shape
  // inference does not, so a Y reshaped to the true [Ho, Wo] would fail to load.
  const yr = reduceMaxTaps(e, unfolded);
  const hits = e.castFloat(e.equal(unfolded, yr));
  const first = e.mul(hits, e.castFloat(e.equal(e.cumSum(hits, 1), e.scalar(1))));
  const perTap = e.mul(first, e.reshape(only(gY), planes(e, only(gY), w.outSize)));
  return [foldTaps(e, perTap, oneHotKernel(e, kh, kw), w, x, dh !== 1 || dw !== 1)];
};

/** Every tap of every window, [NC, 1, Ho, Wo] each: x (as [NC, 1, H, W]) padded and strided-sliced. */
function staticTaps(e: Emitter, xr: string, w: StaticWindow): string[] {
  const [H, W] = w.inSize as [number, number];
  const [Ho, Wo] = w.outSize as [number, number];
  const [sh, sw] = w.strides as [number, number];
  const [dh, dw] = w.dilations as [number, number];
  const endH = Math.max(w.padEnd[0]!, coveredLength(w, 0) - H - w.padBegin[0]!);
  const endW = Math.max(w.padEnd[1]!, coveredLength(w, 1) - W - w.padBegin[1]!);
  const xp = e.pad(xr, [0, 0, w.padBegin[0]!, w.padBegin[1]!, 0, 0, endH, endW], LOWEST);
  const taps: string[] = [];
  for (let i = 0; i < w.kernel[0]!; i++) {
    for (let j = 0; j < w.kernel[1]!; j++) {
      const ends = [i * dh + (Ho - 1) * sh + 1, j * dw + (Wo - 1) * sw + 1];
      taps.push(e.slice(xp, [i * dh, j * dw], ends, [2, 3], [sh, sw]));
    }
  }
  return taps;
}

/**
 * The taps when H, W are symbolic: the end padding is the most ceil mode can need (p_e + s − 1), and
 * each tap's end, (Ho − 1)·s + 1 past its offset, reads Ho, Wo from the output gradient at run time.
 */
function symbolicTaps(e: Emitter, xr: string, w: Window, gY: string): string[] {
  const [sh, sw] = w.strides as [number, number];
  const [dh, dw] = w.dilations as [number, number];
  const ends = [0, 1].map((i) => w.padEnd[i]! + w.strides[i]! - 1);
  const xp = e.pad(xr, [0, 0, w.padBegin[0]!, w.padBegin[1]!, 0, 0, ends[0]!, ends[1]!], LOWEST);
  const one = e.constI64([1, 1]);
  const span = e.add(e.mul(e.sub(e.dimsOf(gY, 2, 4), one), e.constI64([sh, sw])), one);
  const axes = e.constI64([2, 3]);
  const steps = e.constI64([sh, sw]);
  const taps: string[] = [];
  for (let i = 0; i < w.kernel[0]!; i++) {
    for (let j = 0; j < w.kernel[1]!; j++) {
      const start = e.constI64([i * dh, j * dw]);
      taps.push(e.op('Slice', [xp, start, e.add(span, start), axes, steps]));
    }
  }
  return taps;
}

/** PyTorch/ORT divisor per output position: explicit pads count when count_include_pad, ceil overhang never. */
function divisors(w: StaticWindow, includePad: boolean, axis: number): number[] {
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
  const [kh, kw] = w.kernel as [number, number];
  const includePad = getInt(node, 'count_include_pad', 0) === 1;
  const inSize = ctx.shape(x).slice(2);
  if (
    [...w.padBegin, ...w.padEnd].every((p) => p === 0) &&
    w.kernel.every((k, i) => k === inSize[i]) &&
    w.outSize.every((d) => d === 1)
  ) {
    // One window over the whole input (a global mean): as GlobalAveragePool.
    const spread = spreadMean(ctx, only(gY), x);
    if (spread) return [spread];
  }
  const ones = e.constF(new Float32Array(kh * kw).fill(1), [1, 1, kh, kw]);
  const g = e.reshape(only(gY), planes(e, only(gY), w.outSize));
  const noPads = [...w.padBegin, ...w.padEnd].every((p) => p === 0);
  if (!isStatic(w) && getInt(node, 'ceil_mode', 0) === 0 && (includePad || noPads)) {
    // Every window then divides by kh·kw, whatever the size: no static sizes needed.
    return [foldTaps(e, e.div(g, e.scalar(kh * kw)), ones, w, x, false)];
  }
  const sw = staticWindow(w, node, 'AveragePool with padding not counted, or ceil_mode,');
  const [Ho, Wo] = sw.outSize as [number, number];
  const dh = divisors(sw, includePad, 0);
  const dw = divisors(sw, includePad, 1);
  const d = new Float32Array(Ho * Wo);
  for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) d[i * Wo + j] = dh[i]! * dw[j]!;
  return [foldTaps(e, e.div(g, e.constF(d, [1, 1, Ho, Wo])), ones, w, x, false)];
};

// y = mean over H, W ⇒ dx = expand(g / (H·W))   (H·W read at run time when symbolic)
export const globalAveragePool: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const x = node.inputs[0]!;
  const spread = spreadMean(ctx, only(gY), x);
  if (spread) return [spread];
  const spatial = ctx.shape(x).slice(2);
  const area = spatial.every((d): d is number => typeof d === 'number')
    ? e.scalar(spatial.reduce((a, b) => a * b, 1))
    : e.countAlong(
        x,
        spatial.map((_, i) => i + 2),
      );
  return [e.expandLike(e.div(only(gY), area), x)];
};

/**
 * g / (H·W) spread over static H, W: a broadcasting Div by a constant [1, 1, H, W] instead of an
 * Expand to x's runtime shape, so that ONNX Runtime knows the backward shapes at load time (its NCHWc
 * layout then keeps the elementwise gradient ops beside the Convs). Undefined when H, W are symbolic.
 */
function spreadMean(ctx: GradContext, g: string, x: string): string | undefined {
  const spatial = ctx.shape(x).slice(2);
  if (!spatial.every((d): d is number => typeof d === 'number')) return undefined;
  const area = spatial.reduce((a, b) => a * b, 1);
  return ctx.e.div(g, ctx.e.constF(new Float32Array(area).fill(area), [1, 1, ...spatial]));
}

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
