// Localization error (the Grad-CAM paper's ILSVRC protocol) on hand-computed maps: boxes of the
// largest 8-connected segment, IoU against the class's boxes, the rank at which an image is first
// localized, the threshold sweep, the centre-box and full-image baselines, and the aggregations.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import {
  boxBaselineRecord,
  centreBaselineBox,
  classificationError,
  fullImageBaselineBox,
  localizationError,
  localizationRecord,
  localizationSweep,
  meanRelativeBoxSize,
  sweepError,
} from '../../src/eval/metrics/localization-error.ts';

/** Rows of digits: d/9 per pixel, '.' = 0. */
const grid = (rows: string[]) => Float32Array.from(rows.join(''), (c) => (c === '.' ? 0 : Number(c) / 9));
const isCode = (code: string) => (e: unknown) => e instanceof GradsightError && e.code === code;

// A 2×2 segment (0..1, 0..1), a 2-pixel one at x = 4, and 1/9 below 15% of the max.
const twoSegments = grid(['99...', '99..5', '....5', '.....', '1....']);

test('the box of the largest segment, its IoU with the class box, and the rank it is localized at', () => {
  const truth = { labels: ['cat'], boxes: [{ label: 'cat', box: { x0: 0, y0: 0, x1: 2, y1: 1 } }] };
  const r = localizationRecord(
    [
      { label: 'dog', map: twoSegments },
      { label: undefined, map: twoSegments },
      { label: 'cat', map: twoSegments },
    ],
    5,
    5,
    truth,
  );
  // Box {0,0,1,1} (4 px) against {0,0,2,1} (6 px): IoU 4/6.
  assert.deepEqual(r.ranks[2]!.box, { x0: 0, y0: 0, x1: 1, y1: 1 });
  assert.ok(Math.abs(r.ranks[2]!.iou - 4 / 6) < 1e-12);
  // Wrong classes are not localized at all (their box could not count).
  assert.deepEqual(r.ranks[0], { label: 'dog', correctClass: false, box: undefined, iou: 0 });
  assert.equal(r.classifiedAt, 3);
  assert.equal(r.localizedAt, 3);
  assert.equal(localizationError([r], 1), 1);
  assert.equal(localizationError([r], 2), 1);
  assert.equal(localizationError([r], 5), 0);
  assert.equal(classificationError([r], 3), 0);
});

test('IoU below 0.5 with every box of the class is not localized; the best box of the class counts', () => {
  const far = { label: 'cat', box: { x0: 0, y0: 0, x1: 3, y1: 3 } }; // IoU 4/16
  const r = localizationRecord([{ label: 'cat', map: twoSegments }], 5, 5, { labels: ['cat'], boxes: [far] });
  assert.equal(r.classifiedAt, 1);
  assert.equal(r.localizedAt, null);
  assert.equal(r.ranks[0]!.iou, 0.25);
  // A second cat box that fits, and a dog box that fits but is another class.
  const near = { label: 'cat', box: { x0: 0, y0: 0, x1: 1, y1: 2 } }; // IoU 4/6
  const dog = { label: 'dog', box: { x0: 0, y0: 0, x1: 1, y1: 1 } };
  const both = localizationRecord([{ label: 'cat', map: twoSegments }], 5, 5, {
    labels: ['cat', 'dog'],
    boxes: [far, dog, near],
  });
  assert.ok(Math.abs(both.ranks[0]!.iou - 4 / 6) < 1e-12);
  assert.equal(both.localizedAt, 1);
  // A stricter IoU threshold than 4/6 refuses it.
  assert.equal(
    localizationRecord(
      [{ label: 'cat', map: twoSegments }],
      5,
      5,
      { labels: ['cat'], boxes: [near] },
      { iouThreshold: 0.7 },
    ).localizedAt,
    null,
  );
});

test('the threshold sweep: a low threshold merges the peak with its shoulder, a high one keeps the peak', () => {
  // At 15% the 9 and the row of 5s form one 5-pixel segment {0,0,3,1}: IoU 1/8 with the 1-pixel box.
  // At 60% only the 9 remains: IoU 1.
  const map = grid(['9....', '5555.']);
  const truth = { labels: ['cat'], boxes: [{ label: 'cat', box: { x0: 0, y0: 0, x1: 0, y1: 0 } }] };
  const sweep = localizationSweep([{ label: 'cat', map }], 5, 2, truth, { fractions: [0.15, 0.6] });
  assert.deepEqual(sweep, [
    { fraction: 0.15, localizedAt: null },
    { fraction: 0.6, localizedAt: 1 },
  ]);
  assert.equal(localizationRecord([{ label: 'cat', map }], 5, 2, truth, { fraction: 0.6 }).localizedAt, 1);
  const other = localizationSweep([{ label: 'dog', map }], 5, 2, truth, { fractions: [0.15, 0.6] });
  assert.deepEqual(sweepError([sweep, other], 1), [
    { fraction: 0.15, error: 1 },
    { fraction: 0.6, error: 0.5 },
  ]);
  assert.equal(localizationSweep([{ label: 'cat', map }], 5, 2, truth).length, 19);
  // Only the first k ranks: the cat at rank 2 counts for k = 2, not for k = 1.
  const ranked = [
    { label: 'dog', map },
    { label: 'cat', map },
  ];
  assert.equal(localizationSweep(ranked, 5, 2, truth, { fractions: [0.6] })[0]!.localizedAt, 2);
  assert.equal(localizationSweep(ranked, 5, 2, truth, { fractions: [0.6], k: 1 })[0]!.localizedAt, null);
  assert.throws(() => sweepError([sweep, other.slice(1)], 1), isCode('bad-argument'));
});

test('centre-box and full-image baselines', () => {
  // Half of 10×8 is 5×4, centred with the odd pixel to the right: x0 = floor(5/2) = 2.
  assert.deepEqual(centreBaselineBox(10, 8), { x0: 2, y0: 2, x1: 6, y1: 5 });
  assert.deepEqual(centreBaselineBox(10, 8, { width: 0.3, height: 0.5 }), { x0: 3, y0: 2, x1: 5, y1: 5 });
  assert.deepEqual(fullImageBaselineBox(10, 8), { x0: 0, y0: 0, x1: 9, y1: 7 });
  // Mean relative size: boxes 5/10 and 10/20 wide (0.5), 2/10 and 6/10 high (0.4).
  const size = meanRelativeBoxSize([
    { width: 10, height: 10, boxes: [{ label: 'a', box: { x0: 0, y0: 0, x1: 4, y1: 1 } }] },
    { width: 20, height: 10, boxes: [{ label: 'b', box: { x0: 5, y0: 2, x1: 14, y1: 7 } }] },
  ]);
  assert.ok(Math.abs(size.width - 0.5) < 1e-12 && Math.abs(size.height - 0.4) < 1e-12);
  const truth = { labels: ['cat'], boxes: [{ label: 'cat', box: { x0: 2, y0: 2, x1: 7, y1: 5 } }] };
  // Centre {2,2,6,5} (20 px) vs {2,2,7,5} (24 px): IoU 20/24; full image: 24/80.
  const centre = boxBaselineRecord(['dog', 'cat'], centreBaselineBox(10, 8), truth);
  assert.ok(Math.abs(centre.ranks[1]!.iou - 20 / 24) < 1e-12);
  assert.equal(centre.localizedAt, 2);
  const full = boxBaselineRecord(['cat'], fullImageBaselineBox(10, 8), truth);
  assert.ok(Math.abs(full.ranks[0]!.iou - 24 / 80) < 1e-12);
  assert.equal(full.localizedAt, null);
});

test('errors: no boxes, a map of the wrong size, no images', () => {
  assert.throws(
    () => localizationRecord([{ label: 'cat', map: twoSegments }], 5, 5, { labels: ['cat'], boxes: [] }),
    isCode('bad-argument'),
  );
  assert.throws(
    () =>
      localizationRecord([{ label: 'cat', map: twoSegments }], 4, 5, {
        labels: ['cat'],
        boxes: [{ label: 'cat', box: { x0: 0, y0: 0, x1: 1, y1: 1 } }],
      }),
    isCode('shape-mismatch'),
  );
  assert.throws(() => localizationError([], 1), isCode('bad-argument'));
  assert.throws(() => meanRelativeBoxSize([]), isCode('bad-argument'));
});
