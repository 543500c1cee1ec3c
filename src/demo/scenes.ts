// Scenes for the language demos (captioning, VQA): seeded 64×64 RGB images of two or three objects,
// each a shape of the demo's classes in one of four palette colours and one of two sizes, on a muted
// version of the demo's cluttered background, with exact ground truth (box and mask per object).
// generateScene is a pure function of (seed, index): the same bytes on every machine and JS engine.
//
// Layouts are drawn so that every question the grammar asks has one answer: objects never overlap,
// the two sizes differ by at least 1.9× in area, and between any two objects one axis clearly
// dominates (so "left of" / "above" is never a judgement call) and their left-to-right order is clear.

import { type RgbImage, rgbImage } from '../image/rgb-image.ts';
import { type FloatRgb, paintBackground } from './background.ts';
import { mulberry32, type Rng, streamSeed } from './prng.ts';
import { type Box, CLASSES, rasterize, SHAPE_EXTENT, type ShapeClass } from './shapes.ts';

export { type Box, CLASSES, type ShapeClass } from './shapes.ts';

export const SCENE_SIZE = 64;

/** Colour names with their base RGB; objects are drawn in these, jittered a little. */
export const COLORS = ['red', 'green', 'blue', 'yellow'] as const;
export type ColorId = 0 | 1 | 2 | 3;
const PALETTE: readonly (readonly [number, number, number])[] = [
  [215, 35, 35],
  [30, 175, 55],
  [45, 75, 230],
  [235, 205, 30],
];
/** Per-channel colour jitter amplitude, far below the palette's smallest channel gap. */
const COLOR_JITTER = 12;

export const SIZES = ['small', 'large'] as const;
export type SizeId = 0 | 1;
/** The side of the unit-area frame (area = side² pixels) per size: ranges 1.9× apart in area. */
const SIDE: Readonly<Record<SizeId, readonly [number, number]>> = { 0: [8.5, 10], 1: [13.8, 16] };

/** Between two objects the dominant axis' offset is at least this multiple of the other. */
export const AXIS_RATIO = 1.5;
/** Two objects' centres are at least this far apart horizontally: left-to-right order is clear. */
export const MIN_DX = 4;
/** Pixel noise amplitude, per channel. */
const NOISE = 8;

export interface SceneObject {
  readonly shape: ShapeClass;
  readonly color: ColorId;
  readonly size: SizeId;
  /** Centre in pixels (pixel (x, y) covers [x, x+1) × [y, y+1)). */
  readonly cx: number;
  readonly cy: number;
  /** Tight box of the mask, inclusive pixel coordinates. */
  readonly box: Box;
  /** SCENE_SIZE² bytes, 1 inside the object; masks of one scene never overlap. */
  readonly mask: Uint8Array;
}

export interface Scene {
  readonly image: RgbImage;
  /** Two or three objects, in drawing order (no meaning: the language reads positions). */
  readonly objects: readonly SceneObject[];
}

export interface SceneSplit {
  readonly seed: number;
  readonly count: number;
}

/** The splits the language models were trained and measured on: distinct seeds, independent streams. */
export const SCENE_SPLITS = {
  train: { seed: 5005, count: 8000 },
  val: { seed: 6006, count: 500 },
  test: { seed: 7007, count: 1000 },
} as const satisfies Record<string, SceneSplit>;

export type SceneSplitName = keyof typeof SCENE_SPLITS;

const STREAM = { layout: 0, background: 1, paint: 2 } as const;

/** One scene of a split. */
export function splitScene(split: SceneSplit, index: number): Scene {
  return generateScene(split.seed, index);
}

export function generateScene(seed: number, index: number): Scene {
  if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(`seed and index must be integers (index ≥ 0), got ${seed}, ${index}`);
  }
  const w = SCENE_SIZE;
  const rng = (s: number) => mulberry32(streamSeed(seed, index, s));
  const placed = layout(rng(STREAM.layout), w);
  const buf = mute(paintBackground(rng(STREAM.background), w, w));
  const paint = rng(STREAM.paint);
  const objects = placed.map((p): SceneObject => {
    const { mask, box } = rasterize(p, w, w);
    const base = PALETTE[p.color]!;
    const color = base.map((v) => v + COLOR_JITTER * (2 * paint.next() - 1));
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] === 0) continue;
      for (let c = 0; c < 3; c++) buf[i * 3 + c] = color[c]!;
    }
    return { shape: p.cls, color: p.color, size: p.sizeId, cx: p.cx, cy: p.cy, box, mask };
  });
  for (let i = 0; i < buf.length; i++) buf[i] = buf[i]! + NOISE * (2 * paint.next() - 1);
  return { image: rgbImage(w, w, quantize(buf)), objects };
}

interface Placed {
  readonly cls: ShapeClass;
  readonly color: ColorId;
  readonly sizeId: SizeId;
  readonly cx: number;
  readonly cy: number;
  readonly size: number;
  readonly rot: readonly [number, number];
}

/** Two or three objects, redrawn whole until every pair is clear of each other and well ordered. */
function layout(rng: Rng, w: number): Placed[] {
  const count = rng.int(2, 3);
  for (;;) {
    const objects: Placed[] = [];
    for (let k = 0; k < count; k++) {
      const cls = rng.int(0, CLASSES.length - 1) as ShapeClass;
      const color = rng.int(0, COLORS.length - 1) as ColorId;
      const sizeId = rng.int(0, 1) as SizeId;
      const size = rng.uniform(...SIDE[sizeId]);
      const r = SHAPE_EXTENT[cls] * size;
      const cx = rng.uniform(r + 1, w - 1 - r);
      const cy = rng.uniform(r + 1, w - 1 - r);
      // Upright up to ±11.5°: rotation without trigonometry (Math.sqrt is exact everywhere).
      const s = rng.uniform(-0.2, 0.2);
      objects.push({ cls, color, sizeId, cx, cy, size, rot: [Math.sqrt(1 - s * s), s] });
    }
    if (objects.every((a, i) => objects.slice(i + 1).every((b) => clear(a, b)))) return objects;
  }
}

function clear(a: Placed, b: Placed): boolean {
  const dx = Math.abs(a.cx - b.cx);
  const dy = Math.abs(a.cy - b.cy);
  const gap = SHAPE_EXTENT[a.cls] * a.size + SHAPE_EXTENT[b.cls] * b.size + 2;
  const apart = dx * dx + dy * dy > gap * gap;
  return apart && dx >= MIN_DX && Math.max(dx, dy) >= AXIS_RATIO * Math.min(dx, dy);
}

/** The demo background desaturated and compressed to mid-greys, so the palette colours stand out. */
function mute(buf: FloatRgb): FloatRgb {
  for (let i = 0; i < buf.length; i += 3) {
    const g = (buf[i]! + buf[i + 1]! + buf[i + 2]!) / 3;
    const grey = 70 + 0.45 * g;
    for (let c = 0; c < 3; c++) buf[i + c] = grey + 0.2 * (buf[i + c]! - g);
  }
  return buf;
}

function quantize(buf: FloatRgb): Uint8Array {
  const out = new Uint8Array(buf.length);
  for (let i = 0; i < buf.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(buf[i]!)));
  return out;
}
