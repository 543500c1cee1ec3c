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
  /** `gradsight grad` of the tiny model's input gradient into `name`/, with the extra flags. */
  const inputGrad = async (name: string, ...flags: string[]) => {
    const r = await runCli([
      'grad',
      join(dir, 'tiny.onnx'),
      '--input',
      join(dir, 'x.npy'),
      '--wrt',
      'input',
      ...flags,
      '--out',
      join(dir, name),
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    return { summary: JSON.parse(r.stdout), grad: await readOut(name, 'input.grad.npy') };
  };

  test('-t prob:c is the chain rule over the logit gradients: p_c (∇z_c − Σ_j p_j ∇z_j)', async () => {
    const prob = await inputGrad('p1', '-t', 'prob:1');
    assert.equal(prob.summary.explained, 'gradsight/head/softmax/Softmax_0');
    const z = [0, 1, 2].map(() => undefined as unknown as Tensor);
    for (const c of [0, 1, 2]) z[c] = (await inputGrad(`z${c}`, '--class', String(c))).grad;
    const logits = await readOut('z0', 'logits.npy');
    const size = 3 * 8 * 8;
    let worst = 0;
    let scale = 0;
    for (let b = 0; b < 2; b++) {
      const l = [0, 1, 2].map((k) => Number(logits.data[b * 3 + k]));
      const m = Math.max(...l);
      const e = l.map((v) => Math.exp(v - m));
      const p = e.map((v) => v / e.reduce((a, x) => a + x, 0));
      for (let i = 0; i < size; i++) {
        const g = (k: number) => Number(z[k]!.data[b * size + i]);
        const want = p[1]! * (g(1) - (p[0]! * g(0) + p[1]! * g(1) + p[2]! * g(2)));
        worst = Math.max(worst, Math.abs(Number(prob.grad.data[b * size + i]) - want));
        scale = Math.max(scale, Math.abs(want));
      }
    }
    assert.ok(scale > 1e-4, 'a zero gradient proves nothing');
    assert.ok(worst / scale < 1e-4, `max |Δ| ${worst} of ${scale}`);
  });

  test('-t top:2 gives two rows per image, in rank order, and counterfactual negates them', async () => {
    const top = await inputGrad('t2', '-t', 'top:2');
    assert.deepEqual(
      top.summary.rows.map((r: { image: number }) => r.image),
      [0, 0, 1, 1],
    );
    const g = top.grad;
    assert.deepEqual(g.dims, [4, 3, 8, 8]);
    const gcf = (await inputGrad('t2cf', '-t', 'top:2', '--counterfactual')).grad;
    for (let i = 0; i < g.data.length; i++) assert.equal(Number(gcf.data[i]), -Number(g.data[i]));
  });

  test('typed errors', async () => {
    const base = ['grad', join(dir, 'tiny.onnx'), '--input', join(dir, 'x.npy'), '--out', join(dir, 'c')];
    const cases: [string[], string, RegExp][] = [
      [['--wrt', 'featurs'], 'tensor-not-found', /features/],
      [
        ['--wrt', 'input', '--class', '3'],
        'bad-argument',
        /class 3 is out of range: the model has 3 outputs \(0 to 2\)/,
      ],
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
