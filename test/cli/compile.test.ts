// gradsight compile end to end: the written file runs in plain onnxruntime-node and gives the map the
// library's explain() gives; the text and JSON descriptions; typed errors; atomic writes.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { runCli } from '../helpers/cli.ts';
import { explainerFor } from '../helpers/hand-models.ts';
import { modelPath, skipNoShared } from '../helpers/shared.ts';
import { seededValues, tinyStridedCnn } from '../helpers/tiny-models.ts';

let dir = '';
const tiny = () => join(dir, 'tiny.onnx');
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-compile-'));
  await writeFile(tiny(), tinyStridedCnn());
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tiny model', () => {
  test('guided-gradcam file: described, runs in plain ORT, equals explain()', async () => {
    const out = join(dir, 'sub', 'explainer.onnx');
    const r = await runCli(['compile', tiny(), '--method', 'guided-gradcam', '-o', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.output, out);
    assert.equal(s.method, 'guided-gradcam');
    assert.deepEqual(s.layers, ['features2']);
    assert.deepEqual(
      s.inputs.map((i: { name: string; dtype: string; shape: unknown[] }) => [i.name, i.dtype, i.shape]),
      [
        ['input', 'float32', ['batch', 3, 14, 14]],
        ['class_index', 'int64', ['batch']],
      ],
    );
    assert.deepEqual(
      s.outputs.map((o: { name: string }) => o.name),
      ['logits', 'map', 'pixels'],
    );
    // No temp file left behind.
    assert.deepEqual(await readdir(join(dir, 'sub')), ['explainer.onnx']);

    const data = Float32Array.from(seededValues(2 * 3 * 14 * 14, 31));
    const session = await ort.InferenceSession.create(out);
    const res = await session.run({
      input: new ort.Tensor('float32', data, [2, 3, 14, 14]),
      class_index: new ort.Tensor('int64', BigInt64Array.of(1n, 2n), [2]),
    });
    await session.release();
    assert.deepEqual(res.map!.dims, [2, 14, 14]);
    assert.deepEqual(res.pixels!.dims, [2, 3, 14, 14]);

    const ex = await explainerFor(tinyStridedCnn());
    try {
      for (const [i, c] of [1, 2].entries()) {
        const input = {
          dtype: 'float32' as const,
          dims: [1, 3, 14, 14],
          data: data.slice(i * 588, (i + 1) * 588),
        };
        const e = await ex.explain(input, {
          method: ['gradcam', 'guided-gradcam'],
          target: { kind: 'class', index: c },
        });
        const map = e.explanations.find((x) => x.method === 'gradcam')!.map!;
        const pixels = e.explanations.find((x) => x.method === 'guided-gradcam')!.pixels!;
        const gotMap = (res.map!.data as Float32Array).subarray(i * 196, (i + 1) * 196);
        const gotPixels = (res.pixels!.data as Float32Array).subarray(i * 588, (i + 1) * 588);
        assert.ok(maxAbsDiff(gotMap, map) <= 1e-4, `map ${i}: ${maxAbsDiff(gotMap, map)}`);
        assert.ok(maxAbsDiff(gotPixels, pixels) <= 1e-4, `pixels ${i}: ${maxAbsDiff(gotPixels, pixels)}`);
        assert.ok(Math.max(...map) > 0.99, 'normalised map reaches 1');
      }
    } finally {
      await ex.release();
    }
  });

  test('text output names the inputs, outputs, preprocessing and how to call the file', async () => {
    const out = join(dir, 'hires.onnx');
    const r = await runCli([
      'compile',
      tiny(),
      '--method',
      'hirescam',
      '--layer',
      'features1,features2',
      '--seed-input',
      'seed',
      '--counterfactual',
      '--profile',
      'web',
      '-o',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote .*hires\.onnx: hirescam \(counterfactual\) at features1, features2/);
    assert.match(r.stdout, /seed {2}float32 \[batch, 3\]/);
    assert.match(r.stdout, /map {2}float32 \[batch, 14, 14\]/);
    assert.match(r.stdout, /the image: RGB NCHW, resized to 14x14/);
    assert.match(r.stdout, /ort\.InferenceSession\.create\("hires\.onnx"\)/);
  });

  test('typed errors: unknown method, uncompilable method, unknown layer, bad flag', async () => {
    const out = join(dir, 'never.onnx');
    const unknown = await runCli(['compile', tiny(), '--method', 'gradkam', '-o', out]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /error\[bad-argument\]: unknown method "gradkam"/);
    assert.match(
      unknown.stderr,
      /hint: compilable methods: gradcam, guided-backprop, guided-gradcam, hirescam, gradcam-elementwise, xgradcam, layercam, deconvnet/,
    );
    const scorecam = await runCli(['compile', tiny(), '--method', 'scorecam', '-o', out]);
    assert.equal(scorecam.code, 1);
    assert.match(scorecam.stderr, /error\[method-not-applicable\]: scorecam cannot be compiled/);
    const layer = await runCli(['compile', tiny(), '--method', 'gradcam', '--layer', 'feature2', '-o', out]);
    assert.equal(layer.code, 1);
    assert.match(layer.stderr, /error\[layer-not-found\].*\n.*features2/);
    const flag = await runCli([
      'compile',
      tiny(),
      '--method',
      'gradcam',
      '--seed-input',
      'onehot',
      '-o',
      out,
    ]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--seed-input must be one of class, seed/);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.includes('never')),
      [],
    );
  });
});

describe('MobileNetV2', { skip: skipNoShared }, () => {
  test('default layer, Grad-CAM of two classes in one run', async () => {
    const out = join(dir, 'mnv2.onnx');
    const r = await runCli(
      ['compile', modelPath('mobilenet_v2_1.0_224_quant'), '--method', 'gradcam', '-o', out, '--json'],
      { timeoutMs: 120_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).layers, ['MobilenetV2/Conv_1/Relu6']);
    const session = await ort.InferenceSession.create(out);
    const data = Float32Array.from(seededValues(2 * 3 * 224 * 224, 7), (v) => v * 0.5);
    const res = await session.run({
      input: new ort.Tensor('float32', data, [2, 3, 224, 224]),
      class_index: new ort.Tensor('int64', BigInt64Array.of(282n, 9n), [2]),
    });
    await session.release();
    assert.deepEqual(res.logits!.dims, [2, 1001]);
    const map = res.map!.data as Float32Array;
    for (let i = 0; i < 2; i++) {
      const row = map.subarray(i * 224 * 224, (i + 1) * 224 * 224);
      assert.ok(Math.abs(row.reduce((m, v) => Math.max(m, v), 0) - 1) < 1e-5, 'per-image max 1');
      assert.equal(
        row.reduce((m, v) => Math.min(m, v), 1),
        0,
      );
    }
  });
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
