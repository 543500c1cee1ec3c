// Pointing game, energy-based pointing game and Grad-CAM++'s Loc(δ) on hand-computed maps.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import {
  distanceTo,
  energyPointing,
  locDelta,
  meanScore,
  pointHits,
  pointingAccuracy,
  pointingDifficult,
  pointingGame,
} from '../../src/eval/metrics/pointing.ts';

const isCode = (code: string) => (e: unknown) => e instanceof GradsightError && e.code === code;
const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

/** A w×h map that is 0 except for `peaks` [x, y, value]. */
function spikes(w: number, h: number, peaks: [number, number, number][]): Float32Array {
  const m = new Float32Array(w * h);
  for (const [x, y, v] of peaks) m[y * w + x] = v;
  return m;
}

test('pointing: the maximum within the tolerance of the box (Euclidean, inclusive)', () => {
  const map = spikes(7, 7, [[5, 5, 1]]);
  const box = { boxes: [{ x0: 0, y0: 0, x1: 2, y1: 2 }] };
  // From (5, 5) to the box corner (2, 2): √18 ≈ 4.243.
  const r = pointingGame(map, 7, 7, box, 4);
  assert.deepEqual(r.point, { x: 5, y: 5 });
  near(r.distance, Math.sqrt(18));
  assert.equal(r.hit, false);
  assert.equal(pointingGame(map, 7, 7, box, 5).hit, true);
  assert.equal(pointingGame(map, 7, 7, box).hit, true, 'default tolerance 15 px');
  // Exactly on the tolerance counts (TorchRay's disk x² + y² ≤ r²): (5, 5) to (2, 5) is 3.
  assert.equal(pointingGame(map, 7, 7, { boxes: [{ x0: 0, y0: 5, x1: 2, y1: 5 }] }, 3).hit, true);
  assert.equal(pointingGame(map, 7, 7, { boxes: [{ x0: 0, y0: 5, x1: 2, y1: 5 }] }, 2.99).hit, false);
  // Inside: distance 0, a hit with no tolerance.
  assert.deepEqual(pointingGame(map, 7, 7, { boxes: [{ x0: 4, y0: 4, x1: 6, y1: 6 }] }, 0), {
    hit: true,
    point: { x: 5, y: 5 },
    distance: 0,
  });
});

test('pointing against mask pixels; the nearest pixel of the class counts', () => {
  const mask = new Uint8Array(49);
  mask[2 * 7 + 0] = 1; // (0, 2): distance √(25 + 9) from (5, 5)
  mask[6 * 7 + 1] = 1; // (1, 6): distance √(16 + 1)
  const r = pointingGame(spikes(7, 7, [[5, 5, 2]]), 7, 7, { mask });
  near(r.distance, Math.sqrt(17));
  assert.equal(distanceTo(new Uint8Array(49), 7, 3, 3), Number.POSITIVE_INFINITY);
  // The mask wins over boxes when both are given.
  assert.equal(
    pointingGame(spikes(7, 7, [[5, 5, 2]]), 7, 7, { mask, boxes: [{ x0: 5, y0: 5, x1: 5, y1: 5 }] }, 4).hit,
    false,
  );
});

test('ties: the first maximum in row-major order; a constant map points nowhere', () => {
  const map = spikes(7, 7, [
    [6, 6, 3],
    [1, 0, 3],
    [4, 2, 3],
  ]);
  assert.deepEqual(pointingGame(map, 7, 7, { boxes: [{ x0: 0, y0: 0, x1: 1, y1: 0 }] }, 0).point, {
    x: 1,
    y: 0,
  });
  const flat = pointingGame(new Float32Array(49), 7, 7, { boxes: [{ x0: 0, y0: 0, x1: 6, y1: 6 }] });
  assert.equal(flat.hit, false);
  assert.equal(flat.point, undefined);
  assert.equal(pointHits(3, 3, 7, 7, { boxes: [{ x0: 3, y0: 3, x1: 3, y1: 3 }] }, 0).hit, true);
  assert.equal(pointingAccuracy([{ hit: true }, { hit: false }, { hit: true }, { hit: true }]), 0.75);
  assert.throws(() => pointingAccuracy([]), isCode('bad-argument'));
});

test('energy pointing: the share of the positive map inside the class', () => {
  // 3×2 map; positive part sums to 1 + 2 + 3 + 4 = 10; the box holds pixels 0 and 1.
  const map = Float32Array.of(1, 2, -1, 0, 3, 4);
  const box = { boxes: [{ x0: 0, y0: 0, x1: 1, y1: 0 }] };
  near(energyPointing(map, 3, 2, box), 0.3);
  // Two boxes: their union ({0,1} ∪ {1,4}) holds 1 + 2 + 3.
  near(energyPointing(map, 3, 2, { boxes: [box.boxes[0]!, { x0: 1, y0: 0, x1: 1, y1: 1 }] }), 0.6);
  assert.equal(energyPointing(Float32Array.of(0, -1, 0, 0, 0, 0), 3, 2, box), 0);
  near(meanScore([0.3, 0.6]), 0.45);
});

test("Grad-CAM++'s Loc(δ): the normalized map thresholded at δ, then the share inside", () => {
  // Normalized by the max 4: [0.25, 0.5, ·, 0, 0.75, 1]. δ = 0 and δ = 0.25 keep every positive value:
  // (0.25 + 0.5) / 2.5 = 0.3, the energy pointing game. δ = 0.5 keeps 0.5, 0.75, 1: 0.5 / 2.25.
  const map = Float32Array.of(1, 2, -1, 0, 3, 4);
  const box = { boxes: [{ x0: 0, y0: 0, x1: 1, y1: 0 }] };
  near(locDelta(map, 3, 2, box, 0), 0.3);
  near(locDelta(map, 3, 2, box, 0.25), 0.3);
  near(locDelta(map, 3, 2, box, 0.5), 0.5 / 2.25);
  assert.equal(locDelta(map, 3, 2, box, 0.8), 0);
  assert.equal(locDelta(new Float32Array(6), 3, 2, box, 0.5), 0);
  assert.throws(() => locDelta(map, 3, 2, box, 1.5), isCode('bad-argument'));
});

test('ignored pixels (void) are in neither sum, and not in the max Loc(δ) normalizes by', () => {
  // Pixel 5 (value 4) ignored: positive mass 1 + 2 + 3 = 6, inside 3. Loc(0.5) normalizes by 3:
  // [1/3, 2/3, ·, 0, 1, ·] keeps 2/3 and 1: (2/3) / (5/3).
  const map = Float32Array.of(1, 2, -1, 0, 3, 4);
  const ignore = Uint8Array.of(0, 0, 0, 0, 0, 1);
  const box = { boxes: [{ x0: 0, y0: 0, x1: 1, y1: 0 }], ignore };
  near(energyPointing(map, 3, 2, box), 0.5);
  near(locDelta(map, 3, 2, box, 0.5), 0.4);
  near(locDelta(map, 3, 2, box, 0), 0.5);
  assert.throws(
    () => energyPointing(map, 3, 2, { ...box, ignore: new Uint8Array(5) }),
    isCode('shape-mismatch'),
  );
});

test("Zhang et al.'s difficult subset: the class under a quarter of the image, and a distractor", () => {
  // 10×10 image; cat boxes 4×5 and 5×5 overlapping in 2×5: union 20 + 25 − 10 = 35 ≥ 25, not difficult.
  const boxes = [
    { label: 'cat', box: { x0: 0, y0: 0, x1: 3, y1: 4 } },
    { label: 'cat', box: { x0: 2, y0: 0, x1: 6, y1: 4 } },
    { label: 'dog', box: { x0: 8, y0: 8, x1: 9, y1: 9 } },
  ];
  const labels = ['cat', 'dog'];
  assert.equal(pointingDifficult(10, 10, 'cat', { labels, boxes }), false);
  assert.equal(pointingDifficult(10, 10, 'cat', { labels, boxes: boxes.slice(1) }), false, '25 is not < 25');
  assert.equal(pointingDifficult(10, 10, 'dog', { labels, boxes }), true);
  assert.equal(pointingDifficult(10, 10, 'dog', { labels: ['dog'], boxes }), false, 'no distractor');
});

test('a map of the wrong size, or a truth with neither boxes nor mask, is refused', () => {
  assert.throws(() => pointingGame(new Float32Array(10), 3, 3, { boxes: [] }), isCode('shape-mismatch'));
  assert.throws(() => energyPointing(new Float32Array(9), 3, 3, {}), isCode('bad-argument'));
  assert.throws(
    () => pointingGame(Float32Array.of(1, Number.POSITIVE_INFINITY), 2, 1, { boxes: [] }),
    isCode('non-finite'),
  );
  assert.throws(
    () => energyPointing(new Float32Array(9), 3, 3, { mask: new Uint8Array(8) }),
    isCode('shape-mismatch'),
  );
});
