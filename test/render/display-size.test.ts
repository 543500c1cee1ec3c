// resizeForDisplay: longer side capped, aspect kept, small images untouched, Pillow-bilinear pixels.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { rgbImage } from '../../src/image/rgb-image.ts';
import { resizeForDisplay } from '../../src/render/display-size.ts';

const solid = (w: number, h: number, rgb: [number, number, number]) => {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set(rgb, 3 * i);
  return rgbImage(w, h, data);
};

test('an image that fits is returned as is', () => {
  const img = solid(40, 30, [1, 2, 3]);
  assert.equal(resizeForDisplay(img, 40), img);
});

test('the longer side becomes maxSide and the aspect ratio is kept (rounded)', () => {
  const wide = resizeForDisplay(solid(1000, 333, [10, 200, 30]), 300);
  assert.deepEqual([wide.width, wide.height], [300, 100]); // 333·0.3 = 99.9
  const tall = resizeForDisplay(solid(3, 2000, [0, 0, 0]), 100);
  assert.deepEqual([tall.width, tall.height], [1, 100]); // 0.15 px rounds up to 1
  // A solid colour stays exactly that colour under the normalised bilinear filter.
  assert.ok(wide.data.every((v, i) => v === [10, 200, 30][i % 3]));
});

test('downscaling averages (antialiasing): a 1-pixel checkerboard becomes mid-grey', () => {
  const w = 64;
  const data = new Uint8Array(w * w * 3);
  for (let y = 0; y < w; y++)
    for (let x = 0; x < w; x++) data.fill((x + y) % 2 ? 255 : 0, 3 * (y * w + x), 3 * (y * w + x) + 3);
  const small = resizeForDisplay(rgbImage(w, w, data), 8);
  for (const v of small.data) assert.ok(Math.abs(v - 127.5) <= 1, `${v}`);
});

test('maxSide must be a positive integer', () => {
  assert.throws(
    () => resizeForDisplay(solid(2, 2, [0, 0, 0]), 0),
    (e) => isGradsightError(e, 'bad-argument'),
  );
  assert.throws(
    () => resizeForDisplay(solid(2, 2, [0, 0, 0]), 1.5),
    (e) => isGradsightError(e, 'bad-argument'),
  );
});
