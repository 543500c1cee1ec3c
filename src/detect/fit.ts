// Shape checks shared by the decoders: `fits` answers with a reason, and decoding or building a head
// on an output that does not fit is a typed error naming the decoder and the shape.

import { GradsightError } from '../errors.ts';
import type { Shape } from '../onnx/index.ts';
import type { Decoder, Fit } from './types.ts';

export const OK: Fit = { ok: true };
export const unfit = (reason: string): Fit => ({ ok: false, reason });

export const showShape = (shape: Shape) => `[${shape.map((d) => d ?? '?').join(', ')}]`;

/** Throws unless `shape` (batch first) fits the decoder. */
export function requireFit(decoder: Pick<Decoder, 'id' | 'describe' | 'fits'>, shape: Shape): void {
  const fit = decoder.fits(shape);
  if (fit.ok) return;
  throw new GradsightError(
    'shape-mismatch',
    `the detection output ${showShape(shape)} does not fit the ${decoder.id} decoder: ${fit.reason}`,
    {
      hint: `the ${decoder.id} decoder reads ${decoder.describe}; name the decoder of the model's output layout in its description (fastestdet, yolov5, yolov8)`,
      details: { decoder: decoder.id, shape },
    },
  );
}

/** Throws unless a row of `length` values has dims `rowDims` that fit the decoder. */
export function requireRow(
  decoder: Pick<Decoder, 'id' | 'describe' | 'fits'>,
  length: number,
  rowDims: readonly number[],
): void {
  requireFit(decoder, [1, ...rowDims]);
  const size = rowDims.reduce((a, b) => a * b, 1);
  if (size !== length) {
    throw new GradsightError(
      'shape-mismatch',
      `a detection output row of dims ${showShape(rowDims)} has ${size} values, but ${length} were given`,
      {
        hint: 'pass one batch row of the output and its dims without the batch axis',
        details: { decoder: decoder.id, rowDims, length },
      },
    );
  }
}

/** argmax over `count` values at row[start + k·stride]; ties: the lowest index. */
export function argmaxStrided(
  row: Float32Array,
  start: number,
  stride: number,
  count: number,
): { index: number; value: number } {
  let index = 0;
  let value = row[start]!;
  for (let k = 1; k < count; k++) {
    const v = row[start + k * stride]!;
    if (v > value) [index, value] = [k, v];
  }
  return { index, value };
}
