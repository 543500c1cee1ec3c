// A real recurrent captioner export (PyTorch CNN + 2-layer GRU, the autodiff fixture): described as a
// captioning model, its default layer is the image's last feature map, not the GRU output the tokens
// reach (rank 4 too, [T, 1, N, H]); greedy decoding runs; each word's input gradient through the
// unrolled GRU equals central differences of its log-probability computed by ONNX Runtime.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Explainer } from '../../src/explain/explainer.ts';
import { targetGradients } from '../../src/explain/gradients.ts';
import { greedyCaptions } from '../../src/explain/language.ts';
import type { ImageModel } from '../../src/model/image-model.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { repoRoot } from '../helpers/shared.ts';
import { seededValues } from '../helpers/tiny-models.ts';
import { openLanguageModel } from '../targets/language-fixtures.ts';

const VOCAB = ['<pad>', '<bos>', '<eos>', 'a', 'red', 'blue', 'circle', 'square', 'left'];
const image: Float32Tensor = {
  dtype: 'float32',
  dims: [1, 3, 12, 12],
  data: Float32Array.from(seededValues(432, 9).map((v) => v * 2)),
};

/** The fixture as a captioning model; `extra` adds description keys. */
const open = (extra: Record<string, unknown> = {}) => {
  const bytes = readFileSync(join(repoRoot, 'test', 'autodiff', 'fixtures', 'captioner-gru2.onnx'));
  return openLanguageModel(bytes, { task: 'captioning', maxLength: 5, ...extra }, VOCAB);
};

describe('a recurrent captioner export', () => {
  let model: ImageModel;
  before(async () => {
    model = await open();
  });
  after(async () => model.release());

  test("the default layer is the image's feature map, not the GRU output the tokens reach", async () => {
    assert.equal((await model.defaultLayer()).name, '/enc/Relu_1_output_0');
    assert.ok(
      (await model.layers()).some((l) => l.name === '/rnn/GRU_1_output_0'),
      'the GRU output is a candidate',
    );
  });

  test('each word: explained, and its input gradient equals central differences of its log-probability', async () => {
    const { ids, feed } = await greedyCaptions(model, image);
    assert.ok(ids[0]!.length >= 1, 'a caption of at least one word');
    const ex = Explainer.fromModel(model);
    const r = await ex.explain(image, { method: ['gradcam', 'guided-gradcam'] });
    assert.equal(r.explanations.length, 2 * ids[0]!.length);
    assert.ok(r.explanations.every((e) => (e.map ?? e.pixels)!.every(Number.isFinite)));
    const tokens = Array.from(feed.data as BigInt64Array, Number);
    const word = 1;
    const logProb = async (x: Float32Array) => {
      const logits = await model.run({ ...image, data: x }, { tokens: feed });
      const row = logits.data.subarray((word - 1) * VOCAB.length, word * VOCAB.length);
      const m = Math.max(...row);
      return row[tokens[word]!]! - m - Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    };
    const g = await targetGradients(model, image, {
      wrt: ['image'],
      target: `caption:${word}`,
      feeds: { tokens: feed },
    });
    const grad = g.grads.image!.data;
    const h = 1e-2;
    let worst = 0;
    for (const i of [0, 50, 143, 200, 300, 431]) {
      const up = Float32Array.from(image.data);
      const down = Float32Array.from(image.data);
      up[i]! += h;
      down[i]! -= h;
      const fd = ((await logProb(up)) - (await logProb(down))) / (2 * h);
      worst = Math.max(worst, Math.abs(grad[i]! - fd));
      assert.ok(Math.abs(grad[i]! - fd) <= 2e-3 + 2e-2 * Math.abs(fd), `d/dx[${i}]: ${grad[i]} vs ${fd}`);
    }
    assert.ok(
      grad.some((v) => Math.abs(v) > 1e-4),
      'a gradient reaches the image',
    );
  });
});

describe('a default layer named by the description ("layer")', () => {
  test('is the default instead of the search, and Grad-CAM there equals the layer given explicitly', async () => {
    const model = await open({ layer: '/enc/Relu_output_0' });
    try {
      // The search alone picks /enc/Relu_1_output_0 (the test above).
      assert.equal((await model.defaultLayer()).name, '/enc/Relu_output_0');
      const ex = Explainer.fromModel(model);
      const named = await ex.explain(image, { method: 'gradcam', target: 'caption:1' });
      const given = await ex.explain(image, {
        method: 'gradcam',
        target: 'caption:1',
        layers: ['/enc/Relu_output_0'],
      });
      assert.deepEqual(named.explanations[0]!.layers, ['/enc/Relu_output_0']);
      assert.deepEqual(named.explanations[0]!.map, given.explanations[0]!.map);
    } finally {
      await model.release();
    }
  });

  test('a name no node computes is a bad-description error naming the closest tensors', async () => {
    await assert.rejects(
      open({ layer: '/enc/Relu_9_output_0' }),
      (e: Error & { code?: string; hint?: string }) => {
        assert.equal(e.code, 'bad-description');
        assert.match(e.message, /"layer" names "\/enc\/Relu_9_output_0"/);
        assert.match(e.hint ?? '', /\/enc\/Relu_output_0/);
        return true;
      },
    );
  });

  test('an empty or non-string "layer" is refused when the file is read', async () => {
    for (const layer of ['', 3]) {
      await assert.rejects(open({ layer }), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'bad-preprocess');
        assert.match(e.message, /"layer" must be a non-empty string/);
        return true;
      });
    }
  });
});
