// Per-image rendering from a hand-built explanation: boxes in original pixels are the model-space
// boxes scaled by (W0/W, H0/H) (numbers worked by hand), overlays and heatmaps at the original or the
// model size, a detection's box drawn on the right pixels, pixel methods upsampled, the inverse
// preprocessing of a tensor input, and the report panel's boxes in the panel's own pixels.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import type { Explanation } from '../../src/explain/explainer.ts';
import { indexedToRgb } from '../../src/image/indexed-image.ts';
import { resizeBilinear } from '../../src/image/resize.ts';
import { type RgbImage, rgbImage } from '../../src/image/rgb-image.ts';
import { COLORMAPS, upsampledColormapIndices } from '../../src/render/colormaps.ts';
import { deprocessImage } from '../../src/render/deprocess.ts';
import { imageCanvas, renderExplanation } from '../../src/render/explanation-images.ts';
import { tensorToImage } from '../../src/render/input-image.ts';
import { overlay } from '../../src/render/overlay.ts';
import { reportPanel } from '../../src/report/panels.ts';

// Model input 30×20 (W×H); the original photo is 45×50: sx = 1.5, sy = 2.5.
const PRE = {
  size: [20, 30] as [number, number],
  layout: 'NCHW' as const,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  scale: '0-255' as const,
  channelOrder: 'RGB' as const,
};
const W = 30;
const H = 20;

function photo(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set([(i * 7) % 256, (i * 3) % 256, 90], i * 3);
  return rgbImage(w, h, data);
}

/** 1 on columns 5..9, rows 4..7 of the model-size map, 0 elsewhere. */
function blockMap(): Float32Array {
  const m = new Float32Array(W * H);
  for (let y = 4; y <= 7; y++) for (let x = 5; x <= 9; x++) m[y * W + x] = 1;
  return m;
}

function explanation(extra: Partial<Explanation>): Explanation {
  return {
    image: 0,
    target: {
      index: 3,
      label: 'kite',
      description: 'kite (3)',
      kind: 'class',
      counterfactual: false,
      score: 2,
      probability: 0.9,
    } as Explanation['target'],
    method: 'gradcam',
    layers: ['conv'],
    width: W,
    height: H,
    ...extra,
  };
}

const px = (img: RgbImage, x: number, y: number) => [
  ...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3),
];
const opts = { colormap: 'jet' as const, alpha: 0.5 };

test('the localization box in original pixels is the model box scaled by (W0/W, H0/H)', () => {
  const canvas = imageCanvas({ image: photo(45, 50) }, PRE, 'original');
  const r = renderExplanation(explanation({ map: blockMap() }), canvas, opts);
  assert.deepEqual(r.entry.boxModel, { x0: 5, y0: 4, x1: 9, y1: 7 });
  // Edges [5, 10) × [4, 8) → [7.5, 15) × [10, 20), rounded outward to whole pixels: 7..14 × 10..19.
  assert.deepEqual(r.entry.box, { x0: 7, y0: 10, x1: 14, y1: 19 });
  assert.equal(r.entry.stats.max, 1);
  assert.equal(r.entry.stats.argmax, 4 * W + 5, 'statistics are over the map as computed');
  assert.equal(r.entry.stats.segmentPixels, 20);
  // Overlay and heatmap at the original size; the heatmap is jet(1) deep inside the block, jet(0) far away.
  assert.deepEqual([r.image.width, r.image.height, r.heatmap!.width, r.heatmap!.height], [45, 50, 45, 50]);
  const lut = COLORMAPS.jet.lut;
  assert.deepEqual(px(r.heatmap!, 11, 15), [lut[765], lut[766], lut[767]]);
  assert.deepEqual(px(r.heatmap!, 40, 45), [lut[0], lut[1], lut[2]]);
  assert.equal(r.image, r.plain, 'no detection: nothing drawn');
  // The palette form is the same picture: the map's LUT indices over the colormap.
  const indexed = r.heatmapIndexed!;
  assert.deepEqual([indexed.width, indexed.height, indexed.palette], [45, 50, lut]);
  assert.deepEqual(
    indexed.indices,
    upsampledColormapIndices({ width: W, height: H, data: blockMap() }, 45, 50),
  );
  assert.deepEqual(indexedToRgb(indexed).data, r.heatmap!.data);
  assert.equal(r.heatmap, r.heatmap, 'the RGB heatmap is made once');
});

test('model size: the overlay is drawn on the model view of the photo, boxes unchanged', () => {
  const img = photo(45, 50);
  const canvas = imageCanvas({ image: img }, PRE, 'model');
  const map = blockMap();
  const r = renderExplanation(explanation({ map }), canvas, opts);
  assert.deepEqual([r.image.width, r.image.height], [W, H]);
  assert.deepEqual(r.image, overlay(resizeBilinear(img, W, H), map, opts));
  assert.deepEqual(r.entry.box, { x0: 7, y0: 10, x1: 14, y1: 19 }, 'results.json boxes stay original');
});

test('a detection: its box in original pixels, and its rectangle drawn on the PNG', () => {
  const canvas = imageCanvas({ image: photo(45, 50) }, PRE, 'original');
  const detection = { box: { x0: 4, y0: 2, x1: 20, y1: 16 }, classIndex: 0, label: 'kite', score: 0.87 };
  const r = renderExplanation(explanation({ map: blockMap(), detection }), canvas, opts);
  assert.deepEqual(r.entry.detection, {
    box: { x0: 6, y0: 5, x1: 30, y1: 40 },
    boxModel: detection.box,
    classIndex: 0,
    label: 'kite',
    score: 0.87,
  });
  // Covered pixels of [6, 30] × [5, 40]: columns 6..29, rows 5..39; the line is magenta (class 0).
  const magenta = [255, 61, 240];
  for (const [x, y] of [
    [6, 20],
    [29, 20],
    [15, 5],
    [15, 39],
    [6, 39],
  ] as const) {
    assert.deepEqual(px(r.image, x, y), magenta, `(${x}, ${y})`);
    assert.notDeepEqual(px(r.plain, x, y), magenta, 'the plain overlay has no box');
  }
  assert.deepEqual(px(r.image, 5, 20), [17, 17, 17], 'dark rim outside');
  assert.deepEqual(px(r.image, 15, 20), px(r.plain, 15, 20), 'inside untouched');

  // The report panel: the same boxes in the panel's pixels (here the panel is the 45×50 image).
  const panel = reportPanel(
    explanation({ map: blockMap(), detection }),
    r,
    canvas,
    async () => 'data:image/png;base64,AA==',
  );
  return panel.then((p) => {
    assert.deepEqual(p.size, { width: 45, height: 50 });
    assert.deepEqual(p.box, { x0: 7, y0: 10, x1: 14, y1: 19 });
    assert.deepEqual(p.detection, {
      box: { x0: 6, y0: 5, x1: 30, y1: 40 },
      text: 'kite 0.87',
      color: '#ff3df0',
    });
  });
});

test('report panels of large images are shrunk, and their boxes with them', async () => {
  const canvas = imageCanvas({ image: photo(920, 600) }, PRE, 'original');
  const detection = { box: { x0: 3, y0: 2, x1: 15, y1: 10 }, classIndex: 1, label: 'a', score: 0.5 };
  const e = explanation({ map: blockMap(), detection });
  const p = await reportPanel(e, renderExplanation(e, canvas, opts), canvas, async () => 'x');
  // 920×600 → 460×300: the panel is 460/30 = 15.333 and 300/20 = 15 times the model input.
  assert.deepEqual(p.size, { width: 460, height: 300 });
  assert.deepEqual(p.box, { x0: 76, y0: 60, x1: 153, y1: 119 });
  assert.deepEqual(p.detection!.box, { x0: 46, y0: 30, x1: 230, y1: 150 });
});

test('pixel methods are upsampled per channel, then displayed', () => {
  const canvas = imageCanvas({ image: photo(60, 40) }, PRE, 'original');
  const pixels = new Float32Array(3 * W * H);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin(i * 0.37);
  const r = renderExplanation(explanation({ method: 'guided-backprop', pixels }), canvas, opts);
  assert.deepEqual([r.image.width, r.image.height], [60, 40]);
  assert.equal(r.heatmap, undefined);
  assert.equal(r.entry.box, undefined);
  // An exact 2× upsampling keeps a constant plane constant: check against a hand-built constant input.
  const flat = new Float32Array(3 * W * H);
  flat.fill(1, 0, W * H);
  const rf = renderExplanation(explanation({ method: 'guided-backprop', pixels: flat }), canvas, opts);
  const flatBig = new Float32Array(3 * 60 * 40);
  flatBig.fill(1, 0, 60 * 40);
  assert.deepEqual(rf.image, deprocessImage(flatBig, { width: 60, height: 40 }));
});

test('a tensor input has only the model size; its pixels come back from the inverse preprocessing', () => {
  const pre = {
    ...PRE,
    size: [1, 2] as [number, number],
    mean: [0.5, 0.25, 0],
    std: [0.5, 0.25, 1],
    scale: '0-1' as const,
    channelOrder: 'BGR' as const,
  };
  // NCHW [1, 3, 1, 2]; model channel 0 is blue under BGR, with blue's mean/std (index 2: 0, 1).
  const t = { dtype: 'float32' as const, dims: [1, 3, 1, 2], data: Float32Array.of(1, 0.5, 0, 1, -1, 0) };
  const img = tensorToImage(t, 0, pre);
  // pixel 0: B = 1·1 + 0 → 255; G = 0·0.25 + 0.25 → 64 (63.75); R = −1·0.5 + 0.5 → 0.
  // pixel 1: B = 0.5 → 128 (127.5); G = (1·0.25 + 0.25) → 128 (127.5); R = 0·0.5 + 0.5 → 128 (127.5).
  assert.deepEqual([...img.data], [0, 64, 255, 128, 128, 128]);
  assert.throws(
    () => imageCanvas({ tensor: t, row: 0 }, pre, 'original'),
    (e) => isGradsightError(e, 'bad-argument') && /--overlay-size model/.test(e.hint ?? ''),
  );
  const c = imageCanvas({ tensor: t, row: 0 }, pre, 'model');
  assert.deepEqual(c.original, { width: 2, height: 1 });
});
