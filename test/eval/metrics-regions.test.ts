// Region helpers: boxes to masks (union, clipping), class pixels, centre and relative boxes, argmax
// ties, and the size checks every metric runs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import {
  argmax,
  boxesOf,
  boxesToMask,
  centreBox,
  checkMap,
  checkSize,
  classIndex,
  classPixels,
  clipBox,
  count,
  relativeBoxAt,
  scaleLabelledBoxes,
  truthMask,
  voidPixels,
} from '../../src/eval/metrics/regions.ts';

const isCode = (code: string) => (e: unknown) => e instanceof GradsightError && e.code === code;

test('boxes to a mask: union, inclusive corners, clipped to the image', () => {
  const m = boxesToMask(
    [
      { x0: 0, y0: 0, x1: 1, y1: 0 },
      { x0: 1, y0: 0, x1: 1, y1: 1 },
      { x0: 3, y0: 2, x1: 9, y1: 9 },
      { x0: -5, y0: 5, x1: -1, y1: 6 },
    ],
    4,
    3,
  );
  assert.deepEqual([...m], [1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
  assert.equal(count(m), 4);
  assert.equal(clipBox({ x0: -5, y0: 5, x1: -1, y1: 6 }, 4, 3), undefined);
  assert.deepEqual(truthMask({ boxes: [{ x0: 3, y0: 2, x1: 3, y1: 2 }] }, 4, 3)[11], 1);
});

test('class pixels, void pixels, class names', () => {
  const mask = {
    width: 3,
    height: 1,
    data: Uint8Array.of(0, 2, 255),
    classes: ['background', 'a', 'b'],
    void: 255,
  };
  assert.deepEqual([...classPixels(mask, 2)], [0, 1, 0]);
  assert.deepEqual([...voidPixels(mask)], [0, 0, 1]);
  assert.equal(classIndex(mask, 'b'), 2);
  assert.throws(() => classIndex(mask, 'c'), isCode('label-unknown'));
  const boxes = [
    { label: 'a', box: { x0: 0, y0: 0, x1: 0, y1: 0 } },
    { label: 'b', box: { x0: 1, y0: 0, x1: 1, y1: 0 } },
    { label: 'a', box: { x0: 2, y0: 0, x1: 2, y1: 0 } },
  ];
  assert.deepEqual(
    boxesOf(boxes, 'a').map((b) => b.x0),
    [0, 2],
  );
});

test('centre and relative boxes', () => {
  assert.deepEqual(centreBox(9, 9, { width: 4, height: 3 }), { x0: 2, y0: 3, x1: 5, y1: 5 });
  assert.deepEqual(centreBox(4, 4, { width: 10, height: 0.2 }), { x0: 0, y0: 1, x1: 3, y1: 1 });
  // Pixel centres x + 0.5 inside [0.25·8, 0.75·8] = [2, 6]: x = 2..5.
  assert.deepEqual(relativeBoxAt({ left: 0.25, top: 0, right: 0.75, bottom: 1 }, 8, 2), {
    x0: 2,
    y0: 0,
    x1: 5,
    y1: 1,
  });
});

test('labelled boxes scaled from a 7×7 map to a 224×224 image and back', () => {
  const up = scaleLabelledBoxes(
    [{ label: 'a', box: { x0: 1, y0: 0, x1: 2, y1: 6 } }],
    { width: 7, height: 7 },
    { width: 224, height: 224 },
  );
  // 32 image pixels per map pixel: map x 1..2 → image x 32..95.
  assert.deepEqual(up, [{ label: 'a', box: { x0: 32, y0: 0, x1: 95, y1: 223 } }]);
  assert.deepEqual(scaleLabelledBoxes(up, { width: 224, height: 224 }, { width: 7, height: 7 })[0]!.box, {
    x0: 1,
    y0: 0,
    x1: 2,
    y1: 6,
  });
});

test('argmax ties and size checks', () => {
  assert.equal(argmax(Float32Array.of(1, 3, 2, 3)), 1);
  assert.throws(() => checkSize(new Float32Array(5), 2, 3, 'map'), isCode('shape-mismatch'));
  assert.throws(() => checkSize(new Float32Array(0), 0, 3, 'map'), isCode('bad-argument'));
  assert.throws(() => truthMask({}, 2, 2), isCode('bad-argument'));
  assert.throws(() => checkMap(Float32Array.of(0, Number.NaN), 2, 1, 'map'), isCode('non-finite'));
  checkMap(Float32Array.of(0, -1), 2, 1, 'map');
});
