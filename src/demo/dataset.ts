// The demo dataset: seeded, procedural 96×96 RGB images of circles, squares, triangles and crosses at
// ILSVRC-like scale (box area ~10–90% of the image, sometimes cut by the frame) on cluttered
// backgrounds, with exact ground truth (class, box, mask per object) and an optional spurious cue (a
// small checkerboard watermark in a corner) for the biased-model demo. generateSample is a pure
// function of (seed, index, cue mode): the same bytes on every machine and JS engine.
//
// Each sample draws from independent streams (layout, background, colours and noise, cue), so the same
// (seed, index) gives the same objects and background under every cue mode; only the watermark differs.

import { type RgbImage, rgbImage } from '../image/rgb-image.ts';
import { type FloatRgb, paintBackground } from './background.ts';
import { mulberry32, type Rng, streamSeed } from './prng.ts';
import {
  type Box,
  CLASSES,
  insideShape,
  type Placement,
  rasterize,
  SHAPE_EXTENT,
  type ShapeClass,
  shapeBounds,
} from './shapes.ts';

export { type Box, CLASSES, type ShapeClass } from './shapes.ts';

export const IMAGE_SIZE = 96;

/**
 * Where the watermark goes. `none`: never. `biased`: with probability `biasedRate` when the label is
 * `biasedClass`, `otherRate` otherwise (the training set of the biased model). `random`: with
 * probability `randomRate` whatever the class (the unbiased evaluation).
 */
export type CueMode = 'none' | 'biased' | 'random';

export const CUE = {
  /** Side of the checkerboard watermark in pixels (2-pixel cells). */
  size: 8,
  /** Gap between the watermark and the image edges. */
  margin: 2,
  biasedClass: 2 as ShapeClass, // triangle
  biasedRate: 1,
  otherRate: 0,
  randomRate: 0.5,
} as const;

/** Objects keep out of the four corner squares of this side, so the watermark never covers one. */
const CORNER_ZONE = CUE.size + 2 * CUE.margin + 2;
/** Fraction of images with a second object of another class. */
const TWO_OBJECT_RATE = 0.2;
/**
 * The labelled object's whole box area as a share of the image, drawn uniformly (the frame may then cut
 * it: SPILL): ILSVRC-like scale (ILSVRC val objects cover about half the image on average, from a tenth
 * to nearly all of it), so the paper's box protocol means what it means there. In two-object images the
 * larger object is smaller, so the second fits beside it.
 */
const BOX_SHARE = { single: [0.1, 0.95], twoObjects: [0.12, 0.3] } as const;
/**
 * How far a lone object's box may cross the image border, as a share of its width and height (at
 * least 0.75 × 0.75 of it stays inside): objects cut by the frame, as ILSVRC's often are, so that a
 * large object is not always central and a centre box does not win by construction.
 */
const SPILL = 0.25;
/** Per-channel uniform pixel noise amplitude. */
const NOISE = 10;

export interface DemoObject {
  readonly cls: ShapeClass;
  /** Tight box of the mask, inclusive pixel coordinates. */
  readonly box: Box;
  /** width×height, 1 inside the object. */
  readonly mask: Uint8Array;
}

export interface DemoCue {
  readonly box: Box;
  readonly mask: Uint8Array;
}

export interface DemoSample {
  readonly image: RgbImage;
  /** One or two objects of different classes, largest first; their masks never overlap. */
  readonly objects: readonly DemoObject[];
  /** The class of the largest (first) object: the single-label training target. */
  readonly label: ShapeClass;
  readonly cue: DemoCue | null;
}

export interface SampleOptions {
  readonly cue?: CueMode;
}

export interface SplitSpec {
  readonly seed: number;
  readonly count: number;
  readonly cue: CueMode;
}

/**
 * The splits the demo models were trained and evaluated on. `train` and `trainBiased` (and `val` and
 * `valBiased`) share their seed: the same images, differing only in where the watermark is.
 */
export const SPLITS = {
  train: { seed: 1001, count: 6000, cue: 'random' },
  trainBiased: { seed: 1001, count: 6000, cue: 'biased' },
  val: { seed: 2002, count: 1000, cue: 'random' },
  valBiased: { seed: 2002, count: 1000, cue: 'biased' },
  test: { seed: 3003, count: 1000, cue: 'random' },
} as const satisfies Record<string, SplitSpec>;

export type SplitName = keyof typeof SPLITS;

const STREAM = { layout: 0, background: 1, paint: 2, cue: 3 } as const;

/** One sample of a split. */
export function splitSample(split: SplitSpec, index: number): DemoSample {
  return generateSample(split.seed, index, { cue: split.cue });
}

export function generateSample(seed: number, index: number, opts: SampleOptions = {}): DemoSample {
  if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(`seed and index must be integers (index ≥ 0), got ${seed}, ${index}`);
  }
  const w = IMAGE_SIZE;
  const h = IMAGE_SIZE;
  const rng = (s: number) => mulberry32(streamSeed(seed, index, s));
  const placements = layout(rng(STREAM.layout), w, h);
  const buf = paintBackground(rng(STREAM.background), w, h);
  const paint = rng(STREAM.paint);
  const objects = placements.map((p) => {
    const { mask, box } = rasterize(p, w, h);
    fillMask(buf, mask, objectColor(paint, buf, mask));
    return { cls: p.cls, box, mask };
  });
  for (let i = 0; i < buf.length; i++) buf[i] = buf[i]! + NOISE * (2 * paint.next() - 1);
  const label = placements[0]!.cls;
  const cue = drawCue(rng(STREAM.cue), buf, w, h, label, opts.cue ?? 'none');
  return { image: rgbImage(w, h, quantize(buf)), objects, label, cue };
}

/** Classes, box sizes, positions and rotations of the one or two objects. */
function layout(rng: Rng, w: number, h: number): Placement[] {
  const two = rng.chance(TWO_OBJECT_RATE);
  const c1 = rng.int(0, CLASSES.length - 1) as ShapeClass;
  const share = two ? rng.uniform(...BOX_SHARE.twoObjects) : rng.uniform(...BOX_SHARE.single);
  const sizeFor = (b: { width: number; height: number }) => Math.sqrt((share * w * h) / (b.width * b.height));
  const first = place(rng, c1, sizeFor, [], w, h, two ? 0 : SPILL);
  if (!two) return [first];
  const c2 = ((c1 + rng.int(1, CLASSES.length - 1)) % CLASSES.length) as ShapeClass;
  // At most 0.7× the first's size (≤ 0.49× its area), so the label is unambiguous.
  const size2 = first.size * rng.uniform(0.5, 0.7);
  return [first, place(rng, c2, () => size2, [first], w, h, 0)];
}

/**
 * Rejection-samples a rotation and a position clear of the corner zones and of the other objects,
 * uniform over those that keep the object's box 1 pixel inside the image, or at most `spill` × its
 * width and height outside it. The size is `sizeFor` the rotated shape's box at size 1, capped so the
 * box fits in the image.
 */
function place(
  rng: Rng,
  cls: ShapeClass,
  sizeFor: (unitBox: { width: number; height: number }) => number,
  others: Placement[],
  w: number,
  h: number,
  spill: number,
): Placement {
  let shrink = 1;
  for (let attempt = 1; ; attempt++) {
    const rot = rng.direction();
    const b = shapeBounds(cls, rot);
    const unit = { width: b.right - b.left, height: b.bottom - b.top };
    const size = shrink * Math.min(sizeFor(unit), (w - 2) / unit.width, (h - 2) / unit.height);
    const [sx, sy] = [spill * unit.width * size, spill * unit.height * size];
    const cx = rng.uniform(1 - b.left * size - sx, w - 1 - b.right * size + sx);
    const cy = rng.uniform(1 - b.top * size - sy, h - 1 - b.bottom * size + sy);
    const p = { cls, cx, cy, size, rot };
    const r = SHAPE_EXTENT[cls] * size;
    const clearOfOthers = others.every(
      (o) => norm(o.cx - cx, o.cy - cy) > r + SHAPE_EXTENT[o.cls] * o.size + 2,
    );
    if (clearOfOthers && clearOfCorners(p, w, h)) return p;
    if (attempt % 25 === 0) shrink *= 0.93; // a crowded layout: shrink a little and retry
  }
}

/** Whether no pixel of the four CORNER_ZONE squares (where the watermark may go) is inside the shape. */
function clearOfCorners(p: Placement, w: number, h: number): boolean {
  const [c, s] = p.rot;
  for (const x0 of [0, w - CORNER_ZONE]) {
    for (const y0 of [0, h - CORNER_ZONE]) {
      for (let y = y0; y < y0 + CORNER_ZONE; y++) {
        for (let x = x0; x < x0 + CORNER_ZONE; x++) {
          // As in rasterize: the pixel centre rotated back into the shape's frame at size 1.
          const dx = x + 0.5 - p.cx;
          const dy = y + 0.5 - p.cy;
          if (insideShape(p.cls, (c * dx + s * dy) / p.size, (-s * dx + c * dy) / p.size)) return false;
        }
      }
    }
  }
  return true;
}

/** Euclidean norm with Math.sqrt (correctly rounded everywhere; Math.hypot is engine-approximated). */
function norm(x: number, y: number): number {
  return Math.sqrt(x * x + y * y);
}

/** A saturated colour that stands out from the background under the mask (best of a few tries). */
function objectColor(rng: Rng, buf: FloatRgb, mask: Uint8Array): [number, number, number] {
  const mean = [0, 0, 0];
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) continue;
    for (let c = 0; c < 3; c++) mean[c]! += buf[i * 3 + c]!;
    n++;
  }
  for (let c = 0; c < 3; c++) mean[c]! /= Math.max(1, n);
  let best: [number, number, number] = [0, 0, 0];
  let bestDist = -1;
  for (let k = 0; k < 12 && bestDist < 150; k++) {
    const color = hsv(rng.uniform(0, 6), rng.uniform(0.55, 1), rng.uniform(0.5, 1));
    const dist = color.reduce((a, v, c) => a + Math.abs(v - mean[c]!), 0);
    if (dist > bestDist) {
      best = color;
      bestDist = dist;
    }
  }
  return best;
}

/** HSV (hue in [0, 6)) to RGB in 0–255, piecewise linear. */
function hsv(hue: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(hue);
  const f = hue - i;
  const p = 255 * v * (1 - s);
  const q = 255 * v * (1 - s * f);
  const t = 255 * v * (1 - s * (1 - f));
  const V = 255 * v;
  const table: [number, number, number][] = [
    [V, t, p],
    [q, V, p],
    [p, V, t],
    [p, q, V],
    [t, p, V],
    [V, p, q],
  ];
  return table[i % 6]!;
}

function fillMask(buf: FloatRgb, mask: Uint8Array, color: readonly number[]): void {
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) continue;
    buf[i * 3] = color[0]!;
    buf[i * 3 + 1] = color[1]!;
    buf[i * 3 + 2] = color[2]!;
  }
}

/** Whether a sample of this label carries the watermark under a cue mode. */
function cueRate(mode: CueMode, label: ShapeClass): number {
  if (mode === 'none') return 0;
  if (mode === 'random') return CUE.randomRate;
  return label === CUE.biasedClass ? CUE.biasedRate : CUE.otherRate;
}

/** Draws the black-and-white checkerboard watermark in a random corner, after the noise (it is crisp). */
function drawCue(rng: Rng, buf: FloatRgb, w: number, h: number, label: ShapeClass, mode: CueMode) {
  // Always draw the same numbers so the corner does not depend on the mode.
  const present = rng.next() < cueRate(mode, label);
  const right = rng.chance(0.5);
  const bottom = rng.chance(0.5);
  if (!present) return null;
  const x0 = right ? w - CUE.margin - CUE.size : CUE.margin;
  const y0 = bottom ? h - CUE.margin - CUE.size : CUE.margin;
  const mask = new Uint8Array(w * h);
  for (let y = 0; y < CUE.size; y++) {
    for (let x = 0; x < CUE.size; x++) {
      const i = (y0 + y) * w + x0 + x;
      const v = ((x >> 1) + (y >> 1)) % 2 === 0 ? 255 : 0;
      buf[i * 3] = v;
      buf[i * 3 + 1] = v;
      buf[i * 3 + 2] = v;
      mask[i] = 1;
    }
  }
  return { mask, box: { x0, y0, x1: x0 + CUE.size - 1, y1: y0 + CUE.size - 1 } };
}

function quantize(buf: FloatRgb): Uint8Array {
  const out = new Uint8Array(buf.length);
  for (let i = 0; i < buf.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(buf[i]!)));
  return out;
}
