// Decode + NMS over every row of a batched detection output: what a caller explaining detections
// needs, in one call.

import { requireFit } from './fit.ts';
import { DEFAULT_IOU_THRESHOLD, nms } from './nms.ts';
import type { Decoder, Detection } from './types.ts';

export interface DetectOptions {
  readonly scoreThreshold: number;
  /** Default DEFAULT_IOU_THRESHOLD (0.45). */
  readonly iouThreshold?: number;
}

/**
 * Per batch row of `output` (dims batch first) of a model fed `inputSize` = [height, width] pixels,
 * the detections kept after NMS, best first.
 */
export function detectRows(
  decoder: Decoder,
  output: { readonly data: Float32Array; readonly dims: readonly number[] },
  inputSize: readonly [number, number],
  opts: DetectOptions,
): Detection[][] {
  requireFit(decoder, output.dims);
  const [n, ...rowDims] = output.dims as [number, ...number[]];
  const size = rowDims.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) =>
    nms(
      // decode checks the row's length against its dims.
      decoder.decode(output.data.subarray(i * size, (i + 1) * size), rowDims, inputSize, opts),
      opts.iouThreshold ?? DEFAULT_IOU_THRESHOLD,
    ),
  );
}
