// Regions the map metrics score a map against, all at the ORIGINAL image size: boxes (inclusive pixel
// coordinates, as src/eval/localization.ts), binary masks (one byte per pixel, row-major, non-zero =
// inside) and class masks (a class index per pixel, a void value to ignore). Helpers to turn one into
// another, to scale boxes between map and image sizes, and the checks every metric runs on its inputs.

import { GradsightError } from '../../errors.ts';
import { type Box, scaleBox } from '../localization.ts';

export type { Box } from '../localization.ts';
export { scaleBox };

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** A ground-truth box with its dataset class name (the EvalSample `boxes` entries). */
export interface LabelledBox {
  readonly label: string;
  readonly box: Box;
}

/** A class-index mask (structurally the datasets' ClassMask): 0 = background, `void` = ignored. */
export interface LabelMask {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  /** Index → class name; index 0 is the background. */
  readonly classes: readonly string[];
  readonly void: number;
}

/**
 * Where a class is in one image: its boxes, or its pixels in a class mask (the mask wins when both are
 * given, being the finer of the two).
 */
export interface ClassTruth {
  readonly boxes?: readonly Box[];
  readonly mask?: Uint8Array;
  /**
   * Pixels to leave out of mass ratios (energy pointing, Loc(δ)): neither inside nor outside, as VOC's
   * void borders (voidPixels). The pointing game's maximum is taken over every pixel regardless.
   */
  readonly ignore?: Uint8Array;
}

/** Throws shape-mismatch unless `data` has width × height entries (positive integer sizes). */
export function checkSize(data: ArrayLike<number>, width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new GradsightError(
      'bad-argument',
      `${what}: size ${width}×${height} is not a positive integer size`,
      {
        hint: 'pass the width and height of the image the map was upsampled to',
      },
    );
  if (data.length !== width * height)
    throw new GradsightError(
      'shape-mismatch',
      `${what} has ${data.length} values, not ${width}×${height} = ${width * height}`,
      { hint: 'upsample the map to the original image size before scoring it (metrics run at image size)' },
    );
}

/** checkSize for a map, and every value finite (NaN or ±Infinity would turn every ratio into NaN). */
export function checkMap(map: Float32Array, width: number, height: number, what: string): void {
  checkSize(map, width, height, what);
  for (let p = 0; p < map.length; p++)
    if (!Number.isFinite(map[p]!)) {
      const x = p % width;
      throw new GradsightError('non-finite', `${what} has ${map[p]} at (${x}, ${(p - x) / width})`, {
        hint: 'a map with NaN or infinite values cannot be scored; check the model output and the explained class',
      });
    }
}

/** The box clipped to a width × height image, or undefined when nothing of it is inside. */
export function clipBox(b: Box, width: number, height: number): Box | undefined {
  const x0 = Math.max(0, Math.ceil(b.x0));
  const y0 = Math.max(0, Math.ceil(b.y0));
  const x1 = Math.min(width - 1, Math.floor(b.x1));
  const y1 = Math.min(height - 1, Math.floor(b.y1));
  return x0 <= x1 && y0 <= y1 ? { x0, y0, x1, y1 } : undefined;
}

/** Binary mask of the union of `boxes` (clipped to the image). */
export function boxesToMask(boxes: readonly Box[], width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (const b of boxes) {
    const c = clipBox(b, width, height);
    if (!c) continue;
    for (let y = c.y0; y <= c.y1; y++) mask.fill(1, y * width + c.x0, y * width + c.x1 + 1);
  }
  return mask;
}

/** Binary mask of the pixels of class index `cls` in a class mask. */
export function classPixels(mask: LabelMask, cls: number): Uint8Array {
  const out = new Uint8Array(mask.data.length);
  for (let p = 0; p < out.length; p++) out[p] = mask.data[p] === cls ? 1 : 0;
  return out;
}

/** Binary mask of the pixels a class mask marks void (to leave out of a score). */
export function voidPixels(mask: LabelMask): Uint8Array {
  const out = new Uint8Array(mask.data.length);
  for (let p = 0; p < out.length; p++) out[p] = mask.data[p] === mask.void ? 1 : 0;
  return out;
}

/** Index of a class name in a class mask, or a label-unknown error naming the classes it has. */
export function classIndex(mask: LabelMask, label: string): number {
  const i = mask.classes.indexOf(label);
  if (i < 0)
    throw new GradsightError('label-unknown', `class '${label}' is not one of the mask's classes`, {
      hint: `use one of: ${mask.classes.join(', ')}`,
      details: { label },
    });
  return i;
}

/** Labelled boxes scaled between sizes (map ↔ image) with scaleBox. */
export function scaleLabelledBoxes(boxes: readonly LabelledBox[], from: Size, to: Size): LabelledBox[] {
  return boxes.map(({ label, box }) => ({ label, box: scaleBox(box, from, to) }));
}

/** The boxes of one class among an image's labelled boxes. */
export function boxesOf(boxes: readonly LabelledBox[], label: string): Box[] {
  return boxes.filter((b) => b.label === label).map((b) => b.box);
}

/** The binary region of a ClassTruth: the mask when given, else the union of the boxes. */
export function truthMask(
  truth: ClassTruth,
  width: number,
  height: number,
  what = 'ground truth',
): Uint8Array {
  if (truth.mask) {
    checkSize(truth.mask, width, height, `${what} mask`);
    return truth.mask;
  }
  if (!truth.boxes)
    throw new GradsightError('bad-argument', `${what}: neither boxes nor a mask given`, {
      hint: 'pass the class boxes or its mask pixels',
    });
  return boxesToMask(truth.boxes, width, height);
}

/** Number of non-zero entries. */
export function count(mask: Uint8Array): number {
  let n = 0;
  for (const v of mask) if (v) n++;
  return n;
}

/**
 * A box of `size` (pixels) centred in a width × height image: the centre-box baseline. Odd leftovers
 * go right/down (x0 = floor((W − w) / 2)), as the demo's baseline did.
 */
export function centreBox(width: number, height: number, size: Size): Box {
  const w = Math.max(1, Math.min(width, Math.round(size.width)));
  const h = Math.max(1, Math.min(height, Math.round(size.height)));
  const x0 = Math.floor((width - w) / 2);
  const y0 = Math.floor((height - h) / 2);
  return { x0, y0, x1: x0 + w - 1, y1: y0 + h - 1 };
}

/** The box covering the whole image: the full-image baseline. */
export const fullBox = (width: number, height: number): Box => ({
  x0: 0,
  y0: 0,
  x1: width - 1,
  y1: height - 1,
});

/** A region fixed across a dataset whose images differ in size: a box in fractions of the width and height. */
export interface RelativeBox {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/** A relative box at a width × height image: pixels whose centres fall inside it. */
export function relativeBoxAt(r: RelativeBox, width: number, height: number): Box {
  // + 0 turns ceil's −0 (for a region starting at 0) into 0.
  return {
    x0: Math.ceil(r.left * width - 0.5) + 0,
    y0: Math.ceil(r.top * height - 0.5) + 0,
    x1: Math.floor(r.right * width - 0.5),
    y1: Math.floor(r.bottom * height - 0.5),
  };
}

/** Index of the map's maximum; ties: the first in row-major order (NumPy's argmax). */
export function argmax(map: Float32Array): number {
  let best = 0;
  for (let p = 1; p < map.length; p++) if (map[p]! > map[best]!) best = p;
  return best;
}

/** Sum of max(0, v) over the map, and over the pixels where `mask` is set; `ignore`d pixels in neither. */
export function positiveMass(
  map: Float32Array,
  mask: Uint8Array,
  ignore?: Uint8Array,
): { inside: number; total: number } {
  let inside = 0;
  let total = 0;
  for (let p = 0; p < map.length; p++) {
    if (ignore?.[p]) continue;
    const v = Math.max(map[p]!, 0);
    total += v;
    if (mask[p]) inside += v;
  }
  return { inside, total };
}
