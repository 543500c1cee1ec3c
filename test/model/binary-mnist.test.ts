// The real grayscale CNN of ../shared/models/binary-mnist (input [batch_size, 1, 28, 28], raw 0–255
// pixels, LogSoftmax output), opened from a temporary folder whose preprocess.json says one channel and
// raw pixels: `predict` over its 2,115 test digits reproduces the README's 99.91% (exactly 2 errors), and
// `gradsight explain` writes a Grad-CAM map equal to one computed by hand from `gradsight grad`'s
// activations and gradients of the same layer (the class score before LogSoftmax).

import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { predictImages } from '../../src/model/predict.ts';
import { readNpy } from '../../src/tensor/npy-node.ts';
import { runCli } from '../helpers/cli.ts';
import { sharedDir, skipNoShared } from '../helpers/shared.ts';

const modelDir = join(sharedDir, 'models', 'binary-mnist');
const testDir = join(sharedDir, 'data', 'binary-mnist', 'test');

describe('binary-mnist: a 1-channel model described by preprocess.json', { skip: skipNoShared }, () => {
  let dir = '';
  before(async () => {
    // The shared folder is read-only: a temporary model folder links its files and adds the description.
    dir = await mkdtemp(join(tmpdir(), 'gradsight-mnist-'));
    // Copies, not links: files of a model folder must resolve inside it (load-node.ts).
    for (const f of ['model.onnx', 'labels.txt']) await copyFile(join(modelDir, f), join(dir, f));
    await writeFile(
      join(dir, 'preprocess.json'),
      JSON.stringify({ channels: 1, scale: '0-255', mean: [0], std: [1], task: 'classification' }),
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('predict over the 2,115 test digits: 99.91% (2 errors), as the model README says', async (t) => {
    const files: { path: string; digit: string }[] = [];
    for (const digit of ['0', '1']) {
      const names = (await readdir(join(testDir, digit))).filter((n) => n.endsWith('.png')).sort();
      files.push(...names.map((n) => ({ path: join(testDir, digit, n), digit })));
    }
    assert.equal(files.length, 2115);
    const t0 = performance.now();
    const model = await openImageModel(dir);
    try {
      assert.deepEqual(model.inputDims(4), [4, 1, 28, 28]);
      const results = await predictImages(model, files, {
        decode: (f) => decodeImageFile(f.path),
        batch: 256,
        top: 1,
      });
      const wrong = results.filter(
        (r) => !('prediction' in r) || r.prediction.top[0]!.label !== r.source.digit,
      );
      const accuracy = 1 - wrong.length / files.length;
      t.diagnostic(
        `${files.length} images, ${wrong.length} errors (${wrong.map((r) => r.source.path.slice(testDir.length + 1)).join(', ')}), ` +
          `accuracy ${(accuracy * 100).toFixed(2)}%, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      assert.equal(wrong.length, 2);
      assert.equal((accuracy * 100).toFixed(2), '99.91');
    } finally {
      await model.release();
    }
  });

  test('explain writes a Grad-CAM map equal to the hand computation from grad outputs', async (t) => {
    const out = join(dir, 'out');
    const image = join(testDir, '0', '0003.png');
    const layer = '14'; // the second Relu, [N, 32, 7, 7]: the README's Grad-CAM layer
    const ex = await runCli([
      'explain',
      dir,
      image,
      '-m',
      'gradcam',
      '-l',
      layer,
      '--save-raw',
      '-q',
      '--out',
      join(out, 'ex'),
    ]);
    assert.equal(ex.code, 0, ex.stderr);
    const gr = await runCli([
      'grad',
      dir,
      '--image',
      image,
      '--wrt',
      layer,
      '--class',
      '0',
      '--out',
      join(out, 'grad'),
    ]);
    assert.equal(gr.code, 0, gr.stderr);

    const map = await readNpy(join(out, 'ex', '0003', 'gradcam_c0.npy'));
    assert.deepEqual(map.dims, [28, 28]);
    const a = await readNpy(join(out, 'grad', `${layer}.npy`));
    const g = await readNpy(join(out, 'grad', `${layer}.grad.npy`));
    assert.deepEqual(a.dims, [1, 32, 7, 7]);
    // Grad-CAM by hand: w_c = mean of dy/dA_c over the 7×7 plane; cam = relu(Σ_c w_c A_c); bilinear
    // upsampling with half-pixel centres to 28×28 (edges clamped); (x − min) / (max + 1e-7).
    const [c, h, w] = [32, 7, 7];
    const cam = new Float64Array(h * w);
    for (let k = 0; k < c; k++) {
      let mean = 0;
      for (let p = 0; p < h * w; p++) mean += Number(g.data[k * h * w + p]) / (h * w);
      for (let p = 0; p < h * w; p++) cam[p]! += mean * Number(a.data[k * h * w + p]);
    }
    for (let p = 0; p < cam.length; p++) cam[p] = Math.max(0, cam[p]!);
    assert.ok(Math.max(...cam) > 0, 'a non-empty map');
    const up = new Float64Array(28 * 28);
    const src = (i: number, n: number, m: number) => Math.min(Math.max((i + 0.5) * (n / m) - 0.5, 0), n - 1);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const sy = src(y, h, 28);
        const sx = src(x, w, 28);
        const [y0, x0] = [Math.floor(sy), Math.floor(sx)];
        const [y1, x1] = [Math.min(y0 + 1, h - 1), Math.min(x0 + 1, w - 1)];
        const [fy, fx] = [sy - y0, sx - x0];
        const at = (yy: number, xx: number) => cam[yy * w + xx]!;
        up[y * 28 + x] =
          (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
          fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
      }
    }
    const min = Math.min(...up);
    const max = Math.max(...up) - min;
    let worst = 0;
    for (let i = 0; i < up.length; i++) {
      worst = Math.max(worst, Math.abs((up[i]! - min) / (max + 1e-7) - Number(map.data[i])));
    }
    t.diagnostic(`max |diff| vs the hand Grad-CAM: ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-4, `explain's map vs the hand Grad-CAM: max |diff| ${worst}`);
  });
});
