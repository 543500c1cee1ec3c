// The limits on what decodeImage/decodeImageFile accept: a pixel budget checked from the header before
// decoding (PNG via sharp, BMP via its own header), a file-size limit, only regular files, and the one
// tolerated defect: a JPEG missing only its end marker decodes, with a warning.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { type ErrorCode, isGradsightError } from '../../src/errors.ts';
import { decodeBmp } from '../../src/image/bmp.ts';
import { decodeImage, decodeImageFile } from '../../src/image/decode-node.ts';
import { DEFAULT_MAX_PIXELS } from '../../src/image/limits.ts';
import { seededValues } from '../helpers/tiny-models.ts';
import { writeBmp } from './bmp-writer.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-limits-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const refused = async (p: Promise<unknown> | (() => unknown), code: ErrorCode, re: RegExp, hint?: RegExp) => {
  const check = (e: unknown) => {
    assert.ok(isGradsightError(e, code), `expected ${code}, got ${String(e)}`);
    assert.match(e.message, re);
    if (hint) assert.match(e.hint ?? '', hint);
    return true;
  };
  if (typeof p === 'function') assert.throws(p, check);
  else await assert.rejects(p, check);
};

/** A noisy W×H RGB image (noise so that JPEG data is not trivially short). */
function noise(w: number, h: number): Buffer {
  return Buffer.from(seededValues(w * h * 3, 5).map((v) => Math.floor((v + 1) * 127.5)));
}

/** A PNG of 16×16 pixels whose header claims w×h (CRC fixed up): a decompression bomb's header. */
async function bombPng(w: number, h: number): Promise<Uint8Array> {
  const png = new Uint8Array(
    await sharp(noise(16, 16), { raw: { width: 16, height: 16, channels: 3 } })
      .png()
      .toBuffer(),
  );
  const v = new DataView(png.buffer, png.byteOffset);
  v.setUint32(16, w);
  v.setUint32(20, h);
  v.setUint32(29, crc32(png.subarray(12, 29)));
  return png;
}

test('a small PNG declaring 16000×16000 is refused from its header, naming the flag', async () => {
  const png = await bombPng(16000, 16000);
  assert.ok(png.byteLength < 32_000);
  const t0 = performance.now();
  await refused(decodeImage(png, 'bomb.png'), 'bad-image', /16000×16000.*too large/, /--max-pixels/);
  assert.ok(performance.now() - t0 < 5000, 'refused without decoding');
});

test('the pixel budget defaults to 100 MP and is an option', async () => {
  assert.equal(DEFAULT_MAX_PIXELS, 100_000_000);
  // 10001×10000 is just over the default; 10000×10000 is within it (then fails as truncated data).
  await refused(decodeImage(await bombPng(10001, 10000), 'a.png'), 'bad-image', /too large/);
  await refused(decodeImage(await bombPng(10000, 10000), 'a.png'), 'bad-image', /cannot be decoded/);
  const png = await sharp(noise(20, 10), { raw: { width: 20, height: 10, channels: 3 } })
    .png()
    .toBuffer();
  await refused(decodeImage(png, 'p.png', { maxPixels: 199 }), 'bad-image', /20×10.*too large/);
  const img = await decodeImage(png, 'p.png', { maxPixels: 200 });
  assert.deepEqual([img.width, img.height], [20, 10]);
  assert.deepEqual(img.data, new Uint8Array(noise(20, 10)));
});

test('BMP headers are checked against the same budget', async () => {
  const bmp = writeBmp(
    4,
    3,
    Array.from({ length: 36 }, (_, i) => i),
    { bpp: 24 },
  );
  await refused(() => decodeBmp(bmp, 'x.bmp', 11), 'bad-image', /4×3.*too large/, /--max-pixels/);
  assert.equal(decodeBmp(bmp, 'x.bmp', 12).width, 4);
  await refused(decodeImage(bmp, 'x.bmp', { maxPixels: 11 }), 'bad-image', /too large/);
  // A 54-byte header claiming 20000×20000 (400 MP > 100 MP) is refused before any pixel is read.
  const big = new Uint8Array(bmp);
  new DataView(big.buffer).setInt32(18, 20000, true);
  new DataView(big.buffer).setInt32(22, 20000, true);
  await refused(() => decodeBmp(big, 'big.bmp'), 'bad-image', /20000×20000.*too large/);
});

test('a JPEG missing only its end marker decodes, with a warning', async () => {
  const full = await sharp(noise(32, 24), { raw: { width: 32, height: 24, channels: 3 } })
    .jpeg()
    .toBuffer();
  assert.deepEqual([...full.subarray(-2)], [0xff, 0xd9]);
  const cut = full.subarray(0, full.length - 2);
  const warnings: string[] = [];
  const img = await decodeImage(cut, 'cut.jpg', { onWarning: (w) => warnings.push(w) });
  assert.deepEqual(img.data, (await decodeImage(full)).data, 'the same pixels as the complete file');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /cut\.jpg.*end marker/);
  // The complete file gives no warning.
  await decodeImage(full, 'full.jpg', { onWarning: (w) => warnings.push(w) });
  assert.equal(warnings.length, 1);
  // Cut in the middle of its data is still corrupt.
  await refused(
    decodeImage(full.subarray(0, Math.floor(full.length * 0.7)), 'mid.jpg'),
    'bad-image',
    /mid\.jpg/,
  );
});

test('decodeImageFile: size limit, FIFOs and devices refused at once', async () => {
  const png = await sharp(noise(8, 8), { raw: { width: 8, height: 8, channels: 3 } })
    .png()
    .toBuffer();
  const path = join(dir, 'p.png');
  await writeFile(path, png);
  await refused(
    decodeImageFile(path, { maxFileBytes: png.length - 1 }),
    'file-too-large',
    /p\.png/,
    /--max-file-mb/,
  );
  assert.equal((await decodeImageFile(path, { maxFileBytes: png.length })).width, 8);
  const fifo = join(dir, 'fifo.png');
  execFileSync('mkfifo', [fifo]);
  const t0 = performance.now();
  await refused(decodeImageFile(fifo), 'not-a-regular-file', /FIFO/);
  await refused(decodeImageFile('/dev/zero'), 'not-a-regular-file', /device/);
  assert.ok(performance.now() - t0 < 5000);
});
