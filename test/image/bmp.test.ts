// decodeBmp on every supported variant (palette depths, 16/24/32-bit, header kinds, row orders) and on
// corrupt files, which must fail as 'bad-image' without reading out of bounds.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { decodeBmp } from '../../src/image/bmp.ts';
import { writeBmp } from './bmp-writer.ts';

// 5x3: an odd width so every depth has row padding.
const W = 5;
const H = 3;
const rgba = Array.from({ length: W * H }, (_, i) => [i * 17, 255 - i * 13, (i * 91) % 256, i * 7]).flat();
const rgb = rgba.filter((_, i) => i % 4 !== 3);

test('a hand-written 2x2 24-bit BMP', () => {
  // 2x2, bottom-up: bottom row blue, white; top row red, green. Rows padded to 8 bytes.
  const hex =
    '424d46000000000000003600000028000000020000000200000001001800000000001000000000000000000000000000000000000000' +
    'ff0000ffffff0000' +
    '0000ff00ff000000';
  const bytes = Uint8Array.from(hex.match(/../g)!.map((h) => Number.parseInt(h, 16)));
  const img = decodeBmp(bytes);
  assert.equal(img.width, 2);
  assert.equal(img.height, 2);
  assert.deepEqual(Array.from(img.data), [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
});

for (const [name, opts] of [
  ['24-bit bottom-up', { bpp: 24 }],
  ['24-bit top-down', { bpp: 24, topDown: true }],
  ['24-bit OS/2 core header', { bpp: 24, header: 'core' }],
  ['24-bit without last-row padding', { bpp: 24, trimLastRow: true }],
  ['32-bit BI_RGB (4th byte ignored)', { bpp: 32 }],
  ['32-bit V5 bit fields with alpha (alpha dropped)', { bpp: 32, header: 'v5', topDown: true }],
] as const) {
  test(`BMP ${name}`, () => {
    const img = decodeBmp(writeBmp(W, H, rgba, opts));
    assert.equal(img.width, W);
    assert.equal(img.height, H);
    assert.deepEqual(Array.from(img.data), rgb);
  });
}

test('BMP 16-bit 5-5-5 scales channels as PIL does (floor(v * 255 / 31))', () => {
  const img = decodeBmp(writeBmp(W, H, rgba, { bpp: 16 }));
  const expected = rgb.map((c) => Math.floor(((c >> 3) * 255) / 31));
  assert.deepEqual(Array.from(img.data), expected);
});

for (const bpp of [1, 4, 8] as const) {
  for (const header of ['info', 'core'] as const) {
    test(`BMP ${bpp}-bit palette (${header} header)`, () => {
      const n = 1 << bpp;
      const palette = Array.from({ length: Math.min(n, 16) }, (_, i) => [i * 16, 255 - i, i * 3]);
      const idx = Array.from({ length: W * H }, (_, i) => i % palette.length);
      const img = decodeBmp(writeBmp(W, H, idx, { bpp, header, palette }));
      assert.deepEqual(
        Array.from(img.data),
        idx.flatMap((i) => palette[i]!),
      );
    });
  }
}

test('BMP palette index past the palette reads as black', () => {
  const img = decodeBmp(writeBmp(2, 1, [0, 3], { bpp: 8, palette: [[9, 8, 7]] }));
  assert.deepEqual(Array.from(img.data), [9, 8, 7, 0, 0, 0]);
});

const good = writeBmp(W, H, rgba, { bpp: 24 });
const patched = (at: number, bytes: number[]) => {
  const b = good.slice();
  b.set(bytes, at);
  return b;
};
for (const [name, bytes, re] of [
  ['truncated pixel data', good.subarray(0, good.length - 10), /truncated/],
  ['truncated header', good.subarray(0, 20), /truncated/],
  ['RLE compression', patched(30, [1, 0, 0, 0]), /compression/],
  ['zero width', patched(18, [0, 0, 0, 0]), /invalid size/],
  ['huge size (bomb guard)', patched(18, [0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0]), /limit/],
  ['unknown header size', patched(14, [20, 0, 0, 0]), /header size/],
  ['data offset past the end', patched(10, [0xff, 0xff, 0, 0]), /truncated/],
  ['odd bit depth', patched(28, [7, 0]), /bits per pixel/],
] as const) {
  test(`BMP bad-image: ${name}`, () => {
    assert.throws(
      () => decodeBmp(bytes, 'x.bmp'),
      (e: unknown) => isGradsightError(e, 'bad-image') && re.test(e.message) && e.message.includes('x.bmp'),
    );
  });
}
