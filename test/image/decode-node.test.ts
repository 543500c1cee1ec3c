// decodeImage/decodeImageFile: every supported format to RGB (alpha dropped, grey and palette expanded,
// 16-bit reduced, EXIF orientation applied) and every kind of bad input to its typed error code.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { type ErrorCode, isGradsightError } from '../../src/errors.ts';
import { decodeImage, decodeImageFile } from '../../src/image/decode-node.ts';
import { imagePath, skipNoShared } from '../helpers/shared.ts';
import { writeBmp } from './bmp-writer.ts';

const W = 4;
const H = 3;
// RGBA with varied alpha, including fully transparent pixels whose colour must survive.
const rgba = new Uint8Array(
  Array.from({ length: W * H }, (_, i) => [i * 20, 200 - i * 10, (i * 37) % 256, i * 23]).flat(),
);
const rgb = rgba.filter((_, i) => i % 4 !== 3);
const raw = (channels: 1 | 2 | 3 | 4, data: Uint8Array) =>
  sharp(data, { raw: { width: W, height: H, channels } });

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-decode-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const expectCode = async (p: Promise<unknown>, code: ErrorCode, re?: RegExp) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(isGradsightError(e, code), `expected ${code}, got ${String(e)}`);
    if (re) assert.match(e.message, re);
    return true;
  });

test('PNG RGB is exact', async () => {
  const img = await decodeImage(await raw(3, rgb).png().toBuffer());
  assert.equal(img.width, W);
  assert.equal(img.height, H);
  assert.deepEqual(img.data, rgb);
});

test('PNG RGBA drops alpha without compositing (PIL convert("RGB"))', async () => {
  const img = await decodeImage(await raw(4, rgba).png().toBuffer());
  assert.deepEqual(img.data, rgb);
});

test('greyscale and grey+alpha PNG expand to RGB', async () => {
  const grey = new Uint8Array(W * H).map((_, i) => i * 21);
  const ga = new Uint8Array(W * H * 2).map((_, i) => (i % 2 ? 255 - i : i * 10));
  const expect = (g: ArrayLike<number>) => new Uint8Array(Array.from(g).flatMap((v) => [v, v, v]));
  assert.deepEqual((await decodeImage(await raw(1, grey).png().toBuffer())).data, expect(grey));
  const gaImg = await decodeImage(await raw(2, ga).png().toBuffer());
  assert.deepEqual(gaImg.data, expect(ga.filter((_, i) => i % 2 === 0)));
});

test('palette PNG expands to RGB', async () => {
  // Four distinct colours: quantisation to a palette is lossless here.
  const px = new Uint8Array(
    Array.from(
      { length: W * H },
      (_, i) =>
        [
          [255, 0, 0],
          [0, 128, 0],
          [0, 0, 255],
          [9, 9, 9],
        ][i % 4]!,
    ).flat(),
  );
  const png = await raw(3, px).png({ palette: true, colours: 4, dither: 0 }).toBuffer();
  assert.equal((await sharp(png).metadata()).isPalette, true, 'fixture is a palette PNG');
  assert.deepEqual((await decodeImage(png)).data, px);
});

test('16-bit PNG becomes 8-bit (high byte)', async () => {
  const png16 = await raw(3, rgb).toColourspace('rgb16').png().toBuffer();
  assert.equal((await sharp(png16).metadata()).depth, 'ushort');
  assert.deepEqual((await decodeImage(png16)).data, rgb);
});

test('lossless WebP, GIF, TIFF are exact; JPEG is close', async () => {
  assert.deepEqual((await decodeImage(await raw(3, rgb).webp({ lossless: true }).toBuffer())).data, rgb);
  assert.deepEqual((await decodeImage(await raw(3, rgb).tiff({ compression: 'lzw' }).toBuffer())).data, rgb);
  const flat = new Uint8Array(W * H * 3).map((_, i) => [200, 40, 90][i % 3]!);
  assert.deepEqual((await decodeImage(await raw(3, flat).gif().toBuffer())).data, flat);
  const jpg = await decodeImage(await raw(3, flat).jpeg({ quality: 100 }).toBuffer());
  assert.equal(jpg.width, W);
  for (let i = 0; i < flat.length; i++) assert.ok(Math.abs(jpg.data[i]! - flat[i]!) <= 3, `JPEG pixel ${i}`);
});

test("BMP goes through gradsight's own decoder", async () => {
  const path = join(dir, 'x.bmp');
  await writeFile(path, writeBmp(W, H, Array.from(rgba), { bpp: 24 }));
  assert.deepEqual((await decodeImageFile(path)).data, rgb);
});

test('EXIF orientation is applied', async () => {
  // 4x3 stored, orientation 6 (rotate 90° clockwise to display): decoded as 3x4.
  const jpg = await raw(3, rgb).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
  const img = await decodeImage(jpg);
  assert.equal(img.width, H);
  assert.equal(img.height, W);
});

test('a real shared image decodes to its PNG size', { skip: skipNoShared }, async () => {
  const img = await decodeImageFile(imagePath('cat.png'));
  assert.equal(img.width, 512);
  assert.equal(img.height, 341);
  assert.equal(img.data.length, 512 * 341 * 3);
});

test('bad images: typed errors, no crash', async () => {
  const png = await raw(3, rgb).png().toBuffer();
  const jpg = await raw(3, rgb).jpeg().toBuffer();
  const write = async (name: string, data: Uint8Array | string) => {
    const p = join(dir, name);
    await writeFile(p, data);
    return p;
  };
  const random = new Uint8Array(256).map((_, i) => (i * 7919 + 13) % 251);
  await expectCode(decodeImageFile(await write('empty.png', '')), 'bad-image', /empty\.png.*empty file/);
  await expectCode(decodeImageFile(await write('noise.png', random)), 'bad-image', /unrecognised data/);
  await expectCode(
    decodeImageFile(await write('notes.png', 'hello\nthis is text\n')),
    'bad-image',
    /a text file/,
  );
  await expectCode(
    decodeImageFile(await write('t.png', png.subarray(0, png.length - 30))),
    'bad-image',
    /t\.png.*PNG/,
  );
  await expectCode(
    decodeImageFile(await write('t.jpg', jpg.subarray(0, jpg.length / 2))),
    'bad-image',
    /t\.jpg.*JPEG/,
  );
  await expectCode(decodeImageFile(await write('head.png', png.subarray(0, 8))), 'bad-image');
  await expectCode(
    decodeImageFile(await write('v.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>')),
    'bad-image',
    /SVG/,
  );
  await expectCode(decodeImageFile(dir), 'file-unreadable', /directory/);
  await expectCode(decodeImageFile(join(dir, 'missing.png')), 'file-not-found', /missing\.png/);
  // Hints list the supported formats.
  await assert.rejects(
    decodeImage(new Uint8Array(0)),
    (e: unknown) => isGradsightError(e) && /BMP/.test(e.hint ?? ''),
  );
});

test('decompression bombs are refused as bad-image', async () => {
  // A small PNG whose header claims 20000x20000 pixels (over libvips' 0x3FFF² limit); CRC fixed up.
  const png = new Uint8Array(await raw(3, rgb).png().toBuffer());
  const v = new DataView(png.buffer, png.byteOffset);
  v.setUint32(16, 20000);
  v.setUint32(20, 20000);
  v.setUint32(29, crc32(png.subarray(12, 29)));
  await expectCode(decodeImage(png, 'bomb.png'), 'bad-image', /too large/);
});
