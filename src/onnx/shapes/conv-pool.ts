// Conv, ConvTranspose and the pools. Output sizes follow the ONNX spec formulas, including auto_pad,
// dilations and ceil_mode (where the last window must start inside the padded-left input, as ORT and
// PyTorch require).

import { getInt, getInts, getString, hasAttr } from '../attributes.ts';
import type { Dim, Node, Shape } from '../ir.ts';
import { known } from './dims.ts';
import type { RuleContext, RuleTable, ShapeRule } from './types.ts';

interface Window {
  kernel: readonly number[];
  strides: readonly number[];
  dilations: readonly number[];
  /** [begin..., end...] as in the ONNX attribute. */
  pads: readonly number[];
  autoPad: string;
  ceil: boolean;
}

function windowOf(node: Node, kernel: readonly number[]): Window {
  const n = kernel.length;
  const ones = new Array<number>(n).fill(1);
  return {
    kernel,
    strides: getInts(node, 'strides', ones),
    dilations: getInts(node, 'dilations', ones),
    pads: getInts(node, 'pads', new Array<number>(2 * n).fill(0)),
    autoPad: getString(node, 'auto_pad', 'NOTSET'),
    ceil: getInt(node, 'ceil_mode', 0) === 1,
  };
}

/**
 * The output size of a symbolic input size, as a symbol named by its formula (a 'same' window keeps
 * the input's symbol): two tensors computed alike get equal symbols, so a Reshape to
 * [N, -1, H, W] taken from another tensor's Shape still resolves (ShuffleNet's channel shuffle).
 */
function symbolicOut(size: string, i: number, w: Window): Dim {
  const n = w.kernel.length;
  const s = w.strides[i]!;
  const ek = (w.kernel[i]! - 1) * w.dilations[i]! + 1;
  if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') return s === 1 ? size : `ceil(${size}/${s})`;
  const delta = w.autoPad === 'VALID' ? -ek : w.pads[i]! + w.pads[i + n]! - ek;
  const plus = (d: number) => (d === 0 ? '' : d > 0 ? `+${d}` : `${d}`);
  const x = /^[A-Za-z_]\w*$/.test(size) ? size : `(${size})`;
  if (s === 1 && !w.ceil) return delta + 1 === 0 ? size : `${x}${plus(delta + 1)}`;
  if (w.ceil) return `ceil((${x}${plus(delta)})/${s})+1`;
  // floor((x + δ)/s) + 1 = floor((x + δ + s)/s), which is ceil(x/s) when δ = −1 (k3 s2 p1, k2 s2 p0·5...).
  if (delta === -1) return `ceil(${x}/${s})`;
  return delta + s === 0 ? `floor(${x}/${s})` : `floor((${x}${plus(delta + s)})/${s})`;
}

function slidingOut(spatial: readonly Dim[], w: Window): Dim[] {
  const n = w.kernel.length;
  return spatial.map((size, i) => {
    if (typeof size === 'string') return symbolicOut(size, i, w);
    if (!known(size)) return null;
    const s = w.strides[i]!;
    const ek = (w.kernel[i]! - 1) * w.dilations[i]! + 1;
    if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') return Math.ceil(size / s);
    if (w.autoPad === 'VALID') return Math.floor((size - ek) / s) + 1;
    const begin = w.pads[i]!;
    const span = size + begin + w.pads[i + n]! - ek;
    if (!w.ceil) return Math.floor(span / s) + 1;
    let out = Math.ceil(span / s) + 1;
    if ((out - 1) * s >= size + begin) out--;
    return out;
  });
}

const conv: ShapeRule = (ctx) => {
  const x = ctx.input(0);
  const w = ctx.input(1)?.shape;
  if (!x?.shape || !w) return [{ dtype: x?.dtype, shape: undefined }];
  const kernel = hasAttr(ctx.node, 'kernel_shape') ? getInts(ctx.node, 'kernel_shape') : w.slice(2);
  if (!kernel.every(known)) return [{ dtype: x.dtype, shape: undefined }];
  const out = slidingOut(x.shape.slice(2), windowOf(ctx.node, kernel as number[]));
  return [{ dtype: x.dtype, shape: [x.shape[0]!, w[0]!, ...out] }];
};

const convTranspose: ShapeRule = (ctx) => {
  const x = ctx.input(0);
  const w = ctx.input(1)?.shape;
  if (!x?.shape || !w) return [{ dtype: x?.dtype, shape: undefined }];
  const node = ctx.node;
  const group = getInt(node, 'group', 1);
  const channels: Dim = known(w[1]) ? w[1] * group : null;
  const kernel = hasAttr(node, 'kernel_shape') ? getInts(node, 'kernel_shape') : w.slice(2);
  const n = kernel.length;
  if (hasAttr(node, 'output_shape')) {
    const os = getInts(node, 'output_shape');
    return [{ dtype: x.dtype, shape: [x.shape[0]!, channels, ...os.slice(os.length - n)] }];
  }
  if (!kernel.every(known)) return [{ dtype: x.dtype, shape: undefined }];
  const win = windowOf(node, kernel as number[]);
  const outPad = getInts(node, 'output_padding', new Array<number>(n).fill(0));
  const out = x.shape.slice(2).map((size, i): Dim => {
    if (!known(size)) return null;
    const s = win.strides[i]!;
    if (win.autoPad === 'SAME_UPPER' || win.autoPad === 'SAME_LOWER') return size * s;
    const ek = (win.kernel[i]! - 1) * win.dilations[i]! + 1;
    const pads = win.autoPad === 'VALID' ? 0 : win.pads[i]! + win.pads[i + n]!;
    return s * (size - 1) + outPad[i]! + ek - pads;
  });
  return [{ dtype: x.dtype, shape: [x.shape[0]!, channels, ...out] }];
};

const pool: ShapeRule = (ctx) => {
  const x = ctx.input(0);
  if (!x?.shape)
    return [
      { dtype: x?.dtype, shape: undefined },
      { dtype: 'int64', shape: undefined },
    ];
  const out = slidingOut(x.shape.slice(2), windowOf(ctx.node, getInts(ctx.node, 'kernel_shape')));
  const shape: Shape = [x.shape[0]!, x.shape[1]!, ...out];
  // MaxPool's optional second output holds int64 indices of the same shape.
  return [
    { dtype: x.dtype, shape },
    { dtype: 'int64', shape },
  ];
};

const globalPool: ShapeRule = (ctx: RuleContext) => {
  const x = ctx.input(0);
  const s = x?.shape;
  return [{ dtype: x?.dtype, shape: s?.map((d, i) => (i < 2 ? d : 1)) }];
};

export const convPoolRules: RuleTable = {
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: pool,
  AveragePool: pool,
  LpPool: pool,
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,
};
