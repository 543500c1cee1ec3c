// Resize's gradient: a linear or nearest resize of the last two axes is y = A_h · x · A_wᵀ with
// constant interpolation matrices, so dx = A_hᵀ · g · A_w. The matrices are built here with ONNX
// Runtime's coordinate conventions.

import { getString } from '../../onnx/index.ts';
import { type GradRule, only } from '../rule.ts';
import { spatialDims } from './geometry.ts';

function sourceCoordinate(mode: string, out: number, inSize: number, outSize: number): number {
  const scale = outSize / inSize;
  switch (mode) {
    case 'align_corners':
      return outSize === 1 ? 0 : (out * (inSize - 1)) / (outSize - 1);
    case 'asymmetric':
      return out / scale;
    case 'pytorch_half_pixel':
      return outSize > 1 ? (out + 0.5) / scale - 0.5 : 0;
    case 'half_pixel':
      return (out + 0.5) / scale - 0.5;
    default:
      throw new Error(`coordinate_transformation_mode ${mode} has no gradient rule`);
  }
}

function nearestIndex(x: number, mode: string): number {
  switch (mode) {
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    case 'round_prefer_ceil':
      return Math.floor(x + 0.5);
    default:
      return x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x); // round_prefer_floor
  }
}

/** Row-major [outSize, inSize] interpolation matrix along one axis. */
export function interpolationMatrix(
  mode: string,
  transform: string,
  nearestMode: string,
  inSize: number,
  outSize: number,
): Float32Array {
  const m = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    const x = Math.fround(sourceCoordinate(transform, o, inSize, outSize));
    if (mode === 'nearest') {
      const i = Math.min(Math.max(nearestIndex(x, nearestMode), 0), inSize - 1);
      m[o * inSize + i] = 1;
      continue;
    }
    const c = Math.min(Math.max(x, 0), inSize - 1);
    const i0 = Math.floor(c);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const f = c - i0;
    m[o * inSize + i0]! += 1 - f;
    m[o * inSize + i1]! += f;
  }
  return m;
}

function transposed(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c]!;
  return t;
}

// y = A_h · x · A_wᵀ ⇒ dx = A_hᵀ · g · A_w
export const resize: GradRule = (ctx, gY) => {
  const { e, node } = ctx;
  const x = node.inputs[0]!;
  const xs = ctx.shape(x);
  const ys = ctx.shape(node.outputs[0]!);
  if (xs.length !== 4 || xs[0] !== ys[0] || xs[1] !== ys[1]) {
    throw new Error(`Resize '${node.name}': only resizes of the two spatial axes have a gradient rule`);
  }
  const mode = getString(node, 'mode', 'nearest');
  if (mode === 'cubic') throw new Error(`Resize '${node.name}': cubic mode has no gradient rule`);
  const transform = getString(node, 'coordinate_transformation_mode', 'half_pixel');
  const nearestMode = getString(node, 'nearest_mode', 'round_prefer_floor');
  const [H, W] = spatialDims(xs, `Resize '${node.name}'`) as [number, number];
  const [Ho, Wo] = spatialDims(ys, `Resize '${node.name}'`) as [number, number];
  const ah = interpolationMatrix(mode, transform, nearestMode, H, Ho);
  const aw = interpolationMatrix(mode, transform, nearestMode, W, Wo);
  const rows = e.matmul(e.constF(transposed(ah, Ho, H), [H, Ho]), only(gY));
  return [e.matmul(rows, e.constF(aw, [Wo, W])), ...node.inputs.slice(1).map(() => undefined)];
};
