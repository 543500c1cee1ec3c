// Geometry of detection boxes (continuous pixel-edge coordinates, see types.ts): IoU, the map from
// model-input pixels to original-image pixels, and the inclusive integer box the drawing code uses.

import type { Box } from './types.ts';

export interface Size {
  readonly width: number;
  readonly height: number;
}

const area = (b: Box) => Math.max(0, b.x1 - b.x0) * Math.max(0, b.y1 - b.y0);

/** Intersection over union of two continuous boxes; 0 when both are empty. */
export function boxIou(a: Box, b: Box): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  const inter = Math.max(0, w) * Math.max(0, h);
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * A box in model-input pixels → original-image pixels, for an image resized to the model without
 * crop or letterbox (gradsight's preprocessing): x·W0/W, y·H0/H.
 */
export function toOriginalPixels(box: Box, model: Size, original: Size): Box {
  const sx = original.width / model.width;
  const sy = original.height / model.height;
  return { x0: box.x0 * sx, y0: box.y0 * sy, x1: box.x1 * sx, y1: box.y1 * sy };
}

/**
 * The pixels a continuous box covers in a W×H image, as an inclusive integer box (columns x0..x1,
 * rows y0..y1, the convention of eval/localization.ts and the report): a pixel is covered when its
 * centre lies in the box; clipped to the image, at least one pixel.
 */
export function pixelBox(box: Box, size: Size): Box {
  // Pixel i spans [i, i + 1]: covered when x0 ≤ i + ½ ≤ x1.
  const lo = (v: number, n: number) => Math.min(n - 1, Math.max(0, Math.ceil(v - 0.5)));
  const hi = (v: number, n: number) => Math.min(n - 1, Math.max(0, Math.floor(v - 0.5)));
  const x0 = lo(box.x0, size.width);
  const y0 = lo(box.y0, size.height);
  return {
    x0,
    y0,
    x1: Math.max(x0, hi(box.x1, size.width)),
    y1: Math.max(y0, hi(box.y1, size.height)),
  };
}
