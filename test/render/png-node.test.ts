// PNG output: encode → decode (sharp via src/image/decode-node.ts) returns the exact pixels, RGB and
// palette PNGs alike, and writePng / writeIndexedPng write atomically (no temp file left behind, typed
// error on an unwritable path).

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { decodeImage, decodeImageFile } from '../../src/image/decode-node.ts';
import { type IndexedImage, indexedToRgb } from '../../src/image/indexed-image.ts';
import { rgbImage } from '../../src/image/rgb-image.ts';
import { encodeIndexedPng, encodePng, writeIndexedPng, writePng } from '../../src/render/png-node.ts';

/** Every byte value in every channel, on a non-square image (odd width catches row-stride bugs). */
function testImage() {
  const width = 37;
  const height = 23;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 97 + (i >> 5)) & 255;
  return rgbImage(width, height, data);
}

test('encodePng round-trips every pixel exactly', async () => {
  const img = testImage();
  const png = await encodePng(img);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const back = await decodeImage(png, 'round trip');
  assert.equal(back.width, img.width);
  assert.equal(back.height, img.height);
  assert.deepEqual(back.data, img.data);
});

test('encodePng at every zlib level, and writePng of an image large enough to stream through sharp', async () => {
  const img = testImage();
  for (const level of [0, 1, 9]) {
    const back = await decodeImage(await encodePng(img, level), `level ${level}`);
    assert.deepEqual(back.data, img.data, `level ${level}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-png-'));
  try {
    // 2001 × 2001 is past the 4 MP that gradsight encodes itself.
    const big = new Uint8Array(2001 * 2001 * 3);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 11)) & 255;
    const path = join(dir, 'big.png');
    await writePng(path, rgbImage(2001, 2001, big), 0);
    assert.deepEqual((await decodeImageFile(path)).data, big);
    assert.deepEqual(await readdir(dir), ['big.png']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('writePng writes the file atomically and a bad path is a typed error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-png-'));
  try {
    const img = testImage();
    const path = join(dir, 'out.png');
    await writePng(path, img);
    await writePng(path, img); // overwriting is fine
    assert.deepEqual(await readdir(dir), ['out.png']);
    assert.deepEqual((await decodeImageFile(path)).data, img.data);
    await assert.rejects(writePng(join(dir, 'missing', 'out.png'), img), (e) =>
      isGradsightError(e, 'output-unwritable'),
    );
    assert.deepEqual(await readdir(dir), ['out.png']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Indices with every value and neighbours that differ by every amount (Sub's wrap-around included). */
function indexedTestImage(colours = 256): IndexedImage {
  const width = 37;
  const height = 23;
  const indices = new Uint8Array(width * height);
  for (let i = 0; i < indices.length; i++) indices[i] = ((i * 131) ^ (i >> 3)) % colours;
  const palette = new Uint8Array(colours * 3);
  for (let i = 0; i < palette.length; i++) palette[i] = (i * 59 + 7) & 255;
  return { width, height, indices, palette };
}

test('encodeIndexedPng: a palette PNG that decodes (libvips) to exactly the palette colours', async () => {
  for (const colours of [256, 17, 1]) {
    const img = indexedTestImage(colours);
    const png = encodeIndexedPng(img);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(png[25], 3, 'colour type 3 (palette)');
    const back = await decodeImage(png, 'indexed round trip');
    assert.deepEqual([back.width, back.height], [img.width, img.height]);
    assert.deepEqual(back.data, indexedToRgb(img).data, `${colours} colours`);
  }
});

test('encodeIndexedPng refuses an index past the palette and a palette that is not 1–256 colours', () => {
  const img = indexedTestImage(16);
  const bad = { ...img, indices: img.indices.slice() };
  bad.indices[40] = 16;
  assert.throws(() => encodeIndexedPng(bad), /index 16 at pixel 40 is past the 16-colour palette/);
  assert.throws(() => encodeIndexedPng({ ...img, palette: new Uint8Array(257 * 3) }), /1 to 256 RGB colours/);
  assert.throws(() => encodeIndexedPng({ ...img, palette: new Uint8Array(10) }), /1 to 256 RGB colours/);
  assert.throws(() => encodeIndexedPng({ ...img, indices: img.indices.subarray(1) }), /indices for a 37x23/);
});

test('writeIndexedPng writes atomically and a bad path is a typed error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-png-'));
  try {
    const img = indexedTestImage();
    const path = join(dir, 'heat.png');
    await writeIndexedPng(path, img);
    assert.deepEqual(await readdir(dir), ['heat.png']);
    assert.deepEqual((await decodeImageFile(path)).data, indexedToRgb(img).data);
    await assert.rejects(writeIndexedPng(join(dir, 'missing', 'heat.png'), img), (e) =>
      isGradsightError(e, 'output-unwritable'),
    );
    assert.deepEqual(await readdir(dir), ['heat.png']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
