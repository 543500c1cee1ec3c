// Drawing a detection's box and label into an image: the pixels a continuous box covers (centres
// inside), the coloured line and its dark rim on exactly those pixels, the label tag above the box, and
// the font's glyphs where they are defined.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { rgbImage } from '../../src/image/rgb-image.ts';
import {
  coveredPixels,
  DETECTION_COLORS,
  detectionColor,
  drawLabeledBox,
  drawText,
  lineUnit,
} from '../../src/render/draw.ts';
import { GLYPH_HEIGHT, textWidth } from '../../src/render/font.ts';

const grey = (w: number, h: number) => rgbImage(w, h, new Uint8Array(w * h * 3).fill(100));
const px = (img: { width: number; data: Uint8Array }, x: number, y: number) => {
  const i = (y * img.width + x) * 3;
  return [img.data[i], img.data[i + 1], img.data[i + 2]];
};

test('covered pixels: a pixel is in the box when its centre is', () => {
  // Edges 10.2..40.4 → centres 10.5..39.5; 20.6..50 → 21.5..49.5.
  assert.deepEqual(coveredPixels({ x0: 10.2, y0: 20.6, x1: 40.4, y1: 50 }, 100, 80), {
    x0: 10,
    y0: 21,
    x1: 39,
    y1: 49,
  });
  // Clipped to the image, and at least one pixel.
  assert.deepEqual(coveredPixels({ x0: -5, y0: -5, x1: 500, y1: 500 }, 100, 80), {
    x0: 0,
    y0: 0,
    x1: 99,
    y1: 79,
  });
  assert.deepEqual(coveredPixels({ x0: 3.6, y0: 3.6, x1: 3.9, y1: 3.9 }, 10, 10), {
    x0: 4,
    y0: 4,
    x1: 4,
    y1: 4,
  });
});

test('the box line, its rim and the tag are on the right pixels; the input is not modified', () => {
  const img = grey(100, 80);
  const out = drawLabeledBox(img, {
    box: { x0: 10.2, y0: 20.6, x1: 40.4, y1: 50 },
    text: 'ab',
    color: '#ff3df0',
  });
  assert.equal(lineUnit(100, 80), 1);
  const magenta = [255, 61, 240];
  const rim = [17, 17, 17];
  for (let y = 21; y <= 49; y++) {
    assert.deepEqual(px(out, 10, y), magenta, `left edge row ${y}`);
    assert.deepEqual(px(out, 39, y), magenta, `right edge row ${y}`);
    assert.deepEqual(px(out, 9, y), rim);
    assert.deepEqual(px(out, 40, y), rim);
    assert.deepEqual(px(out, 11, y), y === 21 || y === 49 ? magenta : [100, 100, 100]);
  }
  for (let x = 10; x <= 39; x++) {
    assert.deepEqual(px(out, x, 21), magenta);
    assert.deepEqual(px(out, x, 49), magenta);
    assert.deepEqual(px(out, x, 50), rim);
  }
  assert.deepEqual(px(out, 25, 35), [100, 100, 100], 'inside untouched');
  // Tag: above the rim (rows 20 − 9 .. 19), from the rim's left column, (textWidth + 2) wide.
  const tagW = textWidth('ab') + 2;
  assert.equal(tagW, 13);
  const tagTop = 20 - (GLYPH_HEIGHT + 1);
  assert.deepEqual(px(out, 9, tagTop), magenta, 'tag corner');
  assert.deepEqual(px(out, 9 + tagW - 1, 19), magenta, 'tag corner');
  assert.deepEqual(px(out, 9 + tagW, 15), [100, 100, 100], 'right of the tag');
  assert.deepEqual(px(out, 9, tagTop - 1), [100, 100, 100], 'above the tag');
  // 'a' row 2 is '.###.': ink at columns 1..3 of the glyph; white, as magenta is dark (luma 139 < 140).
  for (let c = 0; c < 5; c++)
    assert.deepEqual(
      px(out, 10 + c, tagTop + 1 + 2),
      c >= 1 && c <= 3 ? [255, 255, 255] : magenta,
      `a, col ${c}`,
    );
  assert.ok(
    img.data.every((v) => v === 100),
    'the input image is unchanged',
  );
});

test('a box at the top edge has its tag inside; a large image gets thicker lines', () => {
  const out = drawLabeledBox(grey(40, 40), {
    box: { x0: 2, y0: 0, x1: 30, y1: 30 },
    text: 'x',
    color: '#ff4d4d',
  });
  // Dark colour: white ink. Tag at rows 0..8 from column max(0, 2 − 1) = 1.
  assert.deepEqual(px(out, 1, 8), [255, 77, 77]);
  const big = drawLabeledBox(grey(800, 600), {
    box: { x0: 100, y0: 200, x1: 300, y1: 400 },
    text: 'x',
    color: '#00e5ff',
  });
  assert.equal(lineUnit(800, 600), 2);
  assert.deepEqual(px(big, 100, 300), [0, 229, 255]);
  assert.deepEqual(px(big, 101, 300), [0, 229, 255]);
  assert.deepEqual(px(big, 102, 300), [100, 100, 100]);
  assert.deepEqual(px(big, 98, 300), [17, 17, 17]);
  assert.deepEqual(px(big, 97, 300), [100, 100, 100]);
});

test('text: glyph pixels at scale 2, unknown characters as "?"', () => {
  const a = grey(20, 20);
  drawText(a, '-', 1, 1, 2, [0, 0, 0]);
  // '-' is row 3 all ink: pixels x 1..10, y 7..8.
  for (let y = 0; y < 20; y++)
    for (let x = 0; x < 20; x++)
      assert.deepEqual(px(a, x, y), x >= 1 && x <= 10 && y >= 7 && y <= 8 ? [0, 0, 0] : [100, 100, 100]);
  const q = grey(6, 8);
  const e = grey(6, 8);
  drawText(q, '?', 0, 0, 1, [0, 0, 0]);
  drawText(e, 'é', 0, 0, 1, [0, 0, 0]);
  assert.deepEqual(e.data, q.data);
  assert.equal(textWidth(''), 0);
  assert.equal(textWidth('kite 0.87'), 9 * 6 - 1);
});

test('colours by class; a bad colour is a typed error', () => {
  assert.equal(detectionColor(0), DETECTION_COLORS[0]);
  assert.equal(detectionColor(9), DETECTION_COLORS[1]);
  assert.equal(detectionColor(-1), DETECTION_COLORS[7]);
  assert.throws(
    () => drawLabeledBox(grey(4, 4), { box: { x0: 0, y0: 0, x1: 2, y1: 2 }, text: '', color: 'red' }),
    (e) => isGradsightError(e, 'bad-argument'),
  );
});
