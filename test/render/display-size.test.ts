// resizeForDisplay: longer side capped, aspect kept, small images untouched, Pillow-bilinear pixels;
// displaySize, the same size without the pixels, and Node's JPEG data URLs at that size.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { isGradsightError } from '../../src/errors.ts';
import { rgbImage } from '../../src/image/rgb-image.ts';
import { jpegDataUrl } from '../../src/render/data-url-node.ts';
import { displaySize, resizeForDisplay } from '../../src/render/display-size.ts';

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

test('displaySize is the size resizeForDisplay gives, and never larger than the image', () => {
  for (const [w, h, side] of [
    [1000, 333, 300],
    [3, 2000, 100],
    [40, 30, 40],
    [40, 30, 460],
    [461, 460, 460],
  ] as const) {
    const img = solid(w, h, [5, 6, 7]);
    const r = resizeForDisplay(img, side);
    assert.deepEqual(displaySize(img, side), { width: r.width, height: r.height }, `${w}×${h} → ${side}`);
  }
  assert.throws(
    () => displaySize({ width: 4, height: 4 }, 0),
    (e: unknown) => isGradsightError(e, 'bad-argument'),
  );
});

test("Node's report images: jpegDataUrl shrinks to the size asked, in sharp", async () => {
  const img = solid(920, 600, [200, 30, 90]);
  const url = await jpegDataUrl(img, displaySize(img, 460));
  assert.match(url, /^data:image\/jpeg;base64,/);
  const jpeg = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [460, 300]);
  // A solid colour survives the shrink and the JPEG within its quantisation.
  for (let c = 0; c < 3; c++)
    assert.ok(Math.abs(data[c]! - [200, 30, 90][c]!) <= 3, `channel ${c}: ${data[c]}`);
  const same = await jpegDataUrl(solid(30, 20, [1, 2, 3]), { width: 30, height: 20 });
  const s = await sharp(Buffer.from(same.slice(same.indexOf(',') + 1), 'base64')).metadata();
  assert.deepEqual([s.width, s.height], [30, 20]);
});
