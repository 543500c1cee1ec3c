// PNG output: encode → decode (sharp via src/image/decode-node.ts) returns the exact pixels, and writePng
// writes atomically (no temp file left behind, typed error on an unwritable path).

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { decodeImage, decodeImageFile } from '../../src/image/decode-node.ts';
import { rgbImage } from '../../src/image/rgb-image.ts';
import { encodePng, writePng } from '../../src/render/png-node.ts';

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
