// Non-finite numbers through the CLI: a NaN in an --input tensor is error[non-finite] (it used to exit
// 0 with top-1 "class 0" and a null score); a model whose weights are NaN still writes its results,
// with the diagnostic in results.json, the report and predict's output instead of a bogus ranking.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeNpy } from '../../src/tensor/npy.ts';
import { runCli } from '../helpers/cli.ts';
import { gapModel } from '../helpers/hand-models.ts';
import { seededValues, tinyCnn } from '../helpers/tiny-models.ts';
import { writeBmp } from '../image/bmp-writer.ts';

let dir = '';
const npy = (data: Float32Array) => encodeNpy({ dtype: 'float32', dims: [1, 3, 8, 8], data });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-non-finite-'));
  await writeFile(join(dir, 'tiny.onnx'), tinyCnn());
  const fc = [
    [1, 0.5, -1],
    [Number.NaN, 1, 0],
  ];
  await writeFile(join(dir, 'nan-weight.onnx'), gapModel({ fc, size: 8 }));
  const x = Float32Array.from(seededValues(192, 7));
  await writeFile(join(dir, 'x.npy'), npy(x));
  const nan = x.slice();
  nan[100] = Number.NaN;
  await writeFile(join(dir, 'nan.npy'), npy(nan));
  const inf = x.slice();
  inf[3] = Number.NEGATIVE_INFINITY;
  await writeFile(join(dir, 'inf.npy'), npy(inf));
  const pixels = Array.from({ length: 64 * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 29) % 256));
  await writeFile(join(dir, 'photo.bmp'), writeBmp(8, 8, pixels, { bpp: 24 }));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('a non-finite --input', () => {
  for (const [file, value, index] of [
    ['nan.npy', 'NaN', 100],
    ['inf.npy', '-Infinity', 3],
  ] as const) {
    test(`explain and grad on ${file}: error[non-finite] naming the value and where`, async () => {
      const e = await runCli([
        'explain',
        join(dir, 'tiny.onnx'),
        '--input',
        join(dir, file),
        '-q',
        '-o',
        join(dir, `o-${file}`),
      ]);
      assert.equal(e.code, 1, e.stderr);
      assert.match(
        e.stderr,
        new RegExp(`error\\[non-finite\\]: the input tensor holds ${value} at flat index ${index}`),
      );
      const g = await runCli([
        'grad',
        join(dir, 'tiny.onnx'),
        '--input',
        join(dir, file),
        '--wrt',
        'input',
        '--out',
        join(dir, `g-${file}`),
      ]);
      assert.equal(g.code, 1, g.stderr);
      assert.match(g.stderr, /error\[non-finite\]/);
    });
  }
});

describe('a model with a NaN weight', () => {
  test('explain: results.json and the report carry the diagnostic, no NaN scores', async () => {
    const out = join(dir, 'o-nan-weight');
    const r = await runCli([
      'explain',
      join(dir, 'nan-weight.onnx'),
      '--input',
      join(dir, 'x.npy'),
      '-t',
      '0',
      '-q',
      '-o',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    const image = results.images[0];
    assert.equal(image.predictionDiagnostic.code, 'non-finite');
    assert.match(image.predictionDiagnostic.message, /1 of 2/);
    assert.deepEqual(image.predictions, []);
    // Class 0's logit is finite; its gradient is NaN (0 × NaN in the Gemm's backward): diagnosed.
    assert.equal(image.explanations[0].diagnostic.code, 'non-finite');
    const html = await readFile(join(out, 'report.html'), 'utf8');
    assert.match(html, /the model output holds NaN or infinite values \(1 of 2\)/);
  });
});

describe('predict on a model with a NaN weight', () => {
  test('prints the diagnostic instead of a ranking; --json carries it', async () => {
    const r = await runCli(['predict', join(dir, 'nan-weight.onnx'), join(dir, 'photo.bmp')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /warning: the model output holds NaN or infinite values \(1 of 2\)/);
    assert.doesNotMatch(r.stdout, /NaN%|null/);
    const j = await runCli(['predict', join(dir, 'nan-weight.onnx'), join(dir, 'photo.bmp'), '--json']);
    assert.equal(j.code, 0, j.stderr);
    assert.match(j.stdout, /"non-finite"/);
  });
});

describe('images and --input together', () => {
  test('explain refuses them instead of ignoring the images', async () => {
    const r = await runCli([
      'explain',
      join(dir, 'tiny.onnx'),
      join(dir, 'photo.png'),
      '--input',
      join(dir, 'x.npy'),
      '-q',
      '-o',
      join(dir, 'o-both'),
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /error\[bad-argument\]: give images or --input .*x\.npy, not both \(1 image given\)/,
    );
    assert.match(r.stderr, /hint:/);
  });
});
