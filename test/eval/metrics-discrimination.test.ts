// Class discrimination on hand-computed maps: mass in the explained class's region against the other
// classes', with overlapping boxes counted for neither, from boxes or from a class mask.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import {
  aggregateDiscrimination,
  classDiscrimination,
  discriminationOf,
} from '../../src/eval/metrics/discrimination.ts';

const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('own vs others, overlap for neither', () => {
  // 4×1 map [1, 2, 3, 4] (sum 10): own box x 0..1, other box x 1..2; pixel 1 is in both.
  const map = Float32Array.of(1, 2, 3, 4);
  const r = classDiscrimination(
    map,
    4,
    1,
    { boxes: [{ x0: 0, y0: 0, x1: 1, y1: 0 }] },
    { boxes: [{ x0: 1, y0: 0, x1: 2, y1: 0 }] },
  );
  near(r.own, 0.1);
  near(r.others, 0.3);
  near(r.ownShare, 0.25);
  // Negative values carry no mass.
  const neg = classDiscrimination(
    Float32Array.of(-5, 2, 3, 4),
    4,
    1,
    { boxes: [{ x0: 0, y0: 0, x1: 1, y1: 0 }] },
    { boxes: [{ x0: 2, y0: 0, x1: 2, y1: 0 }] },
  );
  near(neg.own, 2 / 9);
  near(neg.ownShare, 0.4);
});

test('from labelled boxes or a class mask; undefined with a single class', () => {
  const map = Float32Array.of(1, 2, 3, 4, 0, 0);
  const boxes = [
    { label: 'cat', box: { x0: 0, y0: 0, x1: 0, y1: 0 } },
    { label: 'dog', box: { x0: 2, y0: 0, x1: 3, y1: 0 } },
  ];
  near(discriminationOf(map, 6, 1, 'cat', { boxes })!.ownShare, 1 / 8);
  near(discriminationOf(map, 6, 1, 'dog', { boxes })!.ownShare, 7 / 8);
  assert.equal(discriminationOf(map, 6, 1, 'cat', { boxes: [boxes[0]!] }), undefined);
  // Mask: cat = {1, 3}, dog = {2}, pixel 0 background, pixel 4 void.
  const mask = {
    width: 6,
    height: 1,
    data: Uint8Array.of(0, 1, 2, 1, 255, 0),
    classes: ['background', 'cat', 'dog'],
    void: 255,
  };
  const r = discriminationOf(map, 6, 1, 'cat', { boxes, mask })!;
  near(r.own, 0.6);
  near(r.others, 0.3);
  near(r.ownShare, 6 / 9);
  assert.throws(
    () => discriminationOf(map, 6, 1, 'background', { boxes, mask }),
    (e: unknown) => e instanceof GradsightError && e.code === 'bad-argument',
  );
});

test('aggregation: mean own share where defined, win rate over all images', () => {
  const agg = aggregateDiscrimination([
    { own: 0.1, others: 0.3, ownShare: 0.25 },
    { own: 0.3, others: 0.1, ownShare: 0.75 },
    { own: 0, others: 0, ownShare: Number.NaN },
  ]);
  assert.deepEqual(agg, { images: 3, meanOwnShare: 0.5, winRate: 1 / 3 });
});
