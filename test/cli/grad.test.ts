// gradsight grad through the CLI: files and names, numbers against the PyTorch references (same
// input.npy), seeds from a file, and its typed errors.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeNpy, encodeNpy } from '../../src/tensor/npy.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { runCli } from '../helpers/cli.ts';
import { relError } from '../helpers/grad-run.ts';
import { readReference } from '../helpers/reference.ts';
import { modelPath, sharedDir, skipNoShared } from '../helpers/shared.ts';
import { seededValues, tinyCnn } from '../helpers/tiny-models.ts';

let dir = '';
const readOut = async (...p: string[]): Promise<Tensor> => decodeNpy(await readFile(join(dir, ...p)));

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-grad-'));
  await writeFile(join(dir, 'tiny.onnx'), tinyCnn());
  await writeFile(
    join(dir, 'x.npy'),
    encodeNpy({ dtype: 'float32', dims: [2, 3, 8, 8], data: Float32Array.from(seededValues(384, 9)) }),
  );
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tiny model', () => {
  test('writes value and gradient per tensor plus logits; --class and --seed agree', async () => {
    const a = await runCli([
      'grad',
      join(dir, 'tiny.onnx'),
      '--input',
      join(dir, 'x.npy'),
      '--wrt',
      'input,features',
      '--class',
      '2',
      '--out',
      join(dir, 'a'),
      '--json',
    ]);
    assert.equal(a.code, 0, a.stderr);
    const summary = JSON.parse(a.stdout);
    assert.deepEqual(summary.classes, [2, 2]);
    assert.deepEqual(
      summary.files.map((f: { value: string; grad: string }) => [f.value, f.grad]),
      [
        ['input.npy', 'input.grad.npy'],
        ['features.npy', 'features.grad.npy'],
      ],
    );
    const logits = await readOut('a', 'logits.npy');
    assert.deepEqual(logits.dims, [2, 3]);
    const gFeat = await readOut('a', 'features.grad.npy');
    assert.deepEqual(gFeat.dims, [2, 4, 8, 8]);
    // features → GlobalAveragePool (8×8) → Gemm(transB): d logit_2 / d features[k, i, j] = W[2, k] / 64.
    const w = seededValues(12, 3);
    for (let k = 0; k < 4; k++) {
      assert.ok(Math.abs(Number(gFeat.data[k * 64 + 5]) - Math.fround(w[8 + k]!) / 64) < 1e-7);
    }
    // The same gradient from an explicit seed file.
    const seed = new Float32Array(6);
    seed[2] = 1;
    seed[5] = 1;
    await writeFile(join(dir, 's.npy'), encodeNpy({ dtype: 'float32', dims: [2, 3], data: seed }));
    const b = await runCli([
      'grad',
      join(dir, 'tiny.onnx'),
      '--input',
      join(dir, 'x.npy'),
      '--wrt',
      'input',
      '--seed',
      join(dir, 's.npy'),
      '--out',
      join(dir, 'b'),
    ]);
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(
      (await readOut('b', 'input.grad.npy')).data,
      (await readOut('a', 'input.grad.npy')).data,
    );
  });
  test('typed errors', async () => {
    const base = ['grad', join(dir, 'tiny.onnx'), '--input', join(dir, 'x.npy'), '--out', join(dir, 'c')];
    const cases: [string[], string, RegExp][] = [
      [['--wrt', 'featurs'], 'tensor-not-found', /features/],
      [['--wrt', 'input', '--class', '3'], 'bad-argument', /out of range: the target has 3 outputs/],
      [['--wrt', 'input', '--rule', 'fancy'], 'bad-argument', /standard, guided, deconvnet/],
      [
        ['--wrt', 'input', '--seed', join(dir, 'x.npy')],
        'bad-argument',
        /seed has shape \[2, 3, 8, 8\], expected \[2, 3\]/,
      ],
    ];
    for (const [extra, code, msg] of cases) {
      const r = await runCli([...base, ...extra]);
      assert.equal(r.code === 1 || r.code === 2, true, r.stderr);
      assert.match(r.stderr, new RegExp(`error\\[${code}\\]`));
      assert.match(r.stderr, msg);
    }
    const both = await runCli(['grad', join(dir, 'tiny.onnx'), '--wrt', 'input', '--out', join(dir, 'd')]);
    assert.match(both.stderr, /error\[bad-argument\]: give either --image/);
  });
});

describe('shared models against PyTorch', { skip: skipNoShared }, () => {
  test('MobileNetV2 cat: dA_last and the guided input gradient', async () => {
    const m = 'mobilenet_v2_1.0_224_quant';
    const input = join(sharedDir, 'reference', m, 'cat', 'input.npy');
    const layer = 'MobilenetV2/Conv_1/Relu6';
    const r = await runCli([
      'grad',
      modelPath(m),
      '--input',
      input,
      '--wrt',
      layer,
      '--class',
      '286',
      '--out',
      join(dir, 'm'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = await readOut('m', 'MobilenetV2_Conv_1_Relu6.grad.npy');
    const ref = readReference(`${m}/cat/dA_last_c286.npy`);
    assert.deepEqual(got.dims, [1, ...ref.dims]);
    assert.ok(relError(got.data as Float32Array, ref.data as Float32Array) <= 1e-4);
    const g = await runCli([
      'grad',
      modelPath(m),
      '--input',
      input,
      '--wrt',
      'input',
      '--class',
      '286',
      '--rule',
      'guided',
      '--out',
      join(dir, 'g'),
    ]);
    assert.equal(g.code, 0, g.stderr);
    const gb = readReference(`${m}/cat/guided-backprop_c286.npy`);
    assert.ok(
      relError((await readOut('g', 'input.grad.npy')).data as Float32Array, gb.data as Float32Array) <= 1e-4,
    );
  });
});
