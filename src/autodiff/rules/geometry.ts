// Window geometry shared by the Conv and pooling rules: explicit begin/end pads per spatial axis
// (auto_pad resolved as the ONNX spec says), strides, dilations, kernel. Spatial sizes may be
// symbolic (known at run time only): rules then take them from the runtime shape, or, where the
// geometry itself depends on them (SAME padding, per-position divisors), need static shapes.

import { getInts, getString, type Node, type Shape } from '../../onnx/index.ts';

export interface Window {
  readonly kernel: number[];
  readonly strides: number[];
  readonly dilations: number[];
  readonly padBegin: number[];
  readonly padEnd: number[];
  /** Input spatial sizes; undefined where symbolic. */
  readonly inSize: (number | undefined)[];
  /** Output spatial sizes (from shape inference); undefined where symbolic. */
  readonly outSize: (number | undefined)[];
}

/** A window whose spatial sizes are all static. */
export interface StaticWindow extends Window {
  readonly inSize: number[];
  readonly outSize: number[];
}

export function isStatic(w: Window): w is StaticWindow {
  return [...w.inSize, ...w.outSize].every((d) => d !== undefined);
}

export function spatialDims(shape: Shape, what: string): number[] {
  const dims = shape.slice(2);
  if (!dims.every((d): d is number => typeof d === 'number')) {
    throw new Error(`${what} needs static spatial sizes, got [${shape.join(', ')}]`);
  }
  return dims;
}

/** The window with static sizes, or an error naming the node (for geometry that depends on them). */
export function staticWindow(w: Window, node: Node, why: string): StaticWindow {
  if (isStatic(w)) return w;
  throw new Error(`${node.opType} '${node.name}': ${why} needs static spatial sizes (give the input size)`);
}

const sizes = (s: Shape): (number | undefined)[] =>
  s.slice(2).map((d) => (typeof d === 'number' ? d : undefined));

export function windowOf(node: Node, kernel: readonly number[], xShape: Shape, yShape: Shape): Window {
  const n = kernel.length;
  const inSize = sizes(xShape);
  const outSize = sizes(yShape);
  const strides = [...getInts(node, 'strides', Array(n).fill(1))];
  const dilations = [...getInts(node, 'dilations', Array(n).fill(1))];
  const autoPad = getString(node, 'auto_pad', 'NOTSET');
  let padBegin: number[];
  let padEnd: number[];
  if (autoPad === 'NOTSET') {
    const pads = getInts(node, 'pads', Array(2 * n).fill(0));
    padBegin = pads.slice(0, n);
    padEnd = pads.slice(n);
  } else if (autoPad === 'VALID') {
    padBegin = Array(n).fill(0);
    padEnd = Array(n).fill(0);
  } else {
    // SAME_*: total = max(0, (ceil(H/s) − 1)·s + dk − H), the odd pixel at the end (UPPER) or begin.
    const inStatic = spatialDims(xShape, `${node.opType} '${node.name}' with auto_pad ${autoPad}`);
    padBegin = [];
    padEnd = [];
    for (let i = 0; i < n; i++) {
      const dk = (kernel[i]! - 1) * dilations[i]! + 1;
      const h = inStatic[i]!;
      const total = Math.max(0, (Math.ceil(h / strides[i]!) - 1) * strides[i]! + dk - h);
      const small = Math.floor(total / 2);
      padBegin.push(autoPad === 'SAME_UPPER' ? small : total - small);
      padEnd.push(autoPad === 'SAME_UPPER' ? total - small : small);
    }
  }
  return { kernel: [...kernel], strides, dilations, padBegin, padEnd, inSize, outSize };
}

/** Span of the input the windows touch: (out − 1)·s + (k − 1)·d + 1, per axis. */
export function coveredLength(w: StaticWindow, i: number): number {
  return (w.outSize[i]! - 1) * w.strides[i]! + (w.kernel[i]! - 1) * w.dilations[i]! + 1;
}
