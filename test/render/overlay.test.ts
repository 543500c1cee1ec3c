// Overlay arithmetic on a 2×2 image worked out by hand, with and without the re-stretch of pytorch-grad-cam's
// show_cam_on_image. Jet LUT entries used (OpenCV, RGB): 0 → (0,0,128), 127 → (126,255,130), 255 → (128,0,0).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { rgbImage } from '../../src/image/rgb-image.ts';
import { COLORMAPS } from '../../src/render/colormaps.ts';
import { heatmapImage, overlay, overlayAndHeatmap } from '../../src/render/overlay.ts';

// Pixels (row-major) and map values: m = 0 → LUT 0, m = 1 → LUT 255, m = 0.5 → floor(127.5) = 127, NaN → 0.
const image = rgbImage(2, 2, new Uint8Array([202, 102, 7, 10, 21, 30, 249, 250, 251, 1, 2, 3]));
const map = new Float32Array([0, 1, 0.5, Number.NaN]);

// alpha = 0.25: 255·out = 0.25·LUT + 0.75·pixel, per channel:
//   p0: 0.25·(0,0,128)     + 0.75·(202,102,7)   = (151.5,  76.5,   37.25)
//   p1: 0.25·(128,0,0)     + 0.75·(10,21,30)    = (39.5,   15.75,  22.5)
//   p2: 0.25·(126,255,130) + 0.75·(249,250,251) = (218.25, 251.25, 220.75)   ← global max 251.25
//   p3: 0.25·(0,0,128)     + 0.75·(1,2,3)       = (0.75,   1.5,    34.25)
// and each byte is the truncation.
const PLAIN = [151, 76, 37, 39, 15, 22, 218, 251, 220, 0, 1, 34];
// Re-stretched: 255·out·255/251.25, i.e. ×1.01492537...:
//   p0: (153.76, 77.64, 37.81)  p1: (40.09, 15.99, 22.84)  p2: (221.51, 255, 224.04)  p3: (0.76, 1.52, 34.76)
// (pytorch-grad-cam 1.5.5 show_cam_on_image(img / 255, mask, use_rgb=True, image_weight=0.75) gives these.)
const RESTRETCHED = [153, 77, 37, 40, 15, 22, 221, 255, 224, 0, 1, 34];

test('overlay blends alpha·heat + (1 − alpha)·image and truncates', () => {
  const out = overlay(image, map, { colormap: 'jet', alpha: 0.25 });
  assert.equal(out.width, 2);
  assert.equal(out.height, 2);
  assert.deepEqual([...out.data], PLAIN);
});

test('restretch divides by the global maximum first (show_cam_on_image with image_weight = 1 − alpha)', () => {
  const out = overlay(image, map, { colormap: COLORMAPS.jet, alpha: 0.25, restretch: true });
  assert.deepEqual([...out.data], RESTRETCHED);
});

test('alpha 0 returns the image, alpha 1 the bare heatmap', () => {
  assert.deepEqual([...overlay(image, map, { colormap: 'jet', alpha: 0 }).data], [...image.data]);
  const heat = heatmapImage({ width: 2, height: 2, data: map }, 'jet');
  assert.deepEqual([...heat.data], [0, 0, 128, 128, 0, 0, 126, 255, 130, 0, 0, 128]);
  assert.deepEqual([...overlay(image, map, { colormap: 'jet', alpha: 1 }).data], [...heat.data]);
});

test('the map is used as given: no squaring, no normalisation (m = 0.25 indexes LUT 63)', () => {
  const one = rgbImage(1, 1, new Uint8Array([0, 0, 0]));
  const heat = heatmapImage({ width: 1, height: 1, data: new Float32Array([0.25]) }, 'viridis');
  assert.deepEqual([...heat.data], [...COLORMAPS.viridis.lut.subarray(63 * 3, 64 * 3)]);
  // A single black pixel under alpha 1 and restretch: the heat colour divided by its own max channel.
  const out = overlay(one, new Float32Array([0.25]), { colormap: 'viridis', alpha: 1, restretch: true });
  const [r, g, b] = COLORMAPS.viridis.lut.subarray(63 * 3, 64 * 3);
  const mx = Math.max(r!, g!, b!);
  assert.deepEqual(
    [...out.data],
    [r!, g!, b!].map((v) => Math.floor((v * 255) / mx)),
  );
});

test('a map of the wrong size or an alpha outside [0, 1] is a bad-argument error', () => {
  const bad = (fn: () => unknown) => assert.throws(fn, (e) => isGradsightError(e, 'bad-argument'));
  bad(() => overlay(image, new Float32Array(3), { colormap: 'jet', alpha: 0.5 }));
  bad(() =>
    overlay(image, { width: 4, height: 1, data: new Float32Array(4) }, { colormap: 'jet', alpha: 0.5 }),
  );
  bad(() => overlay(image, map, { colormap: 'jet', alpha: 1.5 }));
  bad(() => overlay(image, map, { colormap: 'jet', alpha: Number.NaN }));
  bad(() => heatmapImage({ width: 3, height: 1, data: new Float32Array(2) }, 'jet'));
});

test('a grayscale (1-band) image is blended as its grey on R, G and B; RGBA without its alpha', () => {
  const grey = { width: 2, height: 1, bands: 1, data: new Uint8Array([40, 200]) };
  const m = new Float32Array([0.1, 0.9]);
  const asRgb = rgbImage(2, 1, new Uint8Array([40, 40, 40, 200, 200, 200]));
  const opts = { colormap: 'jet', alpha: 0.4 } as const;
  assert.deepEqual([...overlay(grey, m, opts).data], [...overlay(asRgb, m, opts).data]);
  // By hand for pixel 0 under alpha 0: the grey itself on all three channels.
  assert.deepEqual([...overlay(grey, m, { colormap: 'jet', alpha: 0 }).data], [40, 40, 40, 200, 200, 200]);
  const rgba = { width: 2, height: 1, bands: 4, data: new Uint8Array([40, 40, 40, 0, 200, 200, 200, 7]) };
  assert.deepEqual([...overlay(rgba, m, opts).data], [...overlay(asRgb, m, opts).data]);
  assert.throws(
    () => overlay({ width: 2, height: 1, bands: 2, data: new Uint8Array(4) }, m, opts),
    (e) => isGradsightError(e, 'bad-argument'),
  );
});

test('overlayAndHeatmap is overlay and heatmapImage of the same map, byte for byte', () => {
  // A photo-sized RGB image (the unrolled path) and a map over every LUT index, NaN and out-of-range.
  const w = 37;
  const h = 23;
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 97 + 13) % 256;
  const img = rgbImage(w, h, px);
  const m = new Float32Array(w * h);
  for (let i = 0; i < m.length; i++) m[i] = (i % 300) / 280 - 0.02;
  m[5] = Number.NaN;
  for (const colormap of ['jet', 'viridis'] as const) {
    for (const alpha of [0, 0.3, 1]) {
      const both = overlayAndHeatmap(img, { width: w, height: h, data: m }, { colormap, alpha });
      assert.deepEqual(both.overlay.data, overlay(img, m, { colormap, alpha }).data, `${colormap} ${alpha}`);
      assert.deepEqual(both.heatmap.data, heatmapImage({ width: w, height: h, data: m }, colormap).data);
    }
  }
  // And the unrolled blend is the formula: pixel 0 has m = -0.02 → LUT 0 = (0, 0, 128) under jet.
  const o = overlayAndHeatmap(img, { width: w, height: h, data: m }, { colormap: 'jet', alpha: 0.25 });
  const expect = [0, 0, 128].map((lut, c) => Math.floor(0.25 * lut + 0.75 * px[c]!));
  assert.deepEqual([...o.overlay.data.slice(0, 3)], expect);
});

test('a colormap changed in place between overlays draws with its new colours', () => {
  const lut = new Uint8Array(COLORMAPS.jet.lut);
  const custom = { id: 'jet', description: 'mine', lut } as unknown as (typeof COLORMAPS)['jet'];
  const img = rgbImage(1, 1, new Uint8Array([100, 100, 100]));
  const m = new Float32Array([1]); // LUT entry 255
  const before = overlay(img, m, { colormap: custom, alpha: 0.5 }).data;
  lut.set([0, 255, 0], 255 * 3);
  const after = overlay(img, m, { colormap: custom, alpha: 0.5 }).data;
  // 0.5·(0, 255, 0) + 0.5·100, truncated
  assert.deepEqual([...after], [50, 177, 50]);
  assert.notDeepEqual([...before], [...after]);
});
