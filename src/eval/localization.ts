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

/**
 * Scratch for localize() (it is synchronous), grown as needed: per run of above-threshold pixels in a
 * row, its row, first and last columns and union-find parent (RUN_FIELDS).
 */
let runScratch = new Int32Array(0);

export function localize(map: Float32Array, width: number, height: number, fraction = 0.15): Localization {
  const max = maxOf(map);
  const threshold = fraction * max;
  if (!(max > 0)) return { box: undefined, segmentPixels: 0, abovePixels: 0, threshold };
  // Segments are labelled by runs (connected-component labelling on run lengths): a row's runs join
  // the previous row's runs they touch, diagonals included (8-connectivity), in a union-find whose
  // root is a segment's first run in row-major order, so ties go to the segment met first.
  const most = Math.ceil(width / 2) * height;
  if (runScratch.length < RUN_FIELDS * most) runScratch = new Int32Array(RUN_FIELDS * most);
  const out = new Int32Array(6); // count, x0, y0, x1, y1 of the largest segment; pixels above
  // Each loop is its own function of arrays and numbers: V8 optimizes each once, with full feedback.
  const runs = labelRuns(map, width, height, threshold, runScratch, out);
  largestSegment(runScratch, runs, out);
  const box = out[0]! > 0 ? { x0: out[1]!, y0: out[2]!, x1: out[3]!, y1: out[4]! } : undefined;
  return { box, segmentPixels: out[0]!, abovePixels: out[5]!, threshold };
}

/** Int32 fields per run in the scratch: row, first column, last column, parent. */
const RUN_FIELDS = 4;

function maxOf(map: Float32Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < map.length; i++) if (map[i]! > max) max = map[i]!;
  return max;
}

/**
 * The runs of pixels ≥ threshold, row by row, each joined to the runs of the row above that touch it
 * (columns overlapping [first − 1, last + 1]); returns the number of runs, the pixels above in out[5].
 */
function labelRuns(
  map: Float32Array,
  width: number,
  height: number,
  threshold: number,
  r: Int32Array,
  out: Int32Array,
): number {
  let n = 0;
  let above = 0;
  let prevFirst = 0; // the previous row's runs: [prevFirst, rowFirst)
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const rowFirst = n;
    let p = prevFirst; // the first run above that may still touch one of this row's runs
    let x = 0;
    while (x < width) {
      if (!(map[row + x]! >= threshold)) {
        x++;
        continue;
      }
      const a = x;
      while (x < width && map[row + x]! >= threshold) x++;
      const b = x - 1;
      above += x - a;
      const i = n++;
      r[RUN_FIELDS * i] = y;
      r[RUN_FIELDS * i + 1] = a;
      r[RUN_FIELDS * i + 2] = b;
      r[RUN_FIELDS * i + 3] = i;
      // Runs above ending left of a − 1 touch neither this run nor any later one of this row.
      while (p < rowFirst && r[RUN_FIELDS * p + 2]! < a - 1) p++;
      for (let q = p; q < rowFirst && r[RUN_FIELDS * q + 1]! <= b + 1; q++) union(r, i, q);
    }
    prevFirst = rowFirst;
  }
  out[5] = above;
  return n;
}

/** The root of run i (path halving). */
function find(r: Int32Array, i: number): number {
  let k = i;
  while (r[RUN_FIELDS * k + 3] !== k) {
    const parent = r[RUN_FIELDS * k + 3]!;
    const grand = r[RUN_FIELDS * parent + 3]!;
    r[RUN_FIELDS * k + 3] = grand;
    k = grand;
  }
  return k;
}

/** Joins the segments of runs i and j under the earlier root. */
function union(r: Int32Array, i: number, j: number): void {
  const a = find(r, i);
  const b = find(r, j);
  if (a < b) r[RUN_FIELDS * b + 3] = a;
  else if (b < a) r[RUN_FIELDS * a + 3] = b;
}

/**
 * Each segment's pixel count and box, summed at its root, and the largest (the earliest root on ties)
 * into out[0..4]. A root is its segment's first run, so runs taken in order meet it first.
 */
function largestSegment(r: Int32Array, runs: number, out: Int32Array): void {
  // Per run: count, x0, y0, x1, y1 of the segment it is the root of (zero for the others).
  const seg = new Int32Array(5 * runs);
  for (let i = 0; i < runs; i++) {
    const root = find(r, i);
    const y = r[RUN_FIELDS * i]!;
    const a = r[RUN_FIELDS * i + 1]!;
    const b = r[RUN_FIELDS * i + 2]!;
    const s = 5 * root;
    if (seg[s] === 0) {
      seg[s + 1] = a;
      seg[s + 2] = y;
      seg[s + 3] = b;
      seg[s + 4] = y;
    } else {
      if (a < seg[s + 1]!) seg[s + 1] = a;
      if (b > seg[s + 3]!) seg[s + 3] = b;
      seg[s + 4] = y; // runs come row by row
    }
    seg[s] = seg[s]! + b - a + 1;
  }
  out[0] = 0;
  for (let i = 0; i < runs; i++) {
    const s = 5 * i;
    if (seg[s]! > out[0]!) {
      out[0] = seg[s]!;
      out[1] = seg[s + 1]!;
      out[2] = seg[s + 2]!;
      out[3] = seg[s + 3]!;
      out[4] = seg[s + 4]!;
    }
  }
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
