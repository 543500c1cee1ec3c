// Segmentation seeds on a hand-computed 4×3 image with two classes and void pixels: per-class seed
// IoU, the combined label map, its confusion counts and the dataset mIoU with and without background.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import type { LabelMask } from '../../src/eval/metrics/regions.ts';
import {
  classIoU,
  confusionRecord,
  meanIoU,
  seedIoU,
  seedLabels,
  seedMask,
  seedRecord,
  seedSweep,
  sumConfusion,
} from '../../src/eval/metrics/segmentation-seeds.ts';

const isCode = (code: string) => (e: unknown) => e instanceof GradsightError && e.code === code;
const V = 255;
// bg = 0, cat = 1, dog = 2; two void pixels.
const mask: LabelMask = {
  width: 4,
  height: 3,
  data: Uint8Array.of(1, 1, 0, 0, 1, V, 2, 2, 0, 0, 2, V),
  classes: ['background', 'cat', 'dog'],
  void: V,
};
const cat = Float32Array.of(1, 0.8, 0.1, 0, 0.5, 0.9, 0.3, 0, 0, 0.15, 0, 0);
// Twice [0, 0, .2, .4; 0, 0, 1, .6; 0, 0, .9, .1]: the seed is relative to the map's max.
const dog = Float32Array.of(0, 0, 0.4, 0.8, 0, 0, 2, 1.2, 0, 0, 1.8, 0.2);
const maps = [
  { cls: 1, map: cat },
  { cls: 2, map: dog },
];

test('per-class seed IoU, void pixels left out', () => {
  assert.deepEqual([...seedMask(cat)], [1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0]);
  // Cat: seed (non-void) {0, 1, 4, 6}, truth {0, 1, 4}: TP 3, FP 1 (a dog pixel), FN 0.
  assert.deepEqual(seedIoU(cat, mask, 1), { iou: 0.75, tp: 3, fp: 1, fn: 0 });
  // Dog: seed {2, 3, 6, 7, 10}, truth {6, 7, 10}: IoU 3/5.
  assert.deepEqual(seedIoU(dog, mask, 2), { iou: 0.6, tp: 3, fp: 2, fn: 0 });
  // A higher threshold: dog's seed {6, 7, 10} (≥ 0.5) is exact.
  assert.equal(seedIoU(dog, mask, 2, 0.5).iou, 1);
  // No truth and no seed: undefined (NaN), not 0 or 1.
  assert.ok(Number.isNaN(seedIoU(new Float32Array(12), { ...mask, data: new Uint8Array(12) }, 1).iou));
});

test('the combined label map, its confusion counts and mIoU', () => {
  assert.deepEqual([...seedLabels(maps, 4, 3)], [1, 1, 2, 2, 1, 1, 2, 2, 0, 0, 2, 0]);
  const rec = seedRecord(maps, mask);
  // Rows = truth: bg → bg 2, bg → dog 2; cat → cat 3; dog → dog 3.
  assert.deepEqual(rec, { classes: [0, 1, 2], counts: [2, 0, 2, 0, 3, 0, 0, 0, 3] });
  const c = sumConfusion([rec], 3);
  // IoU: bg 2 / (4 + 2 − 2) = 0.5, cat 1, dog 3 / (3 + 5 − 3) = 0.6.
  assert.deepEqual([...classIoU(c, 3)], [0.5, 1, 0.6]);
  assert.ok(Math.abs(meanIoU(c, 3) - 0.7) < 1e-12);
  assert.ok(Math.abs(meanIoU(c, 3, 'exclude') - 0.8) < 1e-12);
  // Summing two images doubles the counts and keeps the IoUs.
  assert.deepEqual(
    [...sumConfusion([rec, rec], 3)],
    [...c].map((v) => 2 * v),
  );
});

test('ties between classes go to the first map; a class absent everywhere is left out of the mean', () => {
  const same = Float32Array.of(1, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  const labels = seedLabels(
    [
      { cls: 2, map: same },
      { cls: 1, map: same },
    ],
    4,
    3,
  );
  assert.equal(labels[0], 2);
  assert.equal(labels[1], 2);
  // Compact records: only the classes that occur; class 3 of 4 never does (NaN, not in the mean).
  const rec = confusionRecord(Uint8Array.of(0, 1, 1, 0), {
    ...mask,
    width: 2,
    height: 2,
    data: Uint8Array.of(0, 1, V, 1),
  });
  assert.deepEqual(rec, { classes: [0, 1], counts: [1, 0, 1, 1] });
  const c = sumConfusion([rec], 4);
  const ious = classIoU(c, 4);
  assert.ok(Number.isNaN(ious[2]!) && Number.isNaN(ious[3]!));
  assert.ok(Math.abs(meanIoU(c, 4) - (0.5 + 0.5) / 2) < 1e-12);
});

test('the threshold sweep and the errors', () => {
  const sweep = seedSweep(maps, mask, [0.2, 0.5]);
  assert.deepEqual(
    sweep.map((s) => s.fraction),
    [0.2, 0.5],
  );
  assert.deepEqual(sweep[0]!.record, seedRecord(maps, mask));
  // At 0.5: cat seed {0, 1, 4, 5}, dog seed {6, 7, 10}; every non-void pixel right: IoU 1 for all.
  assert.equal(meanIoU(sumConfusion([sweep[1]!.record], 3), 3), 1);
  assert.equal(seedSweep(maps, mask).length, 19);
  assert.throws(() => sumConfusion([{ classes: [0, 5], counts: [1, 0, 0, 1] }], 3), isCode('bad-argument'));
  assert.throws(() => meanIoU(new Float64Array(9), 3), isCode('bad-argument'));
  assert.throws(() => seedIoU(new Float32Array(11), mask, 1), isCode('shape-mismatch'));
});
