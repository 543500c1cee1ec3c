// predict on the shared real models and photos against VERIFY.md (PyTorch / ONNX Runtime top-1), and
// rankOutput on hand-made outputs.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { imagesToBatch } from '../../src/image/preprocess.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { rankOutput } from '../../src/model/predict.ts';
import { float32 } from '../../src/tensor/tensor.ts';
import { imagePath, modelPath, skipNoShared } from '../helpers/shared.ts';
import { readTop1Table } from '../helpers/verify-table.ts';

describe('predict on the shared models matches VERIFY.md top-1', { skip: skipNoShared }, () => {
  const rows = skipNoShared ? [] : readTop1Table();
  const models = [...new Set(rows.map((r) => r.model))];
  test('VERIFY.md lists 4 models × 13 images', () => {
    assert.equal(models.length, 4);
    assert.equal(rows.length, 52);
  });
  for (const name of models) {
    test(name, async (t) => {
      const model = await openImageModel(modelPath(name));
      try {
        const mine = rows.filter((r) => r.model === name);
        const imgs = await Promise.all(mine.map((r) => decodeImageFile(imagePath(r.image))));
        // Two images per run keeps DeepLab's 513×513 batch small.
        for (let i = 0; i < mine.length; i += 2) {
          const preds = await model.predict(imagesToBatch(imgs.slice(i, i + 2), model.preprocess), 1);
          for (const [j, pred] of preds.entries()) {
            const row = mine[i + j]!;
            const top = pred.top[0]!;
            t.diagnostic(`${row.image}: ${top.label} ${top.score.toFixed(4)} (VERIFY ${row.label} ${row.p})`);
            assert.equal(top.label, row.label, `${name} ${row.image}`);
            assert.ok(
              Math.abs(top.score - row.p) <= 2e-3,
              `${name} ${row.image}: p ${top.score} vs ${row.p}`,
            );
          }
        }
      } finally {
        await model.release();
      }
    });
  }
});

describe('rankOutput', () => {
  test('softmax probabilities and logits, ties keep the lower index', () => {
    const out = float32(new Float32Array([0, Math.log(3), 0, Math.log(3)]), [1, 4]);
    const [p] = rankOutput(out, { top: 3, labels: ['a', 'b', 'c', 'd'], outputIsProbability: false });
    assert.deepEqual(
      p!.top.map((c) => c.index),
      [1, 3, 0],
    );
    assert.ok(Math.abs(p!.top[0]!.score - 3 / 8) < 1e-6);
    assert.equal(p!.top[0]!.label, 'b');
    assert.ok(Math.abs(p!.top[0]!.logit! - Math.log(3)) < 1e-6);
  });
  test('a Softmax output is used as is', () => {
    const out = float32(new Float32Array([0.2, 0.7, 0.1, 0.5, 0.25, 0.25]), [2, 3]);
    const ps = rankOutput(out, { top: 1, labels: undefined, outputIsProbability: true });
    assert.equal(ps[0]!.top[0]!.index, 1);
    assert.ok(Math.abs(ps[0]!.top[0]!.score - 0.7) < 1e-6);
    assert.equal(ps[1]!.top[0]!.label, 'class 0');
  });
  test('dense [N,C,H,W] output ranks classes by pixel share of the argmax', () => {
    // 2 classes, 2×2 pixels: class 1 wins 3 of 4 pixels.
    const out = float32(new Float32Array([5, 0, 0, 0, 1, 1, 1, 1]), [1, 2, 2, 2]);
    const [p] = rankOutput(out, { top: 5, labels: ['bg', 'cat'], outputIsProbability: false });
    assert.equal(p!.kind, 'segmentation');
    assert.deepEqual(
      p!.top.map((c) => [c.label, c.score]),
      [
        ['cat', 0.75],
        ['bg', 0.25],
      ],
    );
  });
});
