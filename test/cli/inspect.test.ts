// gradsight inspect shows what the file declares: an image input of height −5 or 0 is printed as
// such with a warning (it used to show as 224), and an absurd IR version is a typed error (it printed
// IR -9223372036854776000). `layers --class` out of range is a typed error, not NaN% kept.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { runCli } from '../helpers/cli.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { seededValues, tinyCnn } from '../helpers/tiny-models.ts';
import { writeBmp } from '../image/bmp-writer.ts';

let dir = '';
const cnn = (h: number, w: number) =>
  buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['N', 3, h, w] }],
    outputs: [{ name: 'logits', shape: ['N', 3] }],
    initializers: [
      { name: 'cw', dims: [4, 3, 3, 3], values: seededValues(108, 1) },
      { name: 'fw', dims: [3, 4], values: seededValues(12, 3) },
    ],
    nodes: [
      { op: 'Conv', inputs: ['input', 'cw'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c'], outputs: ['features'] },
      { op: 'GlobalAveragePool', inputs: ['features'], outputs: ['p'] },
      { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'fw'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-inspect-'));
  await writeFile(join(dir, 'neg.onnx'), cnn(-5, -5));
  await writeFile(join(dir, 'zero.onnx'), cnn(0, 16));
  const proto = fromBinary(ModelProtoSchema, tinyCnn());
  proto.irVersion = 2n ** 63n - 1n;
  await writeFile(join(dir, 'ir.onnx'), toBinary(ModelProtoSchema, proto));
  await writeFile(join(dir, 'tiny.onnx'), tinyCnn());
  const pixels = Array.from({ length: 64 * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 53) % 256));
  await writeFile(join(dir, 'photo.bmp'), writeBmp(8, 8, pixels, { bpp: 24 }));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('inspect', () => {
  test('an input height of −5 is shown as −5, with a warning', async () => {
    const r = await runCli(['inspect', join(dir, 'neg.onnx')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /input {2}float32 \[N, 3, -5, -5\]/);
    assert.match(
      r.stdout,
      /warning: input input declares dim 2 as -5, which is not a valid size; the input is fed at 224×224/,
    );
    assert.match(r.stdout, /declares dim 3 as -5/);
    const json = JSON.parse((await runCli(['inspect', join(dir, 'neg.onnx'), '--json'])).stdout);
    assert.deepEqual(json.inputs[0].shape, ['N', 3, -5, -5]);
    assert.equal(json.warnings.length, 2);
  });

  test('an input height of 0 is shown as 0, with a warning; the valid width is not flagged', async () => {
    const r = await runCli(['inspect', join(dir, 'zero.onnx'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.deepEqual(json.inputs[0].shape, ['N', 3, 0, 16]);
    assert.deepEqual(json.warnings, [
      'input input declares dim 2 as 0, which is not a valid size; the input is fed at 224×16 (--size to choose)',
    ]);
  });

  test('a valid model has no warnings and its declared input', async () => {
    const json = JSON.parse((await runCli(['inspect', join(dir, 'tiny.onnx'), '--json'])).stdout);
    assert.deepEqual(json.warnings, []);
    assert.deepEqual(json.inputs[0].shape, ['batch', 3, 8, 8]);
  });

  test('an IR version of 2^63 − 1 is a typed error naming it, not a negative number', async () => {
    const r = await runCli(['inspect', join(dir, 'ir.onnx')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error\[model-(invalid|corrupt)\].*9223372036854775807/);
    assert.doesNotMatch(r.stdout + r.stderr, /-9223372036854776000/);
  });
});

describe('layers --class', () => {
  test('a class out of range is a typed error before any ranking', async () => {
    const r = await runCli([
      'layers',
      join(dir, 'tiny.onnx'),
      '--image',
      join(dir, 'photo.bmp'),
      '--class',
      '99999',
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.doesNotMatch(r.stdout, /NaN/);
    assert.match(r.stderr, /error\[bad-argument\]: class 99999 is out of range: the model has 3 outputs/);
    const ok = await runCli([
      'layers',
      join(dir, 'tiny.onnx'),
      '--image',
      join(dir, 'photo.bmp'),
      '--class',
      '2',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /\d+% kept/);
    assert.doesNotMatch(ok.stdout, /NaN/);
  });
});
