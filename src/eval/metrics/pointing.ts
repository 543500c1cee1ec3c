// Where a map's evidence lies against one class's ground truth (boxes or mask pixels), three ways:
// the pointing game (Zhang et al. 2016, "Top-down Neural Attention by Excitation Backprop": a hit when
// the map's maximum is within 15 px of the class), the energy-based pointing game (Wang et al. 2020,
// Score-CAM, Table 2: the share of the map's energy inside the class's boxes) and Grad-CAM++'s Loc(δ)
// (Chattopadhyay et al. 2018: the same share after the normalized map is thresholded at δ).

import { GradsightError } from '../../errors.ts';
import {
  argmax,
  boxesOf,
  boxesToMask,
  type ClassTruth,
  checkMap,
  checkSize,
  count,
  type LabelledBox,
  positiveMass,
  truthMask,
} from './regions.ts';

/** Zhang et al.'s tolerance, in pixels of the original image. */
export const POINTING_TOLERANCE = 15;

export interface PointingRecord {
  readonly hit: boolean;
  /** The map's maximum (first in row-major order on ties); undefined for a constant map. */
  readonly point: { readonly x: number; readonly y: number } | undefined;
  /** Euclidean distance in pixels from the point to the nearest pixel of the class (0 inside; Infinity: none). */
  readonly distance: number;
}

/**
 * Distance from pixel (x, y) to the nearest set pixel of `region`: min √((x−u)² + (y−v)²) over
 * region(u, v) ≠ 0 (Infinity for an empty region).
 */
export function distanceTo(region: Uint8Array, width: number, x: number, y: number): number {
  if (region[y * width + x]) return 0;
  let best = Number.POSITIVE_INFINITY;
  for (let p = 0; p < region.length; p++) {
    if (!region[p]) continue;
    const u = p % width;
    const d = (u - x) ** 2 + ((p - u) / width - y) ** 2;
    if (d < best) best = d;
  }
  return Math.sqrt(best);
}

/** A point scored like the pointing game: hit ⇔ distance(point, class) ≤ tolerance. */
export function pointHits(
  x: number,
  y: number,
  width: number,
  height: number,
  truth: ClassTruth,
  tolerance = POINTING_TOLERANCE,
): PointingRecord {
  const distance = distanceTo(truthMask(truth, width, height), width, x, y);
  return { hit: distance <= tolerance, point: { x, y }, distance };
}

/**
 * Pointing game: p = argmax map (ties: first in row-major order), hit ⇔ min_{q ∈ class} ‖p − q‖₂ ≤
 * tolerance (a disk of radius 15 px, as TorchRay's implementation of Zhang et al.). A constant map
 * (max = min, e.g. all zero) points nowhere and misses.
 */
export function pointingGame(
  map: Float32Array,
  width: number,
  height: number,
  truth: ClassTruth,
  tolerance = POINTING_TOLERANCE,
): PointingRecord {
  checkMap(map, width, height, 'map');
  const best = argmax(map);
  let constant = true;
  for (const v of map)
    if (v !== map[best]) {
      constant = false;
      break;
    }
  if (constant) return { hit: false, point: undefined, distance: Number.POSITIVE_INFINITY };
  const x = best % width;
  return pointHits(x, (best - x) / width, width, height, truth, tolerance);
}

/**
 * Zhang et al.'s "difficult" subset: the class covers less than a quarter of the image (the union of
 * its boxes, in pixels: |class| < W·H / 4) and at least one other class is present.
 */
export function pointingDifficult(
  width: number,
  height: number,
  label: string,
  truth: { readonly labels: readonly string[]; readonly boxes: readonly LabelledBox[] },
): boolean {
  const area = count(boxesToMask(boxesOf(truth.boxes, label), width, height));
  return area < (width * height) / 4 && truth.labels.some((l) => l !== label);
}

/** Pointing accuracy over images: hits / N. */
export function pointingAccuracy(records: readonly { hit: boolean }[]): number {
  if (records.length === 0)
    throw new GradsightError('bad-argument', 'pointing game over no images', {
      hint: 'score at least one image',
    });
  return records.filter((r) => r.hit).length / records.length;
}

function ignoredOf(truth: ClassTruth, width: number, height: number): Uint8Array | undefined {
  if (truth.ignore) checkSize(truth.ignore, width, height, 'ignored pixels');
  return truth.ignore;
}

/**
 * Energy-based pointing game: Σ_{p ∈ class} L⁺(p) / Σ_p L⁺(p), L⁺ = max(L, 0), sums over the pixels not
 * ignored (a map with no positive energy scores 0).
 */
export function energyPointing(map: Float32Array, width: number, height: number, truth: ClassTruth): number {
  checkMap(map, width, height, 'map');
  const { inside, total } = positiveMass(
    map,
    truthMask(truth, width, height),
    ignoredOf(truth, width, height),
  );
  return total > 0 ? inside / total : 0;
}

/** Grad-CAM++'s thresholds (Table 3 reports δ = 0, 0.25, 0.5). */
export const LOC_DELTAS: readonly number[] = [0, 0.25, 0.5];

/**
 * Grad-CAM++ Loc(δ) = Σ_{inside} L(δ) / (Σ_{inside} L(δ) + Σ_{outside} L(δ)), with L = L⁺ / max L⁺ (the
 * map normalized to [0, 1], max over the pixels not ignored) and L(δ) = L where L ≥ δ, else 0; ignored
 * pixels in neither sum. Loc(0) is the energy pointing game.
 */
export function locDelta(
  map: Float32Array,
  width: number,
  height: number,
  truth: ClassTruth,
  delta: number,
): number {
  checkMap(map, width, height, 'map');
  if (!(delta >= 0 && delta <= 1))
    throw new GradsightError('bad-argument', `Loc(δ): δ = ${delta} is outside [0, 1]`, {
      hint: 'δ is a fraction of the map maximum, e.g. 0, 0.25 or 0.5',
    });
  const region = truthMask(truth, width, height);
  const ignore = ignoredOf(truth, width, height);
  let max = 0;
  for (let p = 0; p < map.length; p++) if (!ignore?.[p] && map[p]! > max) max = map[p]!;
  if (!(max > 0)) return 0;
  let inside = 0;
  let total = 0;
  for (let p = 0; p < map.length; p++) {
    if (ignore?.[p]) continue;
    const v = map[p]! / max;
    if (!(v >= delta) || v <= 0) continue;
    total += v;
    if (region[p]) inside += v;
  }
  return total > 0 ? inside / total : 0;
}

/** Mean of a per-image score (energy pointing, Loc(δ)) over images: (1/N) Σ s_i. */
export function meanScore(scores: readonly number[], what = 'score'): number {
  if (scores.length === 0)
    throw new GradsightError('bad-argument', `${what} over no images`, { hint: 'score at least one image' });
  let s = 0;
  for (const v of scores) s += v;
  return s / scores.length;
}
