// The CLI's bounds: --target top:K above the class count and more targets per image than
// --max-targets are typed errors (top:99999 used to make one map per class, 2.1 GB for MobileNetV2),
// and --size above --max-input-pixels (16 MP by default) is refused before anything is allocated
// (20000x20000 on a model with free H and W exhausted memory; 100000x100000 was an internal error).

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeNpy } from '../../src/tensor/npy.ts';
import { runCli } from '../helpers/cli.ts';
import { imagePath, modelPath, skipNoShared } from '../helpers/shared.ts';
import { dynamicCnn, seededValues, tinyCnn } from '../helpers/tiny-models.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-bounds-'));
  await writeFile(join(dir, 'dynamic.onnx'), dynamicCnn());
  await writeFile(join(dir, 'static.onnx'), tinyCnn());
  await writeFile(
    join(dir, 'x.npy'),
    encodeNpy({ dtype: 'float32', dims: [1, 3, 8, 8], data: Float32Array.from(seededValues(192, 4)) }),
  );
  await writeFile(
    join(dir, 'x2.npy'),
    encodeNpy({ dtype: 'float32', dims: [2, 3, 8, 8], data: Float32Array.from(seededValues(384, 5)) }),
  );
});
after(() => rm(dir, { recursive: true, force: true }));

/** Asserts a typed error (not internal-error, exit 1 or 2) with a hint matching `hint`. */
function typed(r: Awaited<ReturnType<typeof runCli>>, code: string, hint: RegExp) {
  assert.equal(r.timedOut, false);
  assert.ok(r.code === 1 || r.code === 2, `exit ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`error\\[${code}\\]`), r.stderr);
  assert.doesNotMatch(r.stderr, /internal-error/);
  assert.match(r.stderr, hint, r.stderr);
}

describe('targets per image', () => {
  const explain = (...args: string[]) =>
    runCli([
      'explain',
      join(dir, 'static.onnx'),
      '--input',
      join(dir, 'x.npy'),
      '-q',
      '--no-report',
      ...args,
    ]);

  test('top:99999 on a 3-class model is a bad-argument naming the class count', async () => {
    const r = await explain('-o', join(dir, 'o1'), '-t', 'top:99999');
    typed(r, 'bad-argument', /1 to 3/);
    assert.match(r.stderr, /top:99999.*\(3\)/);
  });

  test('more targets than --max-targets is refused; raising it explains them all', async () => {
    const r = await explain('-o', join(dir, 'o2'), '-t', 'top:3', '--max-targets', '2');
    typed(r, 'bad-argument', /--max-targets 3/);
    const ok = await explain('-o', join(dir, 'o3'), '-t', 'top:3', '--max-targets', '3', '--json');
    assert.equal(ok.code, 0, ok.stderr);
    const results = JSON.parse(await readFile(join(dir, 'o3', 'results.json'), 'utf8'));
    assert.deepEqual(
      results.images[0].explanations.map((e: { target: { index: number } }) => e.target.index).sort(),
      [0, 1, 2],
    );
  });

  test('--max-targets takes a positive whole number', async () => {
    typed(await explain('-o', join(dir, 'o4'), '--max-targets', '0'), 'bad-argument', /--max-targets/);
  });

  test('grad bounds its rows too', async () => {
    const r = await runCli([
      'grad',
      join(dir, 'static.onnx'),
      '--input',
      join(dir, 'x2.npy'),
      '--wrt',
      'input',
      '-t',
      'top:4',
      '--out',
      join(dir, 'g1'),
    ]);
    typed(r, 'bad-argument', /1 to 3/);
  });
});

describe('targets per image on MobileNetV2 (1001 classes)', { skip: skipNoShared }, () => {
  const mobilenet = () => modelPath('mobilenet_v2_1.0_224_quant');
  test('top:99999 and top:101 are refused before any map is made', async () => {
    const out = join(dir, 'o-mnv2');
    const t0 = performance.now();
    const huge = await runCli([
      'explain',
      mobilenet(),
      imagePath('cat.png'),
      '-t',
      'top:99999',
      '-q',
      '-o',
      out,
    ]);
    typed(huge, 'bad-argument', /1 to 1001/);
    const many = await runCli([
      'explain',
      mobilenet(),
      imagePath('cat.png'),
      '-t',
      'top:101',
      '-q',
      '-o',
      out,
    ]);
    typed(many, 'bad-argument', /--max-targets 101/);
    assert.ok(performance.now() - t0 < 60_000);
  });
});

describe('input pixels', () => {
  for (const size of ['20000x20000', '100000x100000', '1048576x1048576']) {
    test(`--size ${size} on a model with free H and W is refused from the flag`, async () => {
      const t0 = performance.now();
      const r = await runCli(['inspect', join(dir, 'dynamic.onnx'), '--size', size]);
      typed(r, 'bad-argument', /--max-input-pixels/);
      assert.match(r.stderr, new RegExp(size.replace('x', '×')));
      assert.ok(performance.now() - t0 < 30_000);
    });
  }

  test('explain, grad, layers, inspect and compile take --max-input-pixels', async () => {
    const big = ['--size', '4097x4096'];
    const model = join(dir, 'dynamic.onnx');
    for (const args of [
      ['explain', model, '--input', join(dir, 'x.npy'), '-o', join(dir, 'o5'), ...big],
      ['grad', model, '--input', join(dir, 'x.npy'), '--wrt', 'input', '--out', join(dir, 'g2'), ...big],
      ['layers', model, ...big],
      ['inspect', model, ...big],
      ['compile', model, '--method', 'gradcam', '-o', join(dir, 'e.onnx'), ...big],
    ]) {
      typed(await runCli(args), 'bad-argument', /--max-input-pixels 16781312/);
    }
    // An --input tensor sets the size of a model with free H, W: the bound names the tensor.
    const x300 = join(dir, 'x300.npy');
    await writeFile(
      x300,
      encodeNpy({ dtype: 'float32', dims: [1, 3, 300, 300], data: new Float32Array(270000) }),
    );
    const t = await runCli([
      'explain',
      model,
      '--input',
      x300,
      '-q',
      '-o',
      join(dir, 'o6'),
      '--max-input-pixels',
      '60000',
    ]);
    typed(t, 'bad-argument', /--max-input-pixels 90000/);
    assert.match(t.stderr, /the input tensor is 300×300 = 90000 pixels/);
    const r = await runCli(['inspect', model, '--size', '300x200', '--max-input-pixels', '60000', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).preprocess.size, [300, 200]);
    typed(
      await runCli(['inspect', model, '--size', '300x200', '--max-input-pixels', '59999']),
      'bad-argument',
      /--max-input-pixels 60000/,
    );
  });
});
