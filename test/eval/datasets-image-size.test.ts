// Image sizes from headers (readImageSize, used to check manifest boxes while streaming) against sharp's
// metadata for files sharp writes, a hand-made BMP header; and greyscale masks below 8 bits, whose
// values the decoder scales to 0..255, read back as class indices.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { readImageSize } from '../../src/eval/datasets/image-size.ts';
import { decodeMaskFile } from '../../src/eval/datasets/mask.ts';
import { rows, tempDir, writeFile, writePng } from './datasets-fixtures.ts';

describe('image sizes and low-bit masks', () => {
  test('PNG, JPEG (with a large metadata segment first), GIF, WebP, BMP; TIFF is not read', async () => {
    const dir = tempDir();
    const base = sharp({
      create: { width: 37, height: 21, channels: 3, background: { r: 200, g: 10, b: 30 } },
    });
    const files: [string, Buffer][] = [
      ['a.png', await base.clone().png().toBuffer()],
      ['a.jpg', await base.clone().jpeg().toBuffer()],
      // An ICC profile as APP2 before the frame header: the SOF is found past it.
      ['b.jpg', await base.clone().withIccProfile('p3').jpeg({ progressive: true }).toBuffer()],
      ['a.gif', await base.clone().gif().toBuffer()],
      ['a.webp', await base.clone().webp().toBuffer()],
      ['b.webp', await base.clone().webp({ lossless: true }).toBuffer()],
      ['c.webp', await base.clone().ensureAlpha(0.5).webp({ alphaQuality: 50 }).toBuffer()],
    ];
    for (const [name, bytes] of files) {
      const path = writeFile(join(dir, name), bytes);
      const meta = await sharp(bytes).metadata();
      assert.deepEqual([meta.width, meta.height], [37, 21], name);
      assert.deepEqual(readImageSize(path), { width: 37, height: 21 }, name);
    }
    // BMP header: 'BM', file size, reserved, pixel offset, DIB size 40, width 5, height −3 (top-down).
    const bmp = Buffer.alloc(54);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(5, 18);
    bmp.writeInt32LE(-3, 22);
    assert.deepEqual(readImageSize(writeFile(join(dir, 'a.bmp'), bmp)), { width: 5, height: 3 });
    assert.equal(
      readImageSize(writeFile(join(dir, 'a.tiff'), await base.clone().tiff().toBuffer())),
      undefined,
    );
    assert.equal(readImageSize(join(dir, 'absent.png')), undefined);
  });

  test('1-, 2- and 4-bit greyscale masks give their indices back', async () => {
    const dir = tempDir();
    for (const bits of [1, 2, 4]) {
      const top = 2 ** bits - 1;
      const values = new Uint8Array([0, top, 1, 0, top, 1, 1, 0, 0, 0]).map((v) => Math.min(v, top));
      const path = writePng(join(dir, `m${bits}.png`), 5, 2, values, { bits });
      const classes = Array.from({ length: top + 1 }, (_, i) => (i === 0 ? 'background' : `c${i}`));
      const m = await decodeMaskFile({ path, classes });
      assert.deepEqual([...m.data], [...values], `${bits}-bit`);
    }
    const m = await decodeMaskFile({
      path: join(dir, 'm4.png'),
      classes: ['background', 'a', 'b', 'c'],
    }).catch((e: Error) => e);
    assert.ok(m instanceof Error && /class index 15, but the mask has 4 classes/.test(m.message), String(m));
    assert.deepEqual(
      rows((await decodeMaskFile({ path: join(dir, 'm1.png'), classes: ['background', 'x'] })).data, 5),
      ['01101', '11000'],
    );
  });
});
