// Colormap LUTs against values read from OpenCV 4.6.0 (cv2.applyColorMap(np.arange(256, dtype=np.uint8),
// cv2.COLORMAP_JET), BGR turned to RGB) and matplotlib 3.6.3 (floor(255·colormaps[name](i)[:3] + 0.5)),
// printed by scripts/gen-colormaps.py when the tables were generated; and the floor(255·m) indexing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { resizeBilinearFloat } from '../../src/image/upsample.ts';
import {
  applyColormap,
  COLORMAP_IDS,
  COLORMAPS,
  colormapIndex,
  colormapIndices,
  getColormap,
  upsampledColormapIndices,
} from '../../src/render/colormaps.ts';

const SAMPLES: Record<string, Record<number, [number, number, number]>> = {
  jet: {
    0: [0, 0, 128],
    1: [0, 0, 132],
    64: [0, 128, 255],
    127: [126, 255, 130],
    128: [130, 255, 126],
    200: [255, 92, 0],
    254: [132, 0, 0],
    255: [128, 0, 0],
  },
  turbo: {
    0: [48, 18, 59],
    1: [50, 21, 67],
    64: [40, 188, 235],
    127: [161, 253, 61],
    128: [164, 252, 60],
    200: [244, 102, 23],
    254: [126, 5, 2],
    255: [122, 4, 3],
  },
  viridis: {
    0: [68, 1, 84],
    1: [68, 2, 86],
    64: [59, 82, 139],
    127: [33, 144, 141],
    128: [33, 145, 140],
    200: [112, 207, 87],
    254: [251, 231, 35],
    255: [253, 231, 37],
  },
  inferno: {
    0: [0, 0, 4],
    1: [1, 0, 5],
    64: [87, 16, 110],
    127: [186, 54, 85],
    128: [188, 55, 84],
    200: [251, 157, 7],
    254: [250, 253, 161],
    255: [252, 255, 164],
  },
};

test('the table lists jet, turbo, viridis and inferno, each with a description and 256 RGB entries', () => {
  assert.deepEqual([...COLORMAP_IDS], ['jet', 'turbo', 'viridis', 'inferno']);
  for (const id of COLORMAP_IDS) {
    const cm = COLORMAPS[id];
    assert.equal(cm.id, id);
    assert.equal(cm.lut.length, 256 * 3, id);
    assert.ok(cm.description.length > 10 && !cm.description.includes('\n'), id);
  }
});

for (const [id, samples] of Object.entries(SAMPLES)) {
  test(`${id} matches the values read from ${id === 'jet' ? 'OpenCV' : 'matplotlib'}`, () => {
    const { lut } = getColormap(id);
    for (const [i, rgb] of Object.entries(samples)) {
      const k = Number(i) * 3;
      assert.deepEqual([lut[k], lut[k + 1], lut[k + 2]], rgb, `${id}[${i}]`);
    }
  });
}

test("jet is OpenCV's piecewise-linear LUT: entries 0..31 climb the blue channel by 4 from 128", () => {
  const { lut } = COLORMAPS.jet;
  for (let i = 0; i < 32; i++) assert.deepEqual([...lut.subarray(3 * i, 3 * i + 3)], [0, 0, 128 + 4 * i]);
});

test('the LUT index is floor(255·m) in float32, clamped, NaN → 0 (np.uint8(255 * mask))', () => {
  assert.equal(colormapIndex(0), 0);
  assert.equal(colormapIndex(1), 255);
  assert.equal(colormapIndex(0.5), 127); // 127.5 truncates
  assert.equal(colormapIndex(0.999), 254);
  assert.equal(colormapIndex(-0.2), 0);
  assert.equal(colormapIndex(7), 255);
  assert.equal(colormapIndex(Number.NaN), 0);
  // The float32 just below 128/255: 255·m = 127.99999237, which truncates (NumPy gives 127 too).
  assert.equal(colormapIndex(8421504 / 2 ** 24), 127);
  assert.equal(colormapIndex(Math.fround(128 / 255)), 128);
});

test('applyColormap looks every value up and returns 3 bytes per value', () => {
  const rgb = applyColormap(new Float32Array([0, 0.5, 1, Number.NaN]), 'viridis');
  assert.deepEqual([...rgb], [68, 1, 84, 33, 144, 141, 253, 231, 37, 68, 1, 84]);
  assert.deepEqual([...applyColormap(new Float32Array([1]), COLORMAPS.jet)], [128, 0, 0]);
});

test('an unknown colormap id is a bad-argument error listing the known ones', () => {
  assert.throws(
    () => applyColormap(new Float32Array(1), 'parula'),
    (e) => isGradsightError(e, 'bad-argument') && /jet, turbo, viridis, inferno/.test(e.hint ?? ''),
  );
});

test('upsampledColormapIndices is colormapIndices of resizeBilinearFloat, bit for bit', () => {
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const sizes: [number, number, number, number][] = [
    [7, 7, 224, 224],
    [224, 224, 512, 343],
    [224, 224, 96, 96], // downsampling
    [13, 5, 1, 300],
    [1, 1, 9, 4],
  ];
  for (const [w, h, W, H] of sizes) {
    // Values across the clamp edges, with NaN, ±Inf and exact LUT boundaries.
    const data = Float32Array.from({ length: w * h }, (_, i) =>
      i % 17 === 3
        ? Number.NaN
        : i % 23 === 5
          ? Number.POSITIVE_INFINITY
          : i % 29 === 1
            ? 128 / 255
            : rand() * 1.4 - 0.2,
    );
    const map = { width: w, height: h, data };
    const want = colormapIndices(resizeBilinearFloat(map, W, H).data);
    assert.deepEqual(upsampledColormapIndices(map, W, H), want, `${w}x${h} → ${W}x${H}`);
  }
});
