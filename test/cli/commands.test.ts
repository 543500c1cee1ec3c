// inspect and predict through the CLI, as a user runs them: text and JSON output, on the tiny model
// (always) and on the shared MobileNetV2 (when ../shared is present).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { VERSION } from '../../src/version.ts';
import { runCli } from '../helpers/cli.ts';
import { imagePath, modelPath, repoRoot, skipNoShared } from '../helpers/shared.ts';
import { tinyCnn } from '../helpers/tiny-models.ts';

let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-cli-'));
  await writeFile(join(dir, 'tiny.onnx'), tinyCnn());
  await writeFile(join(dir, 'labels.txt'), 'red\ngreen\nblue\n');
  const img = (r: number, g: number, b: number) =>
    sharp({ create: { width: 8, height: 8, channels: 3, background: { r, g, b } } })
      .png()
      .toBuffer();
  await writeFile(join(dir, 'a.png'), await img(250, 10, 10));
  await writeFile(join(dir, 'b.png'), await img(10, 10, 250));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tiny model', () => {
  test('inspect --json names the default layer and preprocessing from the input shape', async () => {
    const r = await runCli(['inspect', join(dir, 'tiny.onnx'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(s.inputs, [{ name: 'input', dtype: 'float32', shape: ['batch', 3, 8, 8] }]);
    assert.deepEqual(s.outputs, [{ name: 'logits', dtype: 'float32', shape: ['batch', 3] }]);
    assert.equal(s.nodeCount, 5);
    assert.deepEqual(s.ops, { Conv: 1, Flatten: 1, Gemm: 1, GlobalAveragePool: 1, Relu: 1 });
    assert.deepEqual(
      s.layers.map((l: { name: string }) => l.name),
      ['conv', 'features'],
    );
    assert.equal(s.defaultLayer.name, 'features');
    assert.deepEqual(s.preprocess.size, [8, 8]);
    assert.equal(s.labels, 3);
  });
  test('predict reads labels.txt next to the model, probabilities sum to 1', async () => {
    const r = await runCli(['predict', join(dir, 'tiny.onnx'), dir, '--top', '3', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(
      out.results.map((x: { image: string }) => x.image),
      [join(dir, 'a.png'), join(dir, 'b.png')],
    );
    for (const res of out.results) {
      const top = res.prediction.top as { label: string; score: number }[];
      assert.deepEqual(top.map((c) => c.label).sort(), ['blue', 'green', 'red']);
      assert.ok(Math.abs(top.reduce((a, c) => a + c.score, 0) - 1) < 1e-5);
    }
  });
  test('--labels overrides, and a labels file of the wrong length is refused', async () => {
    await writeFile(join(dir, 'two.txt'), 'x\ny\n');
    const r = await runCli([
      'predict',
      join(dir, 'tiny.onnx'),
      join(dir, 'a.png'),
      '--labels',
      join(dir, 'two.txt'),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error\[bad-labels\]: the labels file has 2 lines but the model has 3 outputs/);
  });
  test('--version and --help', async () => {
    const v = await runCli(['--version']);
    assert.equal(v.stdout.trim(), VERSION);
    const h = await runCli(['predict', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /--top <k>/);
    assert.match(h.stdout, /--mean <r,g,b>/);
  });
});

describe('shared MobileNetV2', { skip: skipNoShared }, () => {
  const model = modelPath('mobilenet_v2_1.0_224_quant');
  test('predict text output', async () => {
    const r = await runCli(['predict', model, imagePath('cat.png'), imagePath('parrot.png'), '--top', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /cat\.png\n\s+1\.\s+78\.0% Egyptian cat \(286\)\n\s+2\./);
    assert.match(r.stdout, /parrot\.png\n\s+1\.\s+99\.8% macaw \(89\)/);
  });
  test('inspect text output marks the default layer', async () => {
    const r = await runCli(['inspect', model]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /MobilenetV2\/Conv_1\/Relu6 +\[batch, 1280, 7, 7\] +Clip ← default/);
    assert.match(r.stdout, /Conv ×53, Clip ×35, Add ×10, AveragePool ×1, Reshape ×1/);
  });
});

test('package.json version matches src/version.ts', async () => {
  const pkg = JSON.parse(
    await (await import('node:fs/promises')).readFile(join(repoRoot, 'package.json'), 'utf8'),
  );
  assert.equal(pkg.version, VERSION);
});

test('the built bin runs (after npm run build)', {
  skip: !existsSync(join(repoRoot, 'dist', 'cli', 'main.js')) && 'dist/ not built',
}, async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(
    process.execPath,
    [join(repoRoot, 'bin', 'gradsight.js'), 'inspect', join(dir, 'tiny.onnx'), '--json'],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).defaultLayer.name, 'features');
});
