// Preprocess config resolution (flags > preprocess.json > input-shape defaults), strict validation of
// preprocess.json, and image → tensor conversion: normalization values, NHWC, BGR, 0-255, batching.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ErrorCode, isGradsightError } from '../../src/errors.ts';
import {
  imagesToBatch,
  imageToTensor,
  type PreprocessConfig,
  resolvePreprocess,
} from '../../src/image/preprocess.ts';
import { loadPreprocessFile } from '../../src/image/preprocess-node.ts';
import { rgbImage } from '../../src/image/rgb-image.ts';

const isCode = (code: ErrorCode, re: RegExp) => (e: unknown) =>
  isGradsightError(e, code) && re.test(e.message);

test('defaults from an NCHW input shape; symbolic H/W fall back to 224', () => {
  const cfg = resolvePreprocess({ inputShape: ['batch', 3, 192, 160] });
  assert.deepEqual(cfg, {
    layout: 'NCHW',
    channels: 3,
    size: [192, 160],
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    scale: '0-1',
    channelOrder: 'RGB',
    labelOffset: 0,
  });
  assert.deepEqual(resolvePreprocess({ inputShape: [null, 3, 'h', 'w'] }).size, [224, 224]);
  assert.deepEqual(resolvePreprocess({ inputShape: [-1, 3, -1, -1] }).size, [224, 224]);
  assert.deepEqual(resolvePreprocess({}).size, [224, 224]);
});

test('defaults from an NHWC input shape', () => {
  const cfg = resolvePreprocess({ inputShape: [1, 299, 300, 3] });
  assert.equal(cfg.layout, 'NHWC');
  assert.deepEqual(cfg.size, [299, 300]);
});

test('precedence: flags > file > shape defaults, per key', () => {
  const file = { size: [160, 160], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], labelOffset: 1, task: 'x' };
  const cfg = resolvePreprocess({
    flags: { mean: [0, 0, 0] },
    file,
    inputShape: ['n', 3, 'h', 'w'],
  });
  assert.deepEqual(cfg.mean, [0, 0, 0]); // flag
  assert.deepEqual(cfg.std, [0.5, 0.5, 0.5]); // file
  assert.deepEqual(cfg.size, [160, 160]); // file over shape default 224
  assert.equal(cfg.labelOffset, 1);
  assert.equal(cfg.layout, 'NCHW'); // shape
});

test("'0-255' scale without mean/std gets ImageNet statistics ×255", () => {
  const cfg = resolvePreprocess({ flags: { scale: '0-255' } });
  assert.deepEqual(
    cfg.mean.map((m) => Math.round(m * 1000) / 1000),
    [123.675, 116.28, 103.53],
  );
});

test('a config that contradicts a fixed input shape fails early', () => {
  assert.throws(
    () =>
      resolvePreprocess({ file: { size: [192, 192] }, fileSource: 'p.json', inputShape: [1, 3, 224, 224] }),
    isCode('bad-preprocess', /192x192.*\[1, 3, 224, 224\]/),
  );
  assert.throws(
    () => resolvePreprocess({ flags: { layout: 'NHWC' }, inputShape: [1, 3, 224, 224] }),
    isCode('bad-preprocess', /224 channels/),
  );
  assert.throws(() => resolvePreprocess({ inputShape: [1, 1000] }), isCode('bad-preprocess', /not a 4-D/));
});

const invalid: [string, unknown, RegExp][] = [
  ['not an object', [1, 2], /root.*JSON object/],
  ['layout', { layout: 'CHW' }, /"layout" must be one of NCHW, NHWC/],
  ['size length', { size: [224] }, /"size" must be an array of 2/],
  ['size non-positive', { size: [0, 224] }, /"size"/],
  ['size fractional', { size: [224.5, 224] }, /"size"/],
  ['mean type', { mean: '0.5' }, /"mean"/],
  ['mean length', { mean: [0.5, 0.5] }, /"mean" must be an array of 1 or 3 or 4/],
  ['std zero', { std: [0.2, 0, 0.2] }, /"std" must be an array of 1 or 3 or 4 positive/],
  ['scale', { scale: '0-1.0' }, /"scale"/],
  ['channelOrder', { channelOrder: 'rgb' }, /"channelOrder"/],
  ['labelOffset', { labelOffset: -1 }, /"labelOffset"/],
];
for (const [name, file, re] of invalid) {
  test(`preprocess.json validation: ${name}`, () => {
    assert.throws(
      () => resolvePreprocess({ file, fileSource: '/m/preprocess.json' }),
      (e: unknown) =>
        isCode('bad-preprocess', re)(e) && (e as Error).message.startsWith('/m/preprocess.json'),
    );
  });
}

test('bad flags are bad-argument, not bad-preprocess', () => {
  assert.throws(() => resolvePreprocess({ flags: { size: [-1, 3] } }), isCode('bad-argument', /"size"/));
});

test('loadPreprocessFile: absent, valid (extra keys ignored), bad JSON, invalid values', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-pre-'));
  try {
    const model = join(dir, 'model.onnx');
    assert.equal(await loadPreprocessFile(model), undefined);
    await writeFile(
      join(dir, 'preprocess.json'),
      JSON.stringify({ layout: 'NHWC', resize: 'bilinear', numClasses: 3 }),
    );
    assert.deepEqual(await loadPreprocessFile(model), { layout: 'NHWC', resize: 'bilinear', numClasses: 3 });
    await writeFile(join(dir, 'preprocess.json'), '{"layout": "NCHW",}');
    await assert.rejects(
      loadPreprocessFile(model),
      isCode('bad-preprocess', /preprocess\.json is not valid JSON/),
    );
    await writeFile(join(dir, 'preprocess.json'), '{"std": [1, 1, 0]}');
    await assert.rejects(loadPreprocessFile(model), isCode('bad-preprocess', /preprocess\.json: "std"/));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// A 2x1 image: pixel 0 = (0, 128, 255), pixel 1 = (255, 0, 51).
const img = rgbImage(2, 1, new Uint8Array([0, 128, 255, 255, 0, 51]));
const base: PreprocessConfig = {
  layout: 'NCHW',
  channels: 3,
  size: [1, 2],
  mean: [0.5, 0.25, 0],
  std: [0.5, 0.25, 2],
  scale: '0-1',
  channelOrder: 'RGB',
  labelOffset: 0,
};
const f = Math.fround;
const norm = (p: number, m: number, s: number) => f(f(f(p / 255) - f(m)) / f(s));

test('NCHW normalization in float32, as NumPy computes it', () => {
  const t = imageToTensor(img, base);
  assert.deepEqual(t.dims, [1, 3, 1, 2]);
  const expected = [
    norm(0, 0.5, 0.5),
    norm(255, 0.5, 0.5),
    norm(128, 0.25, 0.25),
    norm(0, 0.25, 0.25),
    norm(255, 0, 2),
    norm(51, 0, 2),
  ];
  assert.deepEqual(Array.from(t.data), expected);
  assert.deepEqual(Array.from(t.data).slice(0, 2), [-1, 1]);
});

test('NHWC, BGR and 0-255 scale', () => {
  const t = imageToTensor(img, {
    ...base,
    layout: 'NHWC',
    channelOrder: 'BGR',
    scale: '0-255',
    mean: [0, 0, 10],
    std: [1, 1, 2],
  });
  assert.deepEqual(t.dims, [1, 1, 2, 3]);
  // Channel 0 is blue with the blue (third) mean/std: (255 - 10) / 2, then G, then R.
  assert.deepEqual(Array.from(t.data), [122.5, 128, 0, 20.5, 0, 255]);
});

test('batching resizes each image and stacks them', () => {
  const other = rgbImage(4, 2, new Uint8Array(24).fill(255));
  const t = imagesToBatch([img, other], base);
  assert.deepEqual(t.dims, [2, 3, 1, 2]);
  assert.deepEqual(Array.from(t.data.subarray(0, 6)), Array.from(imageToTensor(img, base).data));
  assert.deepEqual(Array.from(t.data.subarray(6, 8)), [1, 1]); // white, (1 - 0.5) / 0.5
  assert.throws(() => imagesToBatch([], base), RangeError);
});
