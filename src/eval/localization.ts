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
  const max = maxOf(map);
  const threshold = fraction * max;
  if (!(max > 0)) return { box: undefined, segmentPixels: 0, abovePixels: 0, threshold };
  // The mask with a border of zeros one pixel wide, so the fill's 8 neighbours need no bounds checks;
  // a pixel is cleared when it joins a segment.
  const pw = width + 2;
  const size = pw * (height + 2);
  if (maskScratch.length < size) maskScratch = new Uint8Array(size);
  if (stackScratch.length < width * height) stackScratch = new Int32Array(width * height);
  const above = maskScratch;
  above.fill(0, 0, size);
  const abovePixels = markAbove(map, width, height, threshold, above);
  // Each loop is its own function of arrays and numbers: V8 optimizes each once, with full feedback.
  const best = new Int32Array(5); // count, x0, y0, x1, y1 of the largest segment (padded coordinates)
  largestSegment(above, pw, height, stackScratch, best);
  const box =
    best[0]! > 0 ? { x0: best[1]! - 1, y0: best[2]! - 1, x1: best[3]! - 1, y1: best[4]! - 1 } : undefined;
  return { box, segmentPixels: best[0]!, abovePixels, threshold };
}

function maxOf(map: Float32Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < map.length; i++) if (map[i]! > max) max = map[i]!;
  return max;
}

/** Sets the padded mask where the map is at or above the threshold; returns how many pixels are. */
function markAbove(map: Float32Array, width: number, height: number, threshold: number, above: Uint8Array) {
  const pw = width + 2;
  let count = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const prow = (y + 1) * pw + 1;
    for (let x = 0; x < width; x++) {
      if (map[row + x]! >= threshold) {
        above[prow + x] = 1;
        count++;
      }
    }
  }
  return count;
}

/** The largest 8-connected segment of the mask (the first met in row-major order on ties) into `best`. */
function largestSegment(above: Uint8Array, pw: number, height: number, stack: Int32Array, best: Int32Array) {
  const size = pw * (height + 2);
  const seg = new Int32Array(5);
  for (let start = pw + 1; start < size - pw; start++) {
    if (above[start] === 0) continue;
    fillSegment(above, pw, height, stack, start, seg);
    if (seg[0]! > best[0]!) best.set(seg);
  }
}

/** Flood fill from `start` with an explicit stack (no recursion depth limit): count and bounds into `seg`. */
function fillSegment(
  above: Uint8Array,
  pw: number,
  height: number,
  stack: Int32Array,
  start: number,
  seg: Int32Array,
): void {
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
  seg[0] = count;
  seg[1] = x0;
  seg[2] = y0;
  seg[3] = x1;
  seg[4] = y1;
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
