// resizeBilinear (Pillow-exact) on hand-computed cases and invariants; the full-size parity with PIL is
// in preprocess-reference.test.ts. resizeBilinearFloat (OpenCV INTER_LINEAR) on hand-computed cases.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resizeBilinear } from '../../src/image/resize.ts';
import { type RgbImage, rgbImage } from '../../src/image/rgb-image.ts';
import { resizeBilinearFloat, resizeBilinearPlanes } from '../../src/image/upsample.ts';

/** A greyscale row/column image as RGB with R=G=B. */
const grey = (w: number, h: number, values: number[]): RgbImage =>
  rgbImage(w, h, new Uint8Array(values.flatMap((v) => [v, v, v])));
const red = (img: RgbImage) => Array.from(img.data.filter((_, i) => i % 3 === 0));

test('4→2 downscale uses the antialiased triangle (weights 3/7, 3/7, 1/7), as Pillow', () => {
  // Pillow: Image.fromarray(np.array([[0,70,140,210]], np.uint8)).resize((2,1), BILINEAR) → [50, 160]
  assert.deepEqual(red(resizeBilinear(grey(4, 1, [0, 70, 140, 210]), 2, 1)), [50, 160]);
  // The same along the vertical axis (horizontal pass skipped).
  assert.deepEqual(red(resizeBilinear(grey(1, 4, [0, 70, 140, 210]), 1, 2)), [50, 160]);
});

test('2→4 upscale interpolates with half-pixel centres and clamps at the edges', () => {
  // centres 0.25, 0.75 (rel. to pixel 0) → 0, 0.25·100, 0.75·100, 100 → [0, 25, 75, 100]
  assert.deepEqual(red(resizeBilinear(grey(2, 1, [0, 100]), 4, 1)), [0, 25, 75, 100]);
});

test('fixed-point rounding is half-up: 0.5 becomes 1', () => {
  // 2→3: centres 1/3, 1, 5/3 → taps {0:1}, {0:0.5, 1:0.5}, {1:1}; the middle is (0.5·2²² + 2²¹) >> 22 = 1.
  assert.deepEqual(red(resizeBilinear(grey(2, 1, [0, 1]), 3, 1)), [0, 1, 1]);
});

test('constant images stay constant at any size', () => {
  for (const [w, h, ow, oh] of [
    [7, 5, 3, 2],
    [3, 2, 11, 13],
    [100, 1, 1, 1],
    [1, 1, 9, 4],
  ] as const) {
    const img = rgbImage(
      w,
      h,
      new Uint8Array(w * h * 3).map((_, i) => [255, 0, 37][i % 3]!),
    );
    const out = resizeBilinear(img, ow, oh);
    assert.equal(out.data.length, ow * oh * 3);
    for (let i = 0; i < out.data.length; i++) assert.equal(out.data[i], [255, 0, 37][i % 3]);
  }
});

test('a separable resize equals the two one-axis resizes in sequence', () => {
  const w = 9;
  const h = 7;
  const img = rgbImage(
    w,
    h,
    new Uint8Array(w * h * 3).map((_, i) => (i * 97 + (i >> 3) * 13) % 256),
  );
  const both = resizeBilinear(img, 4, 3);
  const stepwise = resizeBilinear(resizeBilinear(img, 4, h), 4, 3);
  assert.deepEqual(both.data, stepwise.data);
});

test('same size returns a copy; bad sizes throw', () => {
  const img = grey(2, 2, [1, 2, 3, 4]);
  const out = resizeBilinear(img, 2, 2);
  assert.deepEqual(out.data, img.data);
  assert.notEqual(out.data, img.data);
  assert.throws(() => resizeBilinear(img, 0, 2), RangeError);
  assert.throws(() => resizeBilinear(img, 2.5, 2), RangeError);
});

test('float upsample 2→4 matches OpenCV INTER_LINEAR', () => {
  // cv2.resize(np.float32([[0, 1]]), (4, 1)) → [0, 0.25, 0.75, 1]
  const out = resizeBilinearFloat({ width: 2, height: 1, data: new Float32Array([0, 1]) }, 4, 1);
  assert.deepEqual(Array.from(out.data), [0, 0.25, 0.75, 1]);
});

test('float upsample 2x2→3x3 and 7→224 sample points', () => {
  // cv2.resize(np.float32([[0, 1], [2, 3]]), (3, 3)): scale 2/3, src x = -1/6→0, 0.5, 7/6→1(clamped)
  const out = resizeBilinearFloat({ width: 2, height: 2, data: new Float32Array([0, 1, 2, 3]) }, 3, 3);
  assert.deepEqual(Array.from(out.data), [0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3]);
  // 7→224 (a Grad-CAM map to input size): output x maps to (x + 0.5) / 32 - 0.5.
  const ramp = new Float32Array([0, 1, 2, 3, 4, 5, 6]);
  const up = resizeBilinearFloat({ width: 7, height: 1, data: ramp }, 224, 1);
  for (const x of [0, 15, 16, 100, 207, 208, 223]) {
    const expected = Math.min(6, Math.max(0, (x + 0.5) / 32 - 0.5));
    assert.ok(Math.abs(up.data[x]! - expected) < 1e-6, `x=${x}: ${up.data[x]} vs ${expected}`);
  }
});

test('float downscale does not antialias (point sampling between two taps)', () => {
  // 4→2: src x = 0.5 and 2.5 → means of pairs.
  const out = resizeBilinearFloat({ width: 4, height: 1, data: new Float32Array([0, 10, 20, 30]) }, 2, 1);
  assert.deepEqual(Array.from(out.data), [5, 25]);
});

test('float resize handles interleaved channels', () => {
  const out = resizeBilinearFloat({ width: 2, height: 1, data: new Float32Array([0, 10, 1, 20]) }, 4, 1, 2);
  assert.deepEqual(Array.from(out.data), [0, 10, 0.25, 12.5, 0.75, 17.5, 1, 20]);
});

test('float resize writes into a given array of the output size, and refuses one of another', () => {
  const into = new Float32Array(6).fill(-1);
  const out = resizeBilinearFloat(
    { width: 2, height: 1, data: new Float32Array([0, 1]) },
    4,
    1,
    1,
    into.subarray(1, 5),
  );
  assert.equal(out.data.buffer, into.buffer);
  assert.deepEqual(Array.from(into), [-1, 0, 0.25, 0.75, 1, -1]);
  assert.throws(
    () =>
      resizeBilinearFloat(
        { width: 2, height: 1, data: new Float32Array([0, 1]) },
        4,
        1,
        1,
        new Float32Array(3),
      ),
    RangeError,
  );
});

test('resizeBilinearPlanes resizes each plane on its own, one after another', () => {
  const w = 3;
  const h = 2;
  const data = Float32Array.from({ length: 3 * w * h }, (_, i) => (i * 7) % 5);
  const out = resizeBilinearPlanes(data, w, h, 3, 5, 4);
  assert.equal(out.length, 3 * 5 * 4);
  for (let p = 0; p < 3; p++) {
    const one = resizeBilinearFloat(
      { width: w, height: h, data: data.slice(p * w * h, (p + 1) * w * h) },
      5,
      4,
    );
    assert.deepEqual(out.subarray(p * 20, (p + 1) * 20), one.data);
  }
});
