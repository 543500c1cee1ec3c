// Faithfulness metrics against values computed by hand: a linear scorer s(x) = Σ w·x (its scores of
// any perturbed copy are analytic), the Grad-CAM++ aggregations (Average Drop, Increase in
// Confidence, Win) on hand-picked scores, deletion/insertion curves and AUCs worked out on a 2×2
// image, the blur baseline against its closed form (the separable Gaussian of an impulse), and a
// real ONNX model (hand-models' dense linear head) scored through classScorer against softmax
// computed here. Perturbation batching, layouts and errors too. On the shared binary-MNIST CNN, the
// batched curves and cam-mult scores equal copies made in the test and run one at a time.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import {
  averageDrop,
  camMultConfidence,
  camMultInput,
  increaseInConfidence,
  relativeDrop,
  win,
} from '../../src/eval/metrics/confidence.ts';
import {
  BLUR_RADIUS,
  BLUR_SIGMA,
  blurred,
  deletion,
  insertion,
  perturbationCurve,
} from '../../src/eval/metrics/deletion-insertion.ts';
import { classScorer, type InputRow, inputRowOf, type Scorer } from '../../src/eval/perturbation.ts';
import { loadExplainer } from '../../src/explain/load-node.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { imageToTensor } from '../../src/image/preprocess.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { denseModel, mapOf } from '../helpers/hand-models.ts';
import { sharedDir, skipNoShared } from '../helpers/shared.ts';

/** s(x) = Σ_i w_i x_i (+ b), recording the size of every call. */
function linearScorer(w: ArrayLike<number>, b = 0, batch?: number): Scorer & { calls: number[] } {
  const calls: number[] = [];
  const f = async (inputs: readonly Float32Array[]) => {
    calls.push(inputs.length);
    if (batch !== undefined) assert.ok(inputs.length <= batch, `a call of ${inputs.length} > batch ${batch}`);
    return Float32Array.from(inputs, (x) => {
      let s = b;
      for (let i = 0; i < x.length; i++) s += w[i]! * x[i]!;
      return s;
    });
  };
  return Object.assign(f, { calls, ...(batch !== undefined ? { batch } : {}) });
}

const row = (
  data: number[],
  channels: number,
  height: number,
  width: number,
  layout: 'NCHW' | 'NHWC' = 'NCHW',
): InputRow => ({
  data: Float32Array.from(data),
  channels,
  height,
  width,
  layout,
});

describe('cam-mult confidence change', () => {
  // 2 channels × 1×2 pixels, NCHW: x = [[1, 2], [3, 4]], map [0.5, 1], w = [1, −1, 2, 1].
  const input = row([1, 2, 3, 4], 2, 1, 2);
  const map = Float32Array.from([0.5, 1]);
  test('input ⊙ map broadcast over channels, in both layouts', () => {
    assert.deepEqual([...camMultInput(input, map)], [0.5, 2, 1.5, 4]);
    // NHWC: pixel 0 = (1, 3), pixel 1 = (2, 4).
    assert.deepEqual([...camMultInput(row([1, 3, 2, 4], 2, 1, 2, 'NHWC'), map)], [0.5, 1.5, 2, 4]);
  });
  test('change = s(x ⊙ m) − s(x), drop = max(0, −change), increase = [change > 0]', async () => {
    const s = linearScorer([1, -1, 2, 1]);
    // s(x) = 1 − 2 + 6 + 4 = 9; s(x ⊙ m) = 0.5 − 2 + 3 + 4 = 5.5; with map [1, 0.5]: 1 − 1 + 6 + 2 = 8;
    // with map [2, 2]: 18.
    const [a, b, c] = await camMultConfidence(s, input, [
      map,
      Float32Array.from([1, 0.5]),
      Float32Array.from([2, 2]),
    ]);
    assert.deepEqual(a, { clean: 9, masked: 5.5, change: -3.5, drop: 3.5, increase: 0 });
    assert.deepEqual(b, { clean: 9, masked: 8, change: -1, drop: 1, increase: 0 });
    assert.deepEqual(c, { clean: 9, masked: 18, change: 9, drop: 0, increase: 1 });
    assert.deepEqual(s.calls, [4], 'the input and the three masked copies in one call');
  });
  test('a map of the wrong size is a shape-mismatch error', async () => {
    await assert.rejects(
      camMultConfidence(linearScorer([1, 1, 1, 1]), input, [Float32Array.from([1, 2, 3])]),
      (e) => {
        assert.ok(e instanceof GradsightError);
        assert.equal(e.code, 'shape-mismatch');
        return true;
      },
    );
  });
});

describe('Grad-CAM++ aggregations', () => {
  // Y, O per image: drops (Y − O)+/Y = 0.5, 0, 0.25, 0; increases: image 2 (O > Y) only.
  const records = [
    { clean: 0.8, masked: 0.4 },
    { clean: 0.5, masked: 0.6 },
    { clean: 0.4, masked: 0.3 },
    { clean: 0.2, masked: 0.2 },
  ];
  test('Average Drop % = 100·mean((Y − O)+/Y); Increase in Confidence % = 100·mean[O > Y]', () => {
    assert.ok(Math.abs(averageDrop(records) - (100 * (0.5 + 0 + 0.25 + 0)) / 4) < 1e-12);
    assert.equal(increaseInConfidence(records), 25);
    assert.ok(Number.isNaN(averageDrop([])));
  });
  test('relativeDrop needs a positive clean score', () => {
    assert.equal(relativeDrop(0.5, 0.125), 0.75);
    assert.throws(
      () => relativeDrop(0, 0.1),
      (e) => e instanceof GradsightError && e.code === 'bad-argument',
    );
    assert.throws(
      () => relativeDrop(-2, -3),
      (e) => e instanceof GradsightError && e.code === 'bad-argument',
    );
  });
  test('Win %: the lowest drop wins an image; ties split it', () => {
    // Image 0: a wins; 1: b wins; 2: a, b, c tie at 0 (1/3 each); 3: b and c tie (1/2 each).
    const w = win({ a: [0.1, 0.5, 0, 0.4], b: [0.2, 0.3, 0, 0.1], c: [0.3, 0.4, 0, 0.1] });
    assert.ok(Math.abs(w.a! - (100 * (1 + 1 / 3)) / 4) < 1e-12);
    assert.ok(Math.abs(w.b! - (100 * (1 + 1 / 3 + 1 / 2)) / 4) < 1e-12);
    assert.ok(Math.abs(w.c! - (100 * (1 / 3 + 1 / 2)) / 4) < 1e-12);
    assert.ok(Math.abs(w.a! + w.b! + w.c! - 100) < 1e-9);
    assert.throws(
      () => win({ a: [0.1], b: [0.1, 0.2] }),
      (e) => e instanceof GradsightError,
    );
  });
});

describe('deletion and insertion', () => {
  // 1 channel, 2×2: x = [1, 2, 3, 4], map [0.1, 0.9, 0.5, 0.3] → order p1, p2, p3, p0; s = Σ x.
  const input = row([1, 2, 3, 4], 1, 2, 2);
  const map = Float32Array.from([0.1, 0.9, 0.5, 0.3]);
  const ones = [1, 1, 1, 1];
  test('deletion, zero baseline, step 1: scores 10, 8, 5, 1, 0; AUC 4.75', async () => {
    const c = await deletion(linearScorer(ones), input, map, { step: 1 });
    assert.deepEqual([...c.fractions], [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual([...c.scores], [10, 8, 5, 1, 0]);
    // 0.25 · (10/2 + 8 + 5 + 1 + 0/2)
    assert.equal(c.auc, 4.75);
    assert.equal(c.baseline, 'zero');
  });
  test('insertion, zero baseline, step 1: scores 0, 2, 5, 9, 10; AUC 5.25', async () => {
    const c = await insertion(linearScorer(ones), input, map, { step: 1, baseline: 'zero' });
    assert.deepEqual([...c.scores], [0, 2, 5, 9, 10]);
    assert.equal(c.auc, 5.25);
  });
  test('a step that does not divide H·W: the last step is partial (fractions 0, 0.75, 1)', async () => {
    const c = await deletion(linearScorer(ones), input, map, { step: 3 });
    assert.deepEqual([...c.fractions], [0, 0.75, 1]);
    assert.deepEqual([...c.scores], [10, 1, 0]);
    // 0.75·(10 + 1)/2 + 0.25·(1 + 0)/2
    assert.equal(c.auc, 4.25);
  });
  test('weights per channel: a pixel is removed in every channel at once (NCHW and NHWC agree)', async () => {
    // 2 channels × 1×2; w = channel 0: [1, 10], channel 1: [100, 1000]; map ranks pixel 1 first.
    const nchw = row([1, 2, 3, 4], 2, 1, 2);
    const nhwc = row([1, 3, 2, 4], 2, 1, 2, 'NHWC');
    const m = Float32Array.from([0.2, 0.7]);
    const a = await deletion(linearScorer([1, 10, 100, 1000]), nchw, m, { step: 1 });
    const b = await deletion(linearScorer([1, 100, 10, 1000]), nhwc, m, { step: 1 });
    // s(x) = 1 + 20 + 300 + 4000 = 4321; without pixel 1: 1 + 300 = 301; then 0.
    assert.deepEqual([...a.scores], [4321, 301, 0]);
    assert.deepEqual([...b.scores], [...a.scores]);
  });
  test('copies are scored a scorer batch at a time (25 steps, batch 4)', async () => {
    const big = row(
      Array.from({ length: 24 }, (_, i) => i),
      1,
      4,
      6,
    );
    const m = Float32Array.from({ length: 24 }, (_, i) => (i * 7) % 24);
    const s = linearScorer(new Array(24).fill(1), 0, 4);
    const c = await perturbationCurve(s, big, m, 'deletion', { step: 1 });
    assert.deepEqual(s.calls, [4, 4, 4, 4, 4, 4, 1]);
    // Removing pixels in order of decreasing map value: the score drops by x_p = p at each step.
    const order = [...m.keys()].sort((p, q) => m[q]! - m[p]!);
    let expected = 276; // Σ 0..23
    assert.equal(c.scores[0], expected);
    order.forEach((p, k) => {
      expected -= p;
      assert.equal(c.scores[k + 1], expected);
    });
  });
  test('the blur baseline: an impulse becomes the outer product of the normalised Gaussian', () => {
    const n = 21;
    const impulse = new Array(n * n).fill(0);
    impulse[10 * n + 10] = 1;
    const out = blurred(row(impulse, 1, n, n));
    const g = Array.from({ length: 2 * BLUR_RADIUS + 1 }, (_, i) =>
      Math.exp(-((i - BLUR_RADIUS) ** 2) / (2 * BLUR_SIGMA ** 2)),
    );
    const total = g.reduce((a, b) => a + b, 0);
    let err = 0;
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const dy = y - 10;
        const dx = x - 10;
        const want = Math.abs(dy) <= 5 && Math.abs(dx) <= 5 ? (g[dy + 5]! * g[dx + 5]!) / total ** 2 : 0;
        err = Math.max(err, Math.abs(out[y * n + x]! - want));
      }
    }
    assert.ok(err < 1e-7, `max error ${err}`);
    // A constant image stays constant up to the edges (edges replicated, kernel sums to 1).
    const flat = blurred(row(new Array(64).fill(0.75), 1, 8, 8));
    assert.ok(flat.every((v) => Math.abs(v - 0.75) < 1e-6));
  });
  test('insertion defaults to the blur baseline: its first score is the blurred image', async () => {
    const img = row(
      Array.from({ length: 36 }, (_, i) => (i % 5) - 2),
      1,
      6,
      6,
    );
    const m = Float32Array.from({ length: 36 }, (_, i) => i);
    const w = Array.from({ length: 36 }, (_, i) => (i % 3) - 1);
    const c = await insertion(linearScorer(w), img, m);
    const b = blurred(img);
    const want = b.reduce((s, v, i) => s + v * w[i]!, 0);
    assert.equal(c.baseline, 'blur');
    assert.equal(c.step, 6);
    assert.ok(Math.abs(c.scores[0]! - want) < 1e-5);
    assert.ok(Math.abs(c.scores.at(-1)! - img.data.reduce((s, v, i) => s + v * w[i]!, 0)) < 1e-5);
  });
  test('bad steps and non-finite maps are typed errors', async () => {
    const s = linearScorer(ones);
    await assert.rejects(
      deletion(s, input, map, { step: 0 }),
      (e) => e instanceof GradsightError && e.code === 'bad-argument',
    );
    await assert.rejects(
      deletion(s, input, map, { step: 1.5 }),
      (e) => e instanceof GradsightError && e.code === 'bad-argument',
    );
    await assert.rejects(
      deletion(s, input, Float32Array.from([0, Number.NaN, 1, 2])),
      (e) => e instanceof GradsightError && e.code === 'non-finite',
    );
  });
});

describe('classScorer on an ONNX model (dense linear head)', () => {
  test('logit and softmax scores of the explained class, as computed here from the weights', async () => {
    const size = 2;
    const fc = [
      [1, -1, 0.5, 2, 0, 1, -2, 0.25, 1, 1, -1, 0.5],
      [0.5, 0.5, -1, 1, 2, -0.5, 0, 1, -1, 0.25, 0.75, -0.25],
    ];
    const bias = [0.1, -0.3];
    const bytes = denseModel(fc, size, bias);
    const model = await ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });
    try {
      const inputs = [0, 1, 2].map((k) => Float32Array.from({ length: 12 }, (_, i) => Math.sin(3 * i + k)));
      const logits = inputs.map((x) => fc.map((w, c) => bias[c]! + w.reduce((s, v, i) => s + v * x[i]!, 0)));
      const logit = await (await classScorer(model, 1, 'logit'))(inputs);
      const prob = await (await classScorer(model, 1, 'softmax'))(inputs);
      logits.forEach(([a, b], i) => {
        assert.ok(Math.abs(logit[i]! - b!) < 1e-5, `logit ${logit[i]} vs ${b}`);
        const p = Math.exp(b!) / (Math.exp(a!) + Math.exp(b!));
        assert.ok(Math.abs(prob[i]! - p) < 1e-6, `softmax ${prob[i]} vs ${p}`);
      });
      await assert.rejects(
        classScorer(model, 2, 'logit'),
        (e) => e instanceof GradsightError && e.code === 'bad-argument',
      );
      await assert.rejects(
        (await classScorer(model, 0, 'logit'))([new Float32Array(5)]),
        (e) => e instanceof GradsightError && e.code === 'shape-mismatch',
      );
    } finally {
      await model.release();
    }
  });
});

describe('binary MNIST: deletion, insertion and cam-mult through the real CNN', {
  skip: skipNoShared,
}, () => {
  test("batched curves equal copies made here and run one at a time (the model's own LogSoftmax)", async (t) => {
    const root = join(sharedDir, 'data', 'binary-mnist', 'test');
    const files = ['0', '1'].map((d) => join(root, d, readdirSync(join(root, d)).sort()[0]!));
    // Raw 0–255 pixels (models/binary-mnist/README.md): no scaling, mean 0, std 1.
    const ex = await loadExplainer(join(sharedDir, 'models', 'binary-mnist'), {
      preprocess: { scale: '0-255', mean: [0], std: [1] },
    });
    try {
      for (const [digit, file] of files.entries()) {
        const x = imageToTensor(await decodeImageFile(file), ex.model.preprocess);
        const map = mapOf(await ex.explain(x, { method: 'gradcam', target: digit }), 'gradcam');
        const input = inputRowOf(ex.model, x);
        const scorer = await classScorer(ex.model, digit, 'softmax', { batchSize: 7 });
        // The oracle: the model's output is log-probabilities; one run per copy.
        const probability = async (data: Float32Array) =>
          Math.exp((await ex.model.run({ dtype: 'float32', dims: [1, 1, 28, 28], data })).data[digit]!);
        const ranked = Array.from({ length: 784 }, (_, p) => p).sort((p, q) => map[q]! - map[p]! || p - q);
        for (const mode of ['deletion', 'insertion'] as const) {
          const c = await perturbationCurve(scorer, input, map, mode, { step: 28, baseline: 'zero' });
          let area = 0;
          let previous = 0;
          for (let k = 0; k <= 28; k++) {
            const removed = new Set(ranked.slice(0, 28 * k));
            const copy = Float32Array.from(x.data, (v, p) =>
              (mode === 'deletion') === removed.has(p) ? 0 : v,
            );
            const want = await probability(copy);
            assert.ok(Math.abs(c.scores[k]! - want) < 1e-5, `${mode} step ${k}: ${c.scores[k]} vs ${want}`);
            if (k > 0) area += (previous + want) / 2 / 28;
            previous = want;
          }
          assert.ok(Math.abs(c.auc - area) < 1e-5, `${mode} AUC ${c.auc} vs ${area}`);
          t.diagnostic(`digit ${digit} Grad-CAM ${mode} AUC ${c.auc.toFixed(4)}`);
        }
        const [r] = await camMultConfidence(scorer, input, [map]);
        const clean = await probability(x.data);
        const masked = await probability(x.data.map((v, p) => v * map[p]!));
        assert.ok(Math.abs(r!.clean - clean) < 1e-6 && Math.abs(r!.masked - masked) < 1e-5);
      }
    } finally {
      await ex.release();
    }
  });
});
