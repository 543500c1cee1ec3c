// headerSize against libvips' own reading of the same files (sharp metadata), across the formats and
// the header variants their writers produce: PNG; baseline, progressive and EXIF-carrying JPEG; GIF;
// lossy, lossless and extended (alpha) WebP; and files it must not guess a size for.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from '../../src/image/sharp-node.ts';
import { headerSize, sniffImageFormat } from '../../src/image/sniff.ts';

/** A noisy width × height picture (so encoders keep every part of their format). */
function raw(width: number, height: number, channels: 3 | 4) {
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 73 + (i >> 7) * 31) & 255;
  return sharp(data, { raw: { width, height, channels } });
}

const cases: [string, () => Promise<Buffer>][] = [
  ['png', () => raw(37, 23, 3).png().toBuffer()],
  ['png with alpha', () => raw(300, 1, 4).png().toBuffer()],
  ['jpeg', () => raw(641, 17, 3).jpeg().toBuffer()],
  ['progressive jpeg', () => raw(17, 641, 3).jpeg({ progressive: true }).toBuffer()],
  ['jpeg with EXIF orientation', () => raw(90, 40, 3).jpeg().withMetadata({ orientation: 6 }).toBuffer()],
  ['gif', () => raw(33, 44, 3).gif().toBuffer()],
  ['lossy webp', () => raw(129, 65, 3).webp().toBuffer()],
  ['lossless webp', () => raw(16383, 3, 3).webp({ lossless: true }).toBuffer()],
  ['webp with alpha', () => raw(65, 129, 4).webp().toBuffer()],
];

test('headerSize reads the size libvips reads, from the header alone', async () => {
  for (const [name, make] of cases) {
    const bytes = await make();
    const format = sniffImageFormat(bytes)!;
    const meta = await sharp(bytes).metadata();
    assert.deepEqual(headerSize(bytes, format), { width: meta.width, height: meta.height }, name);
    // Only the header is read: the same answer from the first bytes of the file.
    const head = bytes.subarray(0, Math.min(bytes.length, 4096));
    assert.deepEqual(headerSize(head, format), { width: meta.width, height: meta.height }, `${name}, head`);
  }
});

test('headerSize gives no size for a header that does not parse or a format it does not read', async () => {
  const png = await raw(8, 8, 3).png().toBuffer();
  assert.equal(headerSize(png.subarray(0, 20), 'png'), undefined, 'cut before the size');
  const broken = Buffer.from(png);
  broken.write('IHDX', 12, 'latin1');
  assert.equal(headerSize(broken, 'png'), undefined, 'no IHDR first');
  const zero = Buffer.from(png);
  zero.writeUInt32BE(0, 16);
  assert.equal(headerSize(zero, 'png'), undefined, 'zero width');
  const jpeg = await raw(8, 8, 3).jpeg().toBuffer();
  assert.equal(headerSize(jpeg.subarray(0, 30), 'jpeg'), undefined, 'JPEG cut before its frame header');
  assert.equal(
    headerSize(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2, 0, 0]), 'jpeg'),
    undefined,
    'scan first',
  );
  assert.equal(headerSize(Buffer.from([0xff, 0xd8, 0x00, 0xc0, 0, 2, 0, 0]), 'jpeg'), undefined, 'no marker');
  const tiff = await raw(8, 8, 3).tiff().toBuffer();
  assert.equal(headerSize(tiff, 'tiff'), undefined);
});
