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

export function localize(map: Float32Array, width: number, height: number, fraction = 0.15): Localization {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of map) if (v > max) max = v;
  const threshold = fraction * max;
  if (!(max > 0)) return { box: undefined, segmentPixels: 0, abovePixels: 0, threshold };
  const above = new Uint8Array(width * height);
  let abovePixels = 0;
  for (let i = 0; i < map.length; i++) {
    if (map[i]! >= threshold) {
      above[i] = 1;
      abovePixels++;
    }
  }
  const label = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  let best: { count: number; box: Box } | undefined;
  let next = 1;
  for (let start = 0; start < above.length; start++) {
    if (!above[start] || label[start]) continue;
    // Flood fill with an explicit stack (no recursion depth limit).
    let top = 0;
    stack[top++] = start;
    label[start] = next;
    let count = 0;
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    while (top > 0) {
      const p = stack[--top]!;
      count++;
      const x = p % width;
      const y = (p - x) / width;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width || (dx === 0 && dy === 0)) continue;
          const q = ny * width + nx;
          if (above[q] && !label[q]) {
            label[q] = next;
            stack[top++] = q;
          }
        }
      }
    }
    if (!best || count > best.count) best = { count, box: { x0, y0, x1, y1 } };
    next++;
  }
  return { box: best?.box, segmentPixels: best?.count ?? 0, abovePixels, threshold };
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
