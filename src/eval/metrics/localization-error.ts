// The Grad-CAM paper's weakly-supervised localization error (Table 1, the ILSVRC protocol): for each
// of the model's top-k predicted classes, the box around the largest connected segment of its map
// above 15% of the map's max (src/eval/localization.ts `localize`); an image is localized at top-k when
// one of those k classes is a ground-truth class AND its box has IoU ≥ 0.5 with a ground-truth box of
// that class. Error = 1 − the share of images localized. Also: the same over a sweep of threshold
// fractions, and two boxes that need no map (the centre box and the full image) as baselines.

import { GradsightError } from '../../errors.ts';
import { type Box, iou, localize } from '../localization.ts';
import { boxesOf, centreBox, checkMap, fullBox, type LabelledBox, type Size } from './regions.ts';

/** The paper's threshold: 15% of the map's maximum. */
export const PAPER_FRACTION = 0.15;
/** IoU a box needs with a ground-truth box of its class (ILSVRC). */
export const IOU_THRESHOLD = 0.5;
/** Threshold fractions of the default sweep: 0.05, 0.10, ..., 0.95. */
export const SWEEP_FRACTIONS: readonly number[] = Array.from({ length: 19 }, (_, i) => (i + 1) / 20);

/** One of the top-k predictions, in rank order: its dataset class (undefined: maps to none) and its map. */
export interface RankedMap {
  readonly label: string | undefined;
  readonly map: Float32Array;
}

/** An image's ground truth for localization: the classes present and their boxes. */
export interface LocalizationTruth {
  readonly labels: readonly string[];
  readonly boxes: readonly LabelledBox[];
}

export interface RankResult {
  readonly label: string | undefined;
  /** The prediction is one of the image's ground-truth classes. */
  readonly correctClass: boolean;
  /** The map's box (computed only for a correct class: the others cannot count). */
  readonly box: Box | undefined;
  /** Best IoU of the box with a ground-truth box of the class (0 without a box). */
  readonly iou: number;
}

export interface LocalizationRecord {
  readonly ranks: readonly RankResult[];
  /** 1-based rank of the first prediction with a correct class; null when none of the given ranks. */
  readonly classifiedAt: number | null;
  /** 1-based rank of the first prediction with a correct class and IoU ≥ threshold; null when none. */
  readonly localizedAt: number | null;
}

function checkTruth(truth: LocalizationTruth): void {
  if (truth.boxes.length === 0)
    throw new GradsightError(
      'bad-argument',
      'localization error needs ground-truth boxes; this image has none',
      {
        hint: 'score localization only on datasets with boxes (VOC XML, COCO, a manifest with boxes)',
      },
    );
}

/** Best IoU of `box` with the ground-truth boxes of `label` (0 when it has none). */
function bestIou(box: Box | undefined, truth: LocalizationTruth, label: string): number {
  if (!box) return 0;
  let best = 0;
  for (const b of boxesOf(truth.boxes, label)) best = Math.max(best, iou(box, b));
  return best;
}

/**
 * Scores ranked (box-per-prediction) results: localizedAt = min{r : label_r ∈ truth ∧ IoU(box_r, gt) ≥ t}.
 * `boxOf(r)` is called only for predictions of a ground-truth class.
 */
function scoreRanks(
  labels: readonly (string | undefined)[],
  boxOf: (rank: number) => Box | undefined,
  truth: LocalizationTruth,
  iouThreshold: number,
): LocalizationRecord {
  let classifiedAt: number | null = null;
  let localizedAt: number | null = null;
  const ranks = labels.map((label, r): RankResult => {
    const correctClass = label !== undefined && truth.labels.includes(label);
    if (!correctClass) return { label, correctClass, box: undefined, iou: 0 };
    classifiedAt ??= r + 1;
    const box = boxOf(r);
    const overlap = bestIou(box, truth, label);
    if (overlap >= iouThreshold) localizedAt ??= r + 1;
    return { label, correctClass, box, iou: overlap };
  });
  return { ranks, classifiedAt, localizedAt };
}

/**
 * One image's localization record: box_r = localize(map_r, fraction), localized at top-k iff
 * ∃ r ≤ k: label_r ∈ labels ∧ max_{gt of label_r} IoU(box_r, gt) ≥ iouThreshold.
 */
export function localizationRecord(
  predictions: readonly RankedMap[],
  width: number,
  height: number,
  truth: LocalizationTruth,
  options: { fraction?: number; iouThreshold?: number } = {},
): LocalizationRecord {
  checkTruth(truth);
  for (const [r, p] of predictions.entries()) checkMap(p.map, width, height, `map of prediction ${r + 1}`);
  const fraction = options.fraction ?? PAPER_FRACTION;
  return scoreRanks(
    predictions.map((p) => p.label),
    (r) => localize(predictions[r]!.map, width, height, fraction).box,
    truth,
    options.iouThreshold ?? IOU_THRESHOLD,
  );
}

export interface SweepPoint {
  readonly fraction: number;
  readonly localizedAt: number | null;
}

/**
 * localizationRecord's localizedAt at each threshold fraction (default 0.05..0.95), over the first `k`
 * predictions (default all: pass k = 1 when only the top-1 curve is wanted). Stops at the first rank
 * localized, and localizes only the predictions of a ground-truth class.
 */
export function localizationSweep(
  predictions: readonly RankedMap[],
  width: number,
  height: number,
  truth: LocalizationTruth,
  options: { fractions?: readonly number[]; iouThreshold?: number; k?: number } = {},
): SweepPoint[] {
  checkTruth(truth);
  const ranked = predictions.slice(0, options.k ?? predictions.length);
  for (const [r, p] of ranked.entries()) checkMap(p.map, width, height, `map of prediction ${r + 1}`);
  const threshold = options.iouThreshold ?? IOU_THRESHOLD;
  return (options.fractions ?? SWEEP_FRACTIONS).map((fraction) => {
    for (const [r, p] of ranked.entries()) {
      if (p.label === undefined || !truth.labels.includes(p.label)) continue;
      if (bestIou(localize(p.map, width, height, fraction).box, truth, p.label) >= threshold)
        return { fraction, localizedAt: r + 1 };
    }
    return { fraction, localizedAt: null };
  });
}

/**
 * A baseline that draws the same box whatever the class: scored like localizationRecord with the
 * given predicted labels (the model's top-k, mapped to dataset classes).
 */
export function boxBaselineRecord(
  labels: readonly (string | undefined)[],
  box: Box,
  truth: LocalizationTruth,
  iouThreshold = IOU_THRESHOLD,
): LocalizationRecord {
  checkTruth(truth);
  return scoreRanks(labels, () => box, truth, iouThreshold);
}

/**
 * Centre-box baseline: a box of `relative` × the image size centred in the image. The default size is
 * the dataset's mean ground-truth box size relative to its image (meanRelativeBoxSize), as in the demo;
 * without it, half the width and half the height (the central quarter of the image).
 */
export function centreBaselineBox(
  width: number,
  height: number,
  relative: Size = { width: 0.5, height: 0.5 },
): Box {
  return centreBox(width, height, { width: relative.width * width, height: relative.height * height });
}

/** Full-image baseline: the box of the whole image. */
export const fullImageBaselineBox = fullBox;

/** Mean ground-truth box width and height as fractions of their image's: (1/N) Σ w_i / W_i, (1/N) Σ h_i / H_i. */
export function meanRelativeBoxSize(
  images: Iterable<{ width: number; height: number; boxes: readonly LabelledBox[] }>,
): Size {
  let w = 0;
  let h = 0;
  let n = 0;
  for (const im of images)
    for (const { box } of im.boxes) {
      w += (box.x1 - box.x0 + 1) / im.width;
      h += (box.y1 - box.y0 + 1) / im.height;
      n++;
    }
  if (n === 0)
    throw new GradsightError('bad-argument', 'no ground-truth boxes to average', {
      hint: 'pass images with boxes, or give the centre box size explicitly',
    });
  return { width: w / n, height: h / n };
}

function checkRecords(n: number, what: string): void {
  if (n === 0)
    throw new GradsightError('bad-argument', `${what} over no images`, { hint: 'score at least one image' });
}

/** Localization error at top-k over images: 1 − |{i : localizedAt_i ≤ k}| / N. */
export function localizationError(records: readonly { localizedAt: number | null }[], k: number): number {
  checkRecords(records.length, 'localization error');
  const hit = records.filter((r) => r.localizedAt !== null && r.localizedAt <= k).length;
  return 1 - hit / records.length;
}

/** Classification error at top-k over images: 1 − |{i : classifiedAt_i ≤ k}| / N. */
export function classificationError(records: readonly { classifiedAt: number | null }[], k: number): number {
  checkRecords(records.length, 'classification error');
  const hit = records.filter((r) => r.classifiedAt !== null && r.classifiedAt <= k).length;
  return 1 - hit / records.length;
}

/** Localization error at top-k per threshold fraction of a sweep (records share the fractions). */
export function sweepError(
  sweeps: readonly (readonly SweepPoint[])[],
  k: number,
): { fraction: number; error: number }[] {
  checkRecords(sweeps.length, 'localization sweep');
  return sweeps[0]!.map((p, j) => ({
    fraction: p.fraction,
    error: localizationError(
      sweeps.map((s) => {
        if (s[j]?.fraction !== p.fraction)
          throw new GradsightError('bad-argument', 'localization sweeps over different threshold fractions', {
            hint: 'aggregate sweeps computed with the same fractions',
          });
        return s[j]!;
      }),
      k,
    ),
  }));
}
