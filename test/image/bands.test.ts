// Grayscale and RGBA model inputs against Pillow 9.4 (values printed by /usr/bin/python3 with PIL and
// NumPy from the same 5×4 RGBA image): convert('L'), convert('L').resize, RGBA resize (premultiplied),
// and the normalised float32 tensors NumPy computes from them; channel inference from input shapes.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { type ErrorCode, isGradsightError } from '../../src/errors.ts';
import { bandsToRgb, luma, toBands } from '../../src/image/bands.ts';
import { decodeImage } from '../../src/image/decode-node.ts';
import {
  imageToTensor,
  modelBands,
  modelView,
  type PreprocessConfig,
  resolvePreprocess,
} from '../../src/image/preprocess.ts';
import { rgbImage } from '../../src/image/rgb-image.ts';

const W = 5;
const H = 4;
// Pixel i = ((53i) % 256, (97i + 11) % 256, (31i + 200) % 256, i % 3 ? (67i) % 256 : 255).
// biome-ignore format: one pixel per group of four
const RGBA = new Uint8Array([0, 11, 200, 255, 53, 108, 231, 67, 106, 205, 6, 134, 159, 46, 37, 255, 212, 143, 68, 12, 9, 240, 99, 79, 62, 81, 130, 255, 115, 178, 161, 213, 168, 19, 192, 24, 221, 116, 223, 255, 18, 213, 254, 158, 71, 54, 29, 225, 124, 151, 60, 255, 177, 248, 91, 103, 230, 89, 122, 170, 27, 186, 153, 255, 80, 27, 184, 48, 133, 124, 215, 115, 186, 221, 246, 255, 239, 62, 21, 249]);
const image = rgbImage(
  W,
  H,
  RGBA.filter((_, i) => i % 4 !== 3),
  RGBA.filter((_, i) => i % 4 === 3),
);
// Image.fromarray(rgba, 'RGBA').convert('L'), and .convert('L').resize((3, 2), BILINEAR)
const PIL_L = [29, 106, 153, 79, 155, 155, 81, 157, 83, 160, 159, 56, 133, 209, 135, 135, 61, 137, 213, 110];
const PIL_L_3x2 = [96, 126, 131, 111, 133, 156];
// .resize((3, 2), BILINEAR) and .resize((7, 3), BILINEAR) of the RGBA image (Pillow premultiplies alpha)
// biome-ignore format: one pixel per group of four
const PIL_RGBA_3x2 = [29, 82, 161, 167, 112, 139, 93, 170, 197, 93, 137, 137, 41, 144, 142, 173, 126, 145, 124, 174, 214, 130, 128, 191];
// biome-ignore format: one pixel per group of four
const PIL_RGBA_7x3 = [1, 37, 188, 202, 27, 61, 179, 158, 76, 126, 134, 133, 109, 193, 67, 158, 148, 83, 48, 177, 174, 64, 83, 143, 219, 120, 207, 85, 15, 220, 201, 119, 52, 109, 115, 188, 81, 94, 89, 239, 119, 163, 105, 234, 143, 182, 109, 112, 209, 133, 161, 128, 223, 105, 181, 213, 24, 191, 173, 226, 42, 136, 139, 155, 95, 80, 104, 117, 128, 136, 139, 157, 172, 205, 203, 194, 207, 154, 144, 216, 236, 68, 44, 225];

const isCode = (code: ErrorCode, re: RegExp) => (e: unknown) =>
  isGradsightError(e, code) && re.test(e.message) && e.hint !== undefined;

const cfg = (o: Partial<PreprocessConfig>): PreprocessConfig => ({
  layout: 'NCHW',
  channels: 3,
  size: [H, W],
  mean: [0, 0, 0],
  std: [1, 1, 1],
  scale: '0-255',
  channelOrder: 'RGB',
  labelOffset: 0,
  ...o,
});

test("luma is Pillow's convert('L') (fixed-point ITU-R 601-2), grey maps to itself", () => {
  assert.deepEqual([...luma(image)], PIL_L);
  // A hand check of pixel 1 (53, 108, 231): (53·19595 + 108·38470 + 231·7471 + 32768) >> 16 = 106.
  assert.equal((53 * 19595 + 108 * 38470 + 231 * 7471 + 32768) >> 16, 106);
  const grey = rgbImage(256, 1, new Uint8Array(Array.from({ length: 256 }, (_, v) => [v, v, v]).flat()));
  assert.deepEqual(
    [...luma(grey)],
    Array.from({ length: 256 }, (_, v) => v),
  );
});

test('grayscale: convert to L at full size, then resize, as convert("L").resize(...) does', () => {
  const c = cfg({ channels: 1, size: [2, 3], mean: [0], std: [1] });
  assert.deepEqual([...modelBands(image, c).data], PIL_L_3x2);
  // (x/255 − 0.1307)/0.3081 in float32, as NumPy computes it on the PIL image.
  const t = imageToTensor(image, { ...c, scale: '0-1', mean: [0.1307], std: [0.3081] });
  assert.deepEqual(t.dims, [1, 1, 2, 3]);
  const numpy = [0.7976974844932556, 1.179544448852539, 1.2431857585906982, 0.988620936870575];
  assert.deepEqual([...t.data.subarray(0, 4)], numpy);
  assert.equal(t.data[5], 1.5613915920257568);
  // NHWC [1, 2, 3, 1] holds the same values.
  assert.deepEqual(imageToTensor(image, { ...c, layout: 'NHWC' }).dims, [1, 2, 3, 1]);
});

test('RGBA: alpha kept and resized premultiplied, exactly as Pillow', () => {
  assert.deepEqual([...toBands(image, 4).data], [...RGBA]);
  assert.deepEqual([...modelBands(image, cfg({ channels: 4, size: [2, 3] })).data], PIL_RGBA_3x2);
  assert.deepEqual([...modelBands(image, cfg({ channels: 4, size: [3, 7] })).data], PIL_RGBA_7x3);
  const c = cfg({
    channels: 4,
    size: [3, 7],
    scale: '0-1',
    mean: [0.485, 0.456, 0.406, 0.5],
    std: [0.229, 0.224, 0.225, 0.25],
  });
  const t = imageToTensor(image, c);
  assert.deepEqual(t.dims, [1, 4, 3, 7]);
  const plane = 21;
  // Pixel 0 of the 7×3 resize is (1, 37, 188, 202): NumPy's (x/255 − mean)/std per channel.
  const numpy = [-2.1007792949676514, -1.3879550695419312, 1.472244143486023, 1.1686275005340576];
  assert.deepEqual(
    [0, 1, 2, 3].map((ch) => t.data[ch * plane]!),
    numpy,
  );
  // BGR(A): colour channels swap, alpha stays last.
  const bgr = imageToTensor(image, { ...c, channelOrder: 'BGR' });
  assert.deepEqual(
    [0, 1, 2, 3].map((ch) => bgr.data[ch * plane]!),
    [numpy[2], numpy[1], numpy[0], numpy[3]],
  );
  // An image without alpha is opaque (convert('RGBA') adds 255).
  const opaque = toBands(rgbImage(1, 1, new Uint8Array([1, 2, 3])), 4);
  assert.deepEqual([...opaque.data], [1, 2, 3, 255]);
});

test('the decoder keeps the alpha plane of an RGBA PNG; RGB data is unchanged', async () => {
  const png = await sharp(RGBA, { raw: { width: W, height: H, channels: 4 } })
    .png()
    .toBuffer();
  const img = await decodeImage(png);
  assert.deepEqual(img.data, image.data);
  assert.deepEqual(img.alpha, image.alpha);
  const rgbPng = await sharp(image.data, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toBuffer();
  assert.equal((await decodeImage(rgbPng)).alpha, undefined);
});

test('model view for overlays: grey on R, G, B for a grayscale model', () => {
  const view = modelView(image, { size: [2, 3], channels: 1 });
  assert.deepEqual(
    [...view.data],
    PIL_L_3x2.flatMap((v) => [v, v, v]),
  );
  const own = modelView(image, { size: [2, 3], channels: 1 }, false);
  assert.deepEqual([own.width, own.height], [W, H]);
  assert.deepEqual([...own.data.filter((_, i) => i % 3 === 0)], PIL_L);
  assert.deepEqual([...modelView(image, { size: [H, W], channels: 3 }).data], [...image.data]);
  assert.deepEqual([...bandsToRgb(toBands(image, 4)).data], [...image.data]);
});

test('channels inferred from the input shape, NCHW and NHWC; defaults per channel count', () => {
  const g = resolvePreprocess({ inputShape: ['batch_size', 1, 28, 28] });
  assert.deepEqual([g.layout, g.channels, g.size, g.mean, g.std], ['NCHW', 1, [28, 28], [0], [1]]);
  const n = resolvePreprocess({ inputShape: [1, 28, 28, 1] });
  assert.deepEqual([n.layout, n.channels, n.size], ['NHWC', 1, [28, 28]]);
  const a = resolvePreprocess({ inputShape: ['n', 4, 'h', 'w'] });
  assert.deepEqual([a.channels, a.mean, a.std], [4, [0.485, 0.456, 0.406, 0], [0.229, 0.224, 0.225, 1]]);
  assert.deepEqual(resolvePreprocess({ inputShape: [1, 64, 64, 4] }).layout, 'NHWC');
  // 0-255 scales the default statistics: grayscale stays 0/255 → mean 0, std 255.
  const raw = resolvePreprocess({ inputShape: [1, 1, 28, 28], file: { scale: '0-255' } });
  assert.deepEqual([raw.mean, raw.std], [[0], [255]]);
  // A symbolic channel axis with a stated count.
  assert.equal(
    resolvePreprocess({ inputShape: ['n', 'c', 8, 8], file: { channels: 1, mean: [0], std: [1] } }).channels,
    1,
  );
});

test('stated channels that contradict the model, and mean/std of the wrong length, are typed errors', () => {
  assert.throws(
    () => resolvePreprocess({ file: { channels: 3 }, fileSource: 'p.json', inputShape: ['b', 1, 28, 28] }),
    isCode('bad-preprocess', /\[b, 1, 28, 28\] has 1 channel, but the preprocessing says 3/),
  );
  assert.throws(
    () => resolvePreprocess({ flags: { channels: 4 }, inputShape: [1, 3, 8, 8] }),
    isCode('bad-preprocess', /has 3 channels, but the preprocessing says 4/),
  );
  assert.throws(
    () =>
      resolvePreprocess({
        file: { mean: [0.5, 0.5, 0.5] },
        fileSource: 'p.json',
        inputShape: [1, 1, 28, 28],
      }),
    isCode('bad-preprocess', /p\.json: "mean" has 3 values but the input has 1 channel/),
  );
  assert.throws(
    () => resolvePreprocess({ file: { channels: 1, std: [1, 1, 1] }, fileSource: 'p.json' }),
    isCode('bad-preprocess', /"std" must be an array of 1 positive numbers/),
  );
  assert.throws(
    () => resolvePreprocess({ flags: { std: [1, 1, 1, 1] }, inputShape: [1, 3, 8, 8] }),
    isCode('bad-argument', /command-line options: "std" has 4 values but the input has 3 channels/),
  );
  assert.throws(
    () => resolvePreprocess({ file: { channels: 2 }, fileSource: 'p.json' }),
    isCode('bad-preprocess', /"channels" must be 1 \(grayscale\), 3 \(RGB\) or 4 \(RGBA\)/),
  );
  assert.throws(
    () =>
      resolvePreprocess({ file: { channelOrder: 'BGR' }, fileSource: 'p.json', inputShape: [1, 1, 8, 8] }),
    isCode('bad-preprocess', /BGR has no meaning for a 1-channel/),
  );
});

test('a preprocess.json with channels round-trips through the file loader', async () => {
  const { loadPreprocessFile } = await import('../../src/image/preprocess-node.ts');
  const { writeFile } = await import('node:fs/promises');
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-bands-'));
  try {
    await writeFile(join(dir, 'preprocess.json'), '{"channels":1,"scale":"0-255","mean":[0],"std":[1]}');
    const file = await loadPreprocessFile(join(dir, 'model.onnx'));
    const c = resolvePreprocess({ file, inputShape: ['batch_size', 1, 28, 28] });
    assert.deepEqual([c.channels, c.scale, c.mean, c.std], [1, '0-255', [0], [1]]);
    // Raw pixels: a white pixel is 255, not 1.
    const white = imageToTensor(rgbImage(28, 28, new Uint8Array(28 * 28 * 3).fill(255)), c);
    assert.equal(white.data[0], 255);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
