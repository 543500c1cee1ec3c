// Weakly-supervised segmentation seeds (the Grad-CAM paper §4.2, seeds for SEC on VOC 2012): each class
// present gets its map normalized to its max and thresholded into a seed mask (SEC's localization cues
// keep pixels above 20% of the max). Two scores: the per-image, per-class IoU of a seed with the class's
// mask, and the standard dataset mIoU: the seeds combined into one label map per image (a pixel takes
// the class whose normalized map is highest among those at or above the threshold, else background),
// a confusion matrix summed over the dataset, IoU_c = TP / (TP + FP + FN), mIoU = the mean over classes
// with a non-empty union, background included (the VOC convention) or excluded. Void pixels (255) are
// left out everywhere.

import { GradsightError } from '../../errors.ts';
import { checkMap, checkSize, type LabelMask } from './regions.ts';

/** SEC's seed threshold: 20% of the map's max. */
export const SEED_FRACTION = 0.2;
/** Threshold fractions of the default sweep: 0.05, 0.10, ..., 0.95. */
export const SEED_SWEEP_FRACTIONS: readonly number[] = Array.from({ length: 19 }, (_, i) => (i + 1) / 20);

/** The map explaining one class present in the image; `cls` indexes the mask's classes. */
export interface ClassMap {
  readonly cls: number;
  readonly map: Float32Array;
}

/** Seed of one class: S(p) = [L(p) / max L ≥ fraction] (empty when max L ≤ 0). */
export function seedMask(map: Float32Array, fraction = SEED_FRACTION): Uint8Array {
  let max = 0;
  for (const v of map) if (v > max) max = v;
  const seed = new Uint8Array(map.length);
  if (!(max > 0)) return seed;
  for (let p = 0; p < map.length; p++) seed[p] = map[p]! / max >= fraction ? 1 : 0;
  return seed;
}

export interface SeedIoU {
  readonly iou: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

/** IoU of one class's seed with its mask pixels, void left out: TP / (TP + FP + FN) (NaN if the union is empty). */
export function seedIoU(map: Float32Array, mask: LabelMask, cls: number, fraction = SEED_FRACTION): SeedIoU {
  checkMask(map, mask);
  const seed = seedMask(map, fraction);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let p = 0; p < seed.length; p++) {
    const t = mask.data[p]!;
    if (t === mask.void) continue;
    const truth = t === cls;
    if (seed[p] && truth) tp++;
    else if (seed[p]) fp++;
    else if (truth) fn++;
  }
  const union = tp + fp + fn;
  return { iou: union > 0 ? tp / union : Number.NaN, tp, fp, fn };
}

function checkMask(map: Float32Array, mask: LabelMask): void {
  checkSize(mask.data, mask.width, mask.height, 'class mask');
  checkMap(map, mask.width, mask.height, 'map');
}

/**
 * One label map from the seeds of the classes present: label(p) = argmax_c L_c(p) / max L_c over the
 * classes with L_c(p) / max L_c ≥ fraction, else 0 (background). Ties: the first class in `maps`.
 */
export function seedLabels(
  maps: readonly ClassMap[],
  width: number,
  height: number,
  fraction = SEED_FRACTION,
): Uint8Array {
  const labels = new Uint8Array(width * height);
  const best = new Float32Array(width * height).fill(fraction);
  const taken = new Uint8Array(width * height);
  for (const { cls, map } of maps) {
    checkMap(map, width, height, `map of class ${cls}`);
    let max = 0;
    for (const v of map) if (v > max) max = v;
    if (!(max > 0)) continue;
    for (let p = 0; p < map.length; p++) {
      const v = map[p]! / max;
      if (v >= fraction && (!taken[p] || v > best[p]!)) {
        best[p] = v;
        labels[p] = cls;
        taken[p] = 1;
      }
    }
  }
  return labels;
}

/**
 * One image's confusion counts, compactly: `classes` are the indices that occur (truth or seed, sorted),
 * `counts[i * k + j]` the non-void pixels of truth classes[i] labelled classes[j] (k = classes.length).
 */
export interface SeedRecord {
  readonly classes: readonly number[];
  readonly counts: readonly number[];
}

/** Confusion counts of a predicted label map against the class mask (void pixels left out). */
export function confusionRecord(predicted: Uint8Array, mask: LabelMask): SeedRecord {
  checkSize(mask.data, mask.width, mask.height, 'class mask');
  checkSize(predicted, mask.width, mask.height, 'label map');
  const seen = new Uint8Array(256);
  for (let p = 0; p < predicted.length; p++) {
    if (mask.data[p] === mask.void) continue;
    seen[mask.data[p]!] = 1;
    seen[predicted[p]!] = 1;
  }
  const classes: number[] = [];
  const slot = new Int32Array(256).fill(-1);
  for (let c = 0; c < 256; c++)
    if (seen[c]) {
      slot[c] = classes.length;
      classes.push(c);
    }
  const k = classes.length;
  const counts = new Array<number>(k * k).fill(0);
  for (let p = 0; p < predicted.length; p++) {
    if (mask.data[p] === mask.void) continue;
    counts[slot[mask.data[p]!]! * k + slot[predicted[p]!]!]!++;
  }
  return { classes, counts };
}

/** One image's seed confusion at one threshold: confusionRecord(seedLabels(maps, fraction), mask). */
export function seedRecord(maps: readonly ClassMap[], mask: LabelMask, fraction = SEED_FRACTION): SeedRecord {
  checkSize(mask.data, mask.width, mask.height, 'class mask');
  return confusionRecord(seedLabels(maps, mask.width, mask.height, fraction), mask);
}

/** seedRecord at each threshold fraction (default 0.05..0.95). */
export function seedSweep(
  maps: readonly ClassMap[],
  mask: LabelMask,
  fractions: readonly number[] = SEED_SWEEP_FRACTIONS,
): { fraction: number; record: SeedRecord }[] {
  return fractions.map((fraction) => ({ fraction, record: seedRecord(maps, mask, fraction) }));
}

/** The dataset's confusion matrix C[t · n + p] = Σ_images counts (n classes, rows = truth, columns = seed). */
export function sumConfusion(records: Iterable<SeedRecord>, classCount: number): Float64Array {
  const c = new Float64Array(classCount * classCount);
  for (const r of records) {
    const k = r.classes.length;
    for (const [i, t] of r.classes.entries()) {
      if (t >= classCount)
        throw new GradsightError(
          'bad-argument',
          `seed record has class index ${t}, beyond ${classCount} classes`,
          {
            hint: 'pass the number of classes of the dataset (with the background)',
          },
        );
      for (const [j, s] of r.classes.entries()) c[t * classCount + s]! += r.counts[i * k + j]!;
    }
  }
  return c;
}

/** Per-class IoU_c = C[c,c] / (Σ_p C[c,p] + Σ_t C[t,c] − C[c,c]); NaN for a class absent from both. */
export function classIoU(confusion: Float64Array, classCount: number): Float64Array {
  const out = new Float64Array(classCount);
  for (let c = 0; c < classCount; c++) {
    let row = 0;
    let col = 0;
    for (let j = 0; j < classCount; j++) {
      row += confusion[c * classCount + j]!;
      col += confusion[j * classCount + c]!;
    }
    const tp = confusion[c * classCount + c]!;
    const union = row + col - tp;
    out[c] = union > 0 ? tp / union : Number.NaN;
  }
  return out;
}

/**
 * mIoU = mean of IoU_c over the classes with a non-empty union; `background: 'include'` (the VOC
 * convention, class 0 counted) or 'exclude' (foreground classes only).
 */
export function meanIoU(
  confusion: Float64Array,
  classCount: number,
  background: 'include' | 'exclude' = 'include',
): number {
  const ious = classIoU(confusion, classCount);
  let sum = 0;
  let n = 0;
  for (let c = background === 'include' ? 0 : 1; c < classCount; c++) {
    if (Number.isNaN(ious[c]!)) continue;
    sum += ious[c]!;
    n++;
  }
  if (n === 0)
    throw new GradsightError('bad-argument', 'mIoU over no classes: the confusion matrix is empty', {
      hint: 'score at least one image with non-void pixels',
    });
  return sum / n;
}
