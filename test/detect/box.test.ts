// Box geometry and NMS edge cases, against values computed by hand.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  boxIou,
  type Detection,
  detectRows,
  nms,
  pixelBox,
  toOriginalPixels,
  yolov8,
} from '../../src/detect/index.ts';

const det = (
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  score: number,
  classIndex = 0,
  cell = 0,
): Detection => ({
  box: { x0, y0, x1, y1 },
  score,
  classIndex,
  cell,
});

describe('boxIou', () => {
  it('is intersection over union of continuous boxes', () => {
    // 4×6 boxes shifted by 1: intersection 3×6 = 18, union 24 + 24 − 18 = 30.
    assert.equal(boxIou({ x0: 8, y0: 17, x1: 12, y1: 23 }, { x0: 9, y0: 17, x1: 13, y1: 23 }), 0.6);
    assert.equal(boxIou({ x0: 0, y0: 0, x1: 2, y1: 2 }, { x0: 2, y0: 0, x1: 4, y1: 2 }), 0, 'touching edges');
    assert.equal(boxIou({ x0: 0, y0: 0, x1: 2, y1: 2 }, { x0: 1, y0: 1, x1: 1, y1: 1 }), 0, 'an empty box');
    assert.equal(boxIou({ x0: 1, y0: 1, x1: 1, y1: 1 }, { x0: 1, y0: 1, x1: 1, y1: 1 }), 0, 'both empty');
    assert.equal(boxIou({ x0: 0, y0: 0, x1: 4, y1: 4 }, { x0: 1, y0: 1, x1: 3, y1: 3 }), 0.25, 'nested');
  });
});

describe('toOriginalPixels', () => {
  it('scales x by W0/W and y by H0/H (resize without crop)', () => {
    const b = toOriginalPixels(
      { x0: 35.2, y0: 0, x1: 352, y1: 176 },
      { width: 352, height: 352 },
      { width: 512, height: 600 },
    );
    assert.deepEqual(b, { x0: 51.2, y0: 0, x1: 512, y1: 300 });
  });
});

describe('pixelBox', () => {
  it('covers the pixels whose centres lie in the box, clipped to the image', () => {
    assert.deepEqual(pixelBox({ x0: 0, y0: 0, x1: 10, y1: 5 }, { width: 10, height: 10 }), {
      x0: 0,
      y0: 0,
      x1: 9,
      y1: 4,
    });
    // Centres 2.5 and 7.5 lie on the edges 2.5 and 7.5: both covered.
    assert.deepEqual(pixelBox({ x0: 2.5, y0: 2.6, x1: 7.5, y1: 7.4 }, { width: 10, height: 10 }), {
      x0: 2,
      y0: 3,
      x1: 7,
      y1: 6,
    });
    assert.deepEqual(pixelBox({ x0: -5, y0: -5, x1: 20, y1: 3 }, { width: 10, height: 10 }), {
      x0: 0,
      y0: 0,
      x1: 9,
      y1: 2,
    });
    assert.deepEqual(pixelBox({ x0: 4.1, y0: 4.1, x1: 4.2, y1: 4.2 }, { width: 10, height: 10 }), {
      x0: 4,
      y0: 4,
      x1: 4,
      y1: 4,
    });
  });
});

describe('nms', () => {
  it('suppresses strictly above the threshold, per class, best first', () => {
    const a = det(0, 0, 4, 6, 0.9);
    const b = det(1, 0, 5, 6, 0.8); // IoU with a: 0.6
    const c = det(1, 0, 5, 6, 0.7, 1); // another class
    assert.deepEqual(nms([b, c, a], 0.6), [a, b, c], 'IoU equal to the threshold is kept');
    assert.deepEqual(nms([b, c, a], 0.59), [a, c]);
    assert.deepEqual(nms([]), []);
  });

  it('breaks score ties by input order, so the result does not depend on sorting', () => {
    const a = det(0, 0, 4, 6, 0.5, 0, 1);
    const b = det(1, 0, 5, 6, 0.5, 0, 2);
    assert.deepEqual(nms([a, b]), [a]);
    assert.deepEqual(nms([b, a]), [b]);
  });

  it('a chain: a suppressed box does not suppress others (greedy)', () => {
    const a = det(0, 0, 10, 10, 0.9);
    const b = det(4, 0, 14, 10, 0.8); // IoU(a, b) = 60/140 ≈ 0.43
    const c = det(8, 0, 18, 10, 0.7); // IoU(b, c) ≈ 0.43, IoU(a, c) = 20/180
    assert.deepEqual(nms([a, b, c], 0.4), [a, c]);
  });
});

describe('detectRows', () => {
  it('decodes and suppresses each batch row on its own', () => {
    // yolov8 layout [2, 4 + 1, 5]: row 0 has two overlapping boxes, row 1 two far apart; boxes 2–4
    // score 0.
    const row = (x1: number) => [
      10,
      x1,
      0,
      0,
      0,
      20,
      20,
      0,
      0,
      0,
      4,
      4,
      0,
      0,
      0,
      6,
      6,
      0,
      0,
      0,
      0.9,
      0.8,
      0,
      0,
      0,
    ];
    const data = Float32Array.from([...row(11), ...row(40)]);
    const rows = detectRows(yolov8, { data, dims: [2, 5, 5] }, [64, 64], { scoreThreshold: 0.5 });
    assert.deepEqual(
      rows.map((r) => r.map((d) => d.cell)),
      [[0], [0, 1]],
    );
    assert.equal(rows[1]![1]!.box.x0, 38);
  });
});
