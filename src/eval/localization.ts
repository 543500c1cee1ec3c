// The Grad-CAM paper's weakly-supervised localization: binarize the map at 15% of its maximum, take
// the largest connected segment, and draw the box around it. The paper leaves two choices open;
// gradsight uses 8-connectivity and "largest" by pixel count (ties: the segment met first in
// row-major order). Boxes are inclusive pixel coordinates [x0, x1] × [y0, y1].

export interface Box {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export interface Localization {
  readonly box: Box | undefined;
  /** Pixels in the largest segment, and in all segments above the threshold. */
  readonly segmentPixels: number;
  readonly abovePixels: number;
  readonly threshold: number;
}

/** Scratch for localize() (it is synchronous): the padded mask and the fill stack, grown as needed. */
let maskScratch = new Uint8Array(0);
let stackScratch = new Int32Array(0);

export function localize(map: Float32Array, width: number, height: number, fraction = 0.15): Localization {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < map.length; i++) if (map[i]! > max) max = map[i]!;
  const threshold = fraction * max;
  if (!(max > 0)) return { box: undefined, segmentPixels: 0, abovePixels: 0, threshold };
  // The mask with a border of zeros one pixel wide, so the fill's 8 neighbours need no bounds checks;
  // a pixel is cleared when it joins a segment.
  const pw = width + 2;
  const size = pw * (height + 2);
  if (maskScratch.length < size) maskScratch = new Uint8Array(size);
  if (stackScratch.length < width * height) stackScratch = new Int32Array(width * height);
  const above = maskScratch;
  const stack = stackScratch;
  above.fill(0, 0, size);
  let abovePixels = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const prow = (y + 1) * pw + 1;
    for (let x = 0; x < width; x++) {
      if (map[row + x]! >= threshold) {
        above[prow + x] = 1;
        abovePixels++;
      }
    }
  }
  let bestCount = 0;
  let box: Box | undefined;
  for (let start = pw + 1; start < size - pw; start++) {
    if (above[start] === 0) continue;
    // Flood fill with an explicit stack (no recursion depth limit), in padded coordinates.
    let top = 0;
    stack[top++] = start;
    above[start] = 0;
    let count = 0;
    let x0 = pw;
    let y0 = height + 2;
    let x1 = -1;
    let y1 = -1;
    while (top > 0) {
      const p = stack[--top]!;
      count++;
      const y = (p / pw) | 0;
      const x = p - y * pw;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (let q = p - pw - 1; q <= p + pw - 1; q += pw) {
        if (above[q] === 1) {
          above[q] = 0;
          stack[top++] = q;
        }
        if (above[q + 1] === 1) {
          above[q + 1] = 0;
          stack[top++] = q + 1;
        }
        if (above[q + 2] === 1) {
          above[q + 2] = 0;
          stack[top++] = q + 2;
        }
      }
    }
    if (count > bestCount) {
      bestCount = count;
      box = { x0: x0 - 1, y0: y0 - 1, x1: x1 - 1, y1: y1 - 1 };
    }
  }
  return { box, segmentPixels: bestCount, abovePixels, threshold };
}

/** Intersection over union of two inclusive pixel boxes. */
export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) + 1;
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0) + 1;
  const inter = Math.max(0, w) * Math.max(0, h);
  const area = (r: Box) => (r.x1 - r.x0 + 1) * (r.y1 - r.y0 + 1);
  return inter / (area(a) + area(b) - inter);
}

/** Scales a box from a w×h map to a W×H image (pixel centres). */
export function scaleBox(
  b: Box,
  from: { width: number; height: number },
  to: { width: number; height: number },
): Box {
  const sx = to.width / from.width;
  const sy = to.height / from.height;
  return {
    x0: Math.floor(b.x0 * sx),
    y0: Math.floor(b.y0 * sy),
    x1: Math.min(to.width - 1, Math.ceil((b.x1 + 1) * sx) - 1),
    y1: Math.min(to.height - 1, Math.ceil((b.y1 + 1) * sy) - 1),
  };
}
