// A model with two inputs (image + question token ids): explained from the library and the CLI, with
// the Grad-CAM map checked against one computed by hand from the model's weights, and typed errors for
// missing feeds, wrong dtypes and wrong shapes.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import { Explainer } from '../../src/explain/explainer.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { encodeNpy } from '../../src/tensor/npy.ts';
import type { Float32Tensor, Tensor } from '../../src/tensor/tensor.ts';
import { runCli } from '../helpers/cli.ts';
import {
  seededValues,
  TWO_INPUT_EMBEDDING,
  TWO_INPUT_FC,
  tinyTwoInputModel,
} from '../helpers/tiny-models.ts';

const bytes = tinyTwoInputModel();
const image: Float32Tensor = {
  dtype: 'float32',
  dims: [1, 3, 8, 8],
  data: Float32Array.from(seededValues(192, 7)),
};
const tokens = (...ids: number[]): Tensor => ({
  dtype: 'int64',
  dims: [1, ids.length],
  data: BigInt64Array.from(ids.map(BigInt)),
});

/** Grad-CAM by hand: y_c = Σ_k W[c,k]·mean(A_k)·q_k + b ⇒ α_k = W[c,k]·q_k/64 (mean of ∂y/∂A_k). */
function handGradCam(a: Float32Array, ids: number[], c: number): Float64Array {
  const q = [0, 1, 2, 3].map(
    (k) => ids.reduce((s, t) => s + TWO_INPUT_EMBEDDING[t * 4 + k]!, 0) / ids.length,
  );
  const alpha = q.map((qk, k) => (TWO_INPUT_FC[c * 4 + k]! * qk) / 64);
  const cam = new Float64Array(64);
  for (let p = 0; p < 64; p++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += alpha[k]! * a[k * 64 + p]!;
    cam[p] = Math.max(0, s);
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of cam) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return cam.map((v) => (v - min) / (max - min + 1e-7));
}

describe('a two-input model (image + token ids)', () => {
  let model: ImageModel;
  let ex: Explainer;
  before(async () => {
    model = await ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });
    ex = Explainer.fromModel(model);
  });
  after(async () => ex.release());

  test('the image input is inferred from shapes; the token ids are an extra input', () => {
    assert.equal(model.input.name, 'image');
    assert.deepEqual(
      model.extraInputs.map((i) => i.name),
      ['tokens'],
    );
  });

  test('Grad-CAM of each class equals the hand computation, and depends on the question', async () => {
    const maps: Float32Array[] = [];
    for (const ids of [
      [1, 4, 7],
      [2, 2, 9],
    ]) {
      const feeds = { tokens: tokens(...ids) };
      const a = await model.runTensor(image, 'features', feeds);
      for (const c of [0, 1, 2]) {
        const r = await ex.explain(image, {
          method: 'gradcam',
          target: String(c),
          layers: ['features'],
          feeds,
        });
        const map = r.explanations[0]!.map!;
        const want = handGradCam(a.data, ids, c);
        let err = 0;
        for (let p = 0; p < 64; p++) err = Math.max(err, Math.abs(map[p]! - want[p]!));
        assert.ok(err < 2e-4, `class ${c}, tokens ${ids}: max |Δ| ${err}`);
        if (c === 0) maps.push(map);
      }
    }
    const diff = maps[0]!.reduce((m, v, i) => Math.max(m, Math.abs(v - maps[1]![i]!)), 0);
    assert.ok(diff > 0.05, `the question changes the map (max |Δ| ${diff})`);
  });

  test('a feed with one row serves every image of a batch', async () => {
    const two: Float32Tensor = {
      dtype: 'float32',
      dims: [2, 3, 8, 8],
      data: Float32Array.from([...image.data, ...image.data.map((v) => -v)]),
    };
    const r = await ex.explain(two, { method: 'gradcam', target: '1', feeds: { tokens: tokens(3, 5, 8) } });
    const one = await ex.explain(image, {
      method: 'gradcam',
      target: '1',
      feeds: { tokens: tokens(3, 5, 8) },
    });
    assert.equal(r.explanations.length, 2);
    assert.deepEqual([...r.explanations[0]!.map!], [...one.explanations[0]!.map!]);
  });

  const rejects = async (feeds: Record<string, Tensor> | undefined, pattern: RegExp, hint: RegExp) => {
    await assert.rejects(
      ex.explain(image, { method: 'gradcam', ...(feeds ? { feeds } : {}) }),
      (e: unknown) => {
        assert.ok(e instanceof GradsightError);
        assert.equal(e.code, 'bad-argument');
        assert.match(e.message, pattern);
        assert.match(e.hint ?? '', hint);
        return true;
      },
    );
  };

  test('a missing feed, a wrong dtype, a wrong shape, an unknown name: typed errors with hints', async () => {
    await rejects(undefined, /tokens int64 \[batch, 3\] is not given/, /--feed tokens=/);
    await rejects(
      { tokens: { dtype: 'float32', dims: [1, 3], data: Float32Array.of(1, 2, 3) } },
      /is float32, not int64/,
      /int64 tensor of shape \[N or 1, 3\]/,
    );
    await rejects({ tokens: tokens(1, 2, 3, 4) }, /axis 1 must be 3/, /shape/);
    await rejects(
      { tokens: tokens(1, 2, 3), question: tokens(1) },
      /no extra input named "question"/,
      /tokens/,
    );
  });
});

describe('gradsight explain on a two-input model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradsight-two-input-'));
  writeFileSync(join(dir, 'model.onnx'), bytes);
  writeFileSync(join(dir, 'x.npy'), encodeNpy(image));
  writeFileSync(join(dir, 'tokens.json'), '[[1, 4, 7]]');

  test('--feed tokens=tokens.json explains it; the map equals the library one', async () => {
    const out = join(dir, 'out');
    const r = await runCli([
      'explain',
      join(dir, 'model.onnx'),
      '--input',
      join(dir, 'x.npy'),
      '--feed',
      'tokens=tokens.json'.replace('tokens.json', join(dir, 'tokens.json')),
      '-t',
      '2',
      '--save-raw',
      '-q',
      '-o',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const e = results.images[0].explanations[0];
    assert.equal(e.target.index, 2);
    assert.deepEqual(results.options.feeds, [`tokens=${join(dir, 'tokens.json')}`]);
  });

  test('without --feed: exit 2 and a typed error naming the input and the flag', async () => {
    const r = await runCli([
      'explain',
      join(dir, 'model.onnx'),
      '--input',
      join(dir, 'x.npy'),
      '-q',
      '-o',
      join(dir, 'o2'),
    ]);
    assert.equal(r.code, 2, 'a bad --feed is a usage error (exit 2)');
    assert.match(r.stderr, /error\[bad-argument\]: the model's input tokens int64 \[batch, 3\] is not given/);
    assert.match(r.stderr, /--feed tokens=/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
  });

  test('a bad JSON feed file is a typed error', async () => {
    writeFileSync(join(dir, 'bad.json'), '[[1, 2], [3]]');
    const r = await runCli([
      'explain',
      join(dir, 'model.onnx'),
      '--input',
      join(dir, 'x.npy'),
      '--feed',
      `tokens=${join(dir, 'bad.json')}`,
      '-q',
      '-o',
      join(dir, 'o3'),
    ]);
    assert.equal(r.code, 2, 'a bad --feed is a usage error (exit 2)');
    assert.match(r.stderr, /not rectangular/);
  });
});
