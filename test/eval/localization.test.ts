// Localization boxes computed by hand: threshold at 15% of the max, largest 8-connected segment.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { iou, localize, scaleBox } from '../../src/eval/localization.ts';

const grid = (rows: string[]) =>
  Float32Array.from(rows.join('').split(''), (c) => (c === '.' ? 0 : Number(c) / 9));

test('largest 8-connected segment above 15% of the max', () => {
  // Two segments: a 3-pixel diagonal (8-connected) and a 2-pixel pair; values 1/9 are below 0.15·max.
  const map = grid(['9....', '.9..5', '..9.5', '1....']);
  const l = localize(map, 5, 4);
  assert.deepEqual(l.box, { x0: 0, y0: 0, x1: 2, y1: 2 });
  assert.equal(l.segmentPixels, 3);
  assert.equal(l.abovePixels, 5);
  assert.ok(Math.abs(l.threshold - 0.15) < 1e-7);
});

test('an empty or non-positive map has no box', () => {
  assert.equal(localize(new Float32Array(6), 3, 2).box, undefined);
  assert.equal(localize(Float32Array.of(-1, -2), 2, 1).box, undefined);
});

test('iou and box scaling', () => {
  assert.equal(iou({ x0: 0, y0: 0, x1: 1, y1: 1 }, { x0: 1, y0: 1, x1: 2, y1: 2 }), 1 / 7);
  assert.equal(iou({ x0: 0, y0: 0, x1: 3, y1: 3 }, { x0: 0, y0: 0, x1: 3, y1: 3 }), 1);
  assert.deepEqual(
    scaleBox({ x0: 1, y0: 0, x1: 1, y1: 1 }, { width: 2, height: 2 }, { width: 8, height: 4 }),
    {
      x0: 4,
      y0: 0,
      x1: 7,
      y1: 3,
    },
  );
});
