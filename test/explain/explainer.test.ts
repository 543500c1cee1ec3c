// Explainer: k targets explained by ONE batched gradient run (maps equal to k separate runs), and
// SmoothGrad-style averaging (noise 0 is the plain map; with noise, deterministic per seed and equal
// to the mean of the maps of the same noisy inputs, predicted by hand on a linear model).

import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { ExplainOptions } from '../../src/explain/explainer.ts';
import type { MethodId } from '../../src/methods/types.ts';
import { GradientRunner } from '../../src/model/gradient-runner.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import {
  BLOCK_IMAGE,
  DENSE_FC,
  DENSE_IMAGE,
  denseModel,
  explainerFor,
  gapModel,
  inputTensor,
  mapOf,
  maxAbsDiff,
  mean,
  rowsOf,
  sum,
} from '../helpers/hand-models.ts';

/** Counts GradientRunner.create / run calls and records the inputs fed to run. */
function spyRunner() {
  const run = GradientRunner.prototype.run;
  const create = GradientRunner.create;
  const spy = {
    creates: 0,
    runs: 0,
    forwards: 0,
    inputs: [] as Float32Tensor[],
    seeds: [] as number[][],
    skips: [] as (readonly string[])[],
  };
  const runTarget = ImageModel.prototype.runTarget;
  ImageModel.prototype.runTarget = function (this: ImageModel, ...args) {
    spy.forwards++;
    return runTarget.apply(this, args);
  };
  GradientRunner.prototype.run = function (this: GradientRunner, input, seed, extra, fetch) {
    spy.runs++;
    spy.inputs.push({ ...input, data: input.data.slice() });
    spy.seeds.push(seed ? [...seed.dims] : []);
    spy.skips.push(fetch?.skip ?? []);
    return run.call(this, input, seed, extra, fetch);
  };
  GradientRunner.create = (...args) => {
    spy.creates++;
    return create.apply(GradientRunner, args);
  };
  restore = () => {
    ImageModel.prototype.runTarget = runTarget;
    GradientRunner.prototype.run = run;
    GradientRunner.create = create;
  };
  return spy;
}
let restore = () => {};
afterEach(() => restore());

const BIAS = [0.5, -0.25, 1, 0];
const logit = (image: readonly (readonly number[])[], c: number) =>
  sum(DENSE_FC[c]!.map((w, i) => w * image[Math.floor(i / 9)]![i % 9]!)) + BIAS[c]!;

describe('top-k in one gradient run', () => {
  const methods: MethodId[] = ['gradcam', 'gradcam++', 'layercam', 'hirescam'];
  test('top:3 rows are the 3 best logits, each equal to its own run, from one gradient run', async () => {
    const ex = await explainerFor(denseModel(DENSE_FC, 3, BIAS));
    try {
      // A second image (negated) ranks the classes differently.
      const images = [DENSE_IMAGE, DENSE_IMAGE.map((c) => c.map((v) => -v))];
      const x = inputTensor(images, 3);
      const opts: ExplainOptions = { method: methods, layers: ['features'] };
      const spy = spyRunner();
      const top = await ex.explain(x, { ...opts, target: 'top:3' });
      assert.equal(spy.creates, 1, 'one gradient model for all rows and methods');
      assert.equal(spy.runs, 1, 'one gradient run for all rows and methods');
      // The forward part runs once per image; the backward once per (image, class) row.
      assert.deepEqual(spy.inputs[0]!.dims, [2, 3, 3, 3]);
      // The 6 seeds (3 per image) are chosen in the graph (TopK → one-hot): none is fed, and no
      // forward run precedes the gradient run.
      assert.deepEqual(spy.seeds[0], []);
      assert.equal(spy.forwards, 0, 'no separate forward run picks the classes');
      restore();

      for (const [image, img] of images.entries()) {
        const logits = [0, 1, 2, 3].map((c) => logit(img, c));
        const order = [0, 1, 2, 3].sort((a, b) => logits[b]! - logits[a]!).slice(0, 3);
        const rows = rowsOf(top, 'gradcam').filter((e) => e.image === image);
        assert.deepEqual(
          rows.map((e) => e.target.index),
          order,
        );
        rows.forEach((e, i) => {
          assert.ok(Math.abs(e.target.score - logits[order[i]!]!) < 1e-5);
        });
      }
      for (const [i, e] of rowsOf(top, 'gradcam').entries()) {
        const single = await ex.explain(inputTensor([images[e.image]!], 3), {
          ...opts,
          target: String(e.target.index),
        });
        for (const m of methods) {
          const d = maxAbsDiff(mapOf(top, m, i), mapOf(single, m));
          assert.ok(d <= 1e-6, `${m} row ${i} (image ${e.image}, class ${e.target.index}): ${d}`);
          assert.ok(
            mapOf(single, m).some((v) => v > 0),
            'non-empty',
          );
        }
      }
    } finally {
      await ex.release();
    }
  });
});

describe('one run per target graph', () => {
  test('classes, A-vs-B and counterfactual:pred: no forward run before the gradient run; maps unchanged', async () => {
    const ex = await explainerFor(denseModel(DENSE_FC, 3, BIAS));
    try {
      const x = inputTensor([DENSE_IMAGE, DENSE_IMAGE.map((c) => c.map((v) => -v))], 3);
      for (const target of [['2'], ['0', '3'], ['1-vs-2'], ['counterfactual:pred']]) {
        const spy = spyRunner();
        const r = await ex.explain(x, { method: 'gradcam', target, layers: ['features'] });
        assert.equal(spy.forwards, 0, `${target}: no forward run`);
        assert.equal(spy.runs, 1, `${target}: one gradient run`);
        restore();
        // The same maps as one image at a time with a raw seed row.
        for (const e of r.explanations) {
          const row = new Float32Array(4);
          if (e.target.kind === 'contrast') {
            row[1] = 1;
            row[2] = -1;
          } else row[e.target.index!] = e.target.counterfactual ? -1 : 1;
          const one = await ex.explain(
            inputTensor([e.image === 0 ? DENSE_IMAGE : DENSE_IMAGE.map((c) => c.map((v) => -v))], 3),
            {
              method: 'gradcam',
              target: { kind: 'seed', seed: row },
              layers: ['features'],
            },
          );
          assert.ok(maxAbsDiff(e.map!, one.explanations[0]!.map!) <= 1e-6, `${target}`);
        }
      }
    } finally {
      await ex.release();
    }
  });
});

describe('prepare()', () => {
  test('compiles what explain() runs: the first explain() compiles nothing; maps as without it', async () => {
    const model = denseModel(DENSE_FC, 3, BIAS);
    const fresh = await explainerFor(model);
    const ex = await explainerFor(model);
    try {
      const x = inputTensor([DENSE_IMAGE, DENSE_IMAGE.map((c) => c.map((v) => -v))], 3);
      for (const opts of [
        { method: 'gradcam', target: 'top:2', layers: ['features'] },
        { method: ['gradcam', 'guided-gradcam'], target: ['1', '3'], layers: ['features'] },
        { method: 'gradcam++', layers: ['features'], counterfactual: true },
      ] satisfies ExplainOptions[]) {
        const spy = spyRunner();
        await ex.prepare(x.dims, opts);
        const compiled = spy.creates;
        assert.ok(compiled >= 1, `${JSON.stringify(opts)}: prepare() compiled`);
        assert.equal(spy.runs, 0, 'prepare() runs nothing');
        const r = await ex.explain(x, opts);
        assert.equal(spy.creates, compiled, `${JSON.stringify(opts)}: explain() compiled nothing more`);
        // Maps made in the graph (Grad-CAM's) leave the layer's values and gradients unfetched;
        // Grad-CAM++'s are computed here from them.
        assert.deepEqual(spy.skips[0], opts.method === 'gradcam++' ? [] : ['features']);
        restore();
        const want = await fresh.explain(x, opts);
        assert.equal(r.explanations.length, want.explanations.length);
        r.explanations.forEach((e, i) => {
          const w = want.explanations[i]!;
          assert.deepEqual([e.method, e.target.index], [w.method, w.target.index]);
          assert.deepEqual(e.map ?? e.pixels, w.map ?? w.pixels);
        });
      }
      // Its errors are explain()'s.
      await assert.rejects(ex.prepare(x.dims, { method: 'gradcam', target: 'top:9' }), /more classes/);
    } finally {
      await ex.release();
      await fresh.release();
    }
  });
});

describe('smooth', () => {
  test('noise 0: the plain map, for any number of samples', async () => {
    const ex = await explainerFor(denseModel(DENSE_FC, 3, BIAS));
    try {
      const x = inputTensor([DENSE_IMAGE], 3);
      const opts: ExplainOptions = {
        method: ['gradcam', 'layercam'],
        target: ['0', '3'],
        layers: ['features'],
      };
      const plain = await ex.explain(x, opts);
      const smooth = await ex.explain(x, { ...opts, smooth: { samples: 4, noise: 0 } });
      for (const m of ['gradcam', 'layercam'] as const)
        for (const r of [0, 1])
          assert.ok(maxAbsDiff(mapOf(smooth, m, r), mapOf(plain, m, r)) <= 1e-7, `${m} ${r}`);
    } finally {
      await ex.release();
    }
  });

  test('noise > 0 on a linear model: deterministic per seed, = the mean of the noisy inputs’ maps', async () => {
    // features = input + 10 (no Relu), GAP, Gemm with positive weights: Grad-CAM's raw map is
    // Σ_k (W[c,k]/16)·(x_k + 10), linear in x and positive, so averaging maps = the map of the average.
    const fc = [
      [1, 2, 0.5],
      [0.5, 1, 1],
    ];
    const ex = await explainerFor(gapModel({ fc, size: 4, relu: false, convBias: [10, 10, 10] }));
    try {
      const x = inputTensor([BLOCK_IMAGE], 4);
      const samples = 5;
      const opts: ExplainOptions = { method: 'gradcam', target: '0', layers: ['conv'], normalize: 'none' };
      const spy = spyRunner();
      const r = await ex.explain(x, { ...opts, smooth: { samples, noise: 0.1, seed: 7 } });
      restore();
      assert.equal(spy.runs, 1);
      const noisy = spy.inputs[0]!;
      assert.deepEqual(noisy.dims, [samples, 3, 4, 4]);

      // Noise σ = 0.1 × (max − min of the image) = 0.9, independent per value.
      const diffs = [...noisy.data].map((v, i) => v - x.data[i % 48]!);
      const sd = Math.sqrt(mean(diffs.map((d) => d * d)));
      assert.ok(sd > 0.9 * 0.7 && sd < 0.9 * 1.3, `noise sd ${sd}`);

      // By hand: the mean over samples of Σ_k (W[0,k]/16)(x_s,k + 10).
      const want = Array.from({ length: 16 }, (_, p) =>
        mean(
          Array.from({ length: samples }, (_, s) =>
            sum([0, 1, 2].map((k) => (fc[0]![k]! / 16) * (noisy.data[s * 48 + k * 16 + p]! + 10))),
          ),
        ),
      );
      assert.ok(maxAbsDiff(mapOf(r, 'gradcam'), want) <= 1e-5, 'hand prediction');

      // The same, as the mean of the maps of each noisy input explained alone.
      const each = await Promise.all(
        Array.from({ length: samples }, (_, s) =>
          ex.explain(
            { dtype: 'float32', dims: [1, 3, 4, 4], data: noisy.data.slice(s * 48, (s + 1) * 48) },
            opts,
          ),
        ),
      );
      const avg = Array.from({ length: 16 }, (_, p) => mean(each.map((e) => mapOf(e, 'gradcam')[p]!)));
      assert.ok(maxAbsDiff(mapOf(r, 'gradcam'), avg) <= 1e-5, 'mean of the noisy maps');

      // Deterministic for a seed; another seed gives other noise.
      const again = await ex.explain(x, { ...opts, smooth: { samples, noise: 0.1, seed: 7 } });
      assert.deepEqual(mapOf(again, 'gradcam'), mapOf(r, 'gradcam'));
      const other = await ex.explain(x, { ...opts, smooth: { samples, noise: 0.1, seed: 8 } });
      assert.ok(maxAbsDiff(mapOf(other, 'gradcam'), mapOf(r, 'gradcam')) > 1e-4);
    } finally {
      await ex.release();
    }
  });
});

describe('maps of their own', () => {
  test("each map's buffer is that map alone, for one image and for a batch; values equal either way", async () => {
    const ex = await explainerFor(denseModel(DENSE_FC, 3, BIAS));
    try {
      const images = [DENSE_IMAGE, DENSE_IMAGE.map((c) => c.map((v) => -v))];
      const opts: ExplainOptions = { method: ['gradcam', 'gradcam++'], layers: ['features'] };
      const batch = await ex.explain(inputTensor(images, 3), opts);
      const one = await ex.explain(inputTensor([images[1]!], 3), opts);
      const again = await ex.explain(inputTensor([images[1]!], 3), opts);
      for (const e of [...batch.explanations, ...one.explanations]) {
        // A map sent to a worker or a file carries no other image's values.
        assert.equal(e.map!.buffer.byteLength, e.map!.byteLength, `${e.method} image ${e.image}`);
      }
      for (const m of ['gradcam', 'gradcam++'] as const) {
        assert.deepEqual(mapOf(one, m), mapOf(batch, m, 1));
        // Two calls never share an array: changing one result leaves the other as it was.
        const a = mapOf(one, m);
        const b = mapOf(again, m);
        assert.notEqual(a.buffer, b.buffer);
        a.fill(0);
        assert.ok(b.some((v) => v > 0));
      }
    } finally {
      await ex.release();
    }
  });
});
