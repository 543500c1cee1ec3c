// The vocabulary of detection: boxes, detections and the decoder interface every output layout
// implements. Decoders are values (see decoders.ts for the table); nothing here touches a runtime.

import type { Box } from '../eval/localization.ts';
import type { Shape } from '../onnx/index.ts';
import type { TargetHead } from '../targets/head.ts';

/**
 * One box type for the whole library (the localization box of eval/). Detection boxes use it with
 * continuous pixel-edge coordinates: [x0, x1] × [y0, y1] in a stated pixel space, a box covering a
 * whole W×H image being [0, W] × [0, H]. `pixelBox` (box.ts) turns one into the inclusive integer
 * pixel box the localization and report code draw.
 */
export type { Box };

export interface Detection {
  /** In model-input pixels (the tensor the model was fed), not clipped to the image. */
  readonly box: Box;
  readonly classIndex: number;
  /** The decoder's score, equal to T[cell] of its head. */
  readonly score: number;
  /**
   * Flat index into one row of the head's score tensor T (row-major, batch dropped): seeding T with a
   * one-hot at `cell` explains exactly this detection's score.
   */
  readonly cell: number;
}

export type Fit = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface DecodeOptions {
  /** Detections with score ≥ this are kept (before NMS). */
  readonly scoreThreshold: number;
}

export interface Decoder {
  readonly id: string;
  /** One line for docs and errors, naming the layout, e.g. "[N, boxes, 4 + 1 + classes] (YOLOv5)". */
  readonly describe: string;
  /** Whether an output of this shape (batch first; symbolic dims allowed) has this layout. */
  fits(outputShape: Shape): Fit;
  /** The number of classes an output of this shape scores (call after `fits`). */
  classes(outputShape: Shape): number;
  /** The dims of one row of the head's T for one row of the output (batch dropped). */
  scoreDims(rowDims: readonly number[]): number[];
  /**
   * Decodes one batch row (`rowDims` = the output's dims without the batch axis) of a model fed an
   * input of `inputSize` = [height, width] pixels: one detection per box or cell (its best class)
   * with score ≥ the threshold, in cell order, before NMS.
   */
  decode(
    outputRow: Float32Array,
    rowDims: readonly number[],
    inputSize: readonly [number, number],
    opts: DecodeOptions,
  ): Detection[];
  /** The in-graph score tensor T whose element `cell` is a detection's score. */
  readonly head: TargetHead;
}
