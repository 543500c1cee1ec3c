// Sanity checks (Adebayo et al. 2018): the randomized models are built right (the right initializers
// replaced, cumulatively, with the documented draws, and ONNX Runtime computes with exactly those
// values: checked against a forward pass by hand), the random-logit test on a linear model whose maps
// are known, and the published finding on the shared binary-MNIST CNN: Grad-CAM decorrelates under
// cascading randomization while Guided Backprop changes much less.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { mulberry32 } from '../../src/demo/prng.ts';
import {
  CascadingRandomization,
  parameterLayers,
  randomizationSteps,
  randomizedModel,
  reinitialized,
  summarizeCascade,
} from '../../src/eval/metrics/sanity.ts';
import { Explainer } from '../../src/explain/explainer.ts';
import { loadExplainer } from '../../src/explain/load-node.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { decodeModel, modelFromProto } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { float32 } from '../../src/tensor/tensor.ts';
import { explainerFor } from '../helpers/hand-models.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { sharedDir, skipNoShared } from '../helpers/shared.ts';
import { seededValues, tinyCnn, tinyCnnConvWeightBytes } from '../helpers/tiny-models.ts';

/** x [N,1,7,7] → Flatten → Gemm(fc1: 3×49 + b1) → Relu → MatMul(w2: 3×2) → + b2 (Add, not a layer). */
function mlp(): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['batch', 1, 7, 7] }],
    outputs: [{ name: 'logits', shape: ['batch', 2] }],
    initializers: [
      { name: 'fc1.w', dims: [3, 49], values: seededValues(147, 5) },
      { name: 'fc1.b', dims: [3], values: [0.1, 0.2, 0.3] },
      { name: 'w2', dims: [3, 2], values: seededValues(6, 6) },
      { name: 'b2', dims: [2], values: [0.5, -0.5] },
    ],
    nodes: [
      { op: 'Flatten', name: 'flat', inputs: ['input'], outputs: ['f'] },
      { op: 'Gemm', name: 'fc1', inputs: ['f', 'fc1.w', 'fc1.b'], outputs: ['h'], attrs: { transB: 1 } },
      { op: 'Relu', name: 'relu', inputs: ['h'], outputs: ['r'] },
      { op: 'MatMul', name: 'fc2', inputs: ['r', 'w2'], outputs: ['m'] },
      { op: 'Add', name: 'bias', inputs: ['m', 'b2'], outputs: ['logits'] },
    ],
  });
}

/** The mlp's logits by hand for weights `w` (name → values). */
function mlpForward(x: Float32Array, w: (name: string) => ArrayLike<number>): number[] {
  const w1 = w('fc1.w');
  const b1 = w('fc1.b');
  const w2 = w('w2');
  const h = [0, 1, 2].map((j) => {
    let s = b1[j]!;
    for (let i = 0; i < 49; i++) s += w1[j * 49 + i]! * x[i]!;
    return Math.max(0, s);
  });
  return [0, 1].map((k) => h.reduce((s, v, j) => s + v * w2[j * 2 + k]!, 0) + [0.5, -0.5][k]!);
}

describe('randomized models', () => {
  const bytes = mlp();
  const model = decodeModel(bytes);

  test('the parameterised layers from the top: MatMul w2 (b2 is an Add, not a layer), then Gemm fc1', () => {
    assert.deepEqual(parameterLayers(model), [
      { node: 'fc2', opType: 'MatMul', initializers: ['w2'] },
      { node: 'fc1', opType: 'Gemm', initializers: ['fc1.w', 'fc1.b'] },
    ]);
    const three = [1, 2, 3].map((i) => ({ node: `n${i}`, opType: 'Conv', initializers: [] }));
    assert.deepEqual(
      randomizationSteps(three, 2).map((s) => s.layers.map((l) => l.node)),
      [['n1', 'n2'], ['n3']],
    );
  });

  test('BatchNormalization: scale and bias are re-initialised, the running statistics are not', () => {
    const bn = decodeModel(
      buildModel({
        inputs: [{ name: 'x', shape: [1, 2, 3, 3] }],
        outputs: [{ name: 'y', shape: [1, 2, 3, 3] }],
        initializers: ['s', 'b', 'm', 'v'].map((name) => ({ name, dims: [2], values: [1, 2] })),
        nodes: [{ op: 'BatchNormalization', name: 'bn', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'] }],
      }),
    );
    assert.deepEqual(parameterLayers(bn), [
      { node: 'bn', opType: 'BatchNormalization', initializers: ['s', 'b'] },
    ]);
  });

  test('cumulative steps replace exactly their initializers; ONNX Runtime computes with the replaced values', async () => {
    const steps = randomizationSteps(parameterLayers(model));
    const one = randomizedModel(model, steps, 1, 7);
    const two = randomizedModel(model, steps, 2, 7);
    assert.deepEqual([...one.replaced.keys()], ['w2']);
    assert.deepEqual([...two.replaced.keys()].sort(), ['fc1.b', 'fc1.w', 'w2']);
    // Cumulative: the top layer's draws are the same at step 2 as at step 1.
    assert.deepEqual([...two.replaced.get('w2')!], [...one.replaced.get('w2')!]);
    assert.notDeepEqual([...one.replaced.get('w2')!], [...model.graph.initializers.get('w2')!.values()]);
    const m1 = modelFromProto(one.proto);
    for (const name of ['fc1.w', 'fc1.b', 'b2']) {
      assert.deepEqual(
        [...m1.graph.initializers.get(name)!.values()],
        [...model.graph.initializers.get(name)!.values()],
      );
    }
    // The input model is not changed.
    assert.deepEqual([...model.graph.initializers.get('w2')!.values()], seededValues(6, 6).map(Math.fround));

    const x = Float32Array.from(seededValues(49, 9), (v) => v * 2);
    const original = await explainerFor(bytes);
    const cascade = CascadingRandomization.create(original, { seed: 7, methods: ['guided-backprop'] });
    try {
      for (const [k, r] of [
        [1, one],
        [2, two],
      ] as const) {
        const ex = await cascade.stepExplainer(k);
        const got = await ex.model.run(float32(x, [1, 1, 7, 7]));
        const weight = (name: string) => r.replaced.get(name) ?? model.graph.initializers.get(name)!.values();
        const want = mlpForward(x, weight as (n: string) => ArrayLike<number>);
        for (const [i, v] of want.entries()) {
          assert.ok(Math.abs(got.data[i]! - v) < 1e-4, `step ${k} logit ${i}: ${got.data[i]} vs ${v}`);
        }
      }
    } finally {
      await cascade.release();
      await original.release();
    }
  });

  test('a model with external weights: its randomized models equal those of the same model inline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradsight-sanity-'));
    writeFileSync(join(dir, 'model.onnx'), tinyCnn({ externalWeights: 'w.bin', externalOffset: 64 }));
    const w = new Uint8Array(64 + 108 * 4);
    w.set(tinyCnnConvWeightBytes(), 64);
    writeFileSync(join(dir, 'w.bin'), w);
    const external = await loadExplainer(join(dir, 'model.onnx'));
    const inline = await explainerFor(tinyCnn());
    const [a, b] = [external, inline].map((e) => CascadingRandomization.create(e, { seed: 5 }));
    try {
      assert.deepEqual(
        a!.steps.map((s) => s.layers.map((l) => l.node)),
        [['Gemm_4'], ['Conv_0']],
      );
      const x = float32(Float32Array.from(seededValues(2 * 3 * 8 * 8, 9)), [2, 3, 8, 8]);
      const before = [...(await inline.model.run(x)).data];
      for (const k of [1, 2]) {
        // Step 1 keeps the external conv weights; step 2 replaces them with inline values.
        const got = [...(await (await a!.stepExplainer(k)).model.run(x)).data];
        const want = [...(await (await b!.stepExplainer(k)).model.run(x)).data];
        assert.deepEqual(got, want, `step ${k}`);
        assert.notDeepEqual(got, before);
      }
    } finally {
      await a!.release();
      await b!.release();
      await external.release();
      await inline.release();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('draws: truncated normal at ±2σ with the original σ (a constant tensor: σ = |value|)', () => {
    const original = Float32Array.from({ length: 20000 }, (_, i) => (i % 2 ? 0.5 : -0.5)); // σ = 0.5
    const v = reinitialized(original, mulberry32(1));
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    // A normal truncated at ±2 has sd √(1 − 4φ(2)/(2Φ(2) − 1)) = 0.8796.
    assert.ok(Math.abs(sd - 0.5 * 0.8796) < 0.01, `sd ${sd}`);
    assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
    assert.ok(v.every((x) => Math.abs(x) <= 1 + 1e-6));
    const c = reinitialized(new Float32Array(5000).fill(3), mulberry32(2));
    assert.ok(c.every((x) => Math.abs(x) <= 6 + 1e-5) && c.some((x) => Math.abs(x) > 3));
  });
});

describe('random-logit test', () => {
  test('linear model with w1 = −w0: Guided Backprop maps have ρ(raw) = −1, ρ(abs) = 1, SSIM 1', async () => {
    const w0 = Array.from({ length: 49 }, (_, i) => (i - 24) / 10 + (i % 5) / 100);
    const bytes = buildModel({
      opset: 13,
      inputs: [{ name: 'input', shape: ['batch', 1, 7, 7] }],
      outputs: [{ name: 'logits', shape: ['batch', 2] }],
      initializers: [{ name: 'w', dims: [2, 49], values: [...w0, ...w0.map((v) => -v)] }],
      nodes: [
        { op: 'Flatten', inputs: ['input'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'w'], outputs: ['logits'], attrs: { transB: 1 } },
      ],
    });
    const ex = await explainerFor(bytes);
    const cascade = CascadingRandomization.create(ex, { methods: ['guided-backprop'] });
    try {
      const [r] = await cascade.check(float32(new Float32Array(49).fill(1), [1, 1, 7, 7]));
      const logit = r!.randomLogit[0]!;
      // ⟨w0, 1⟩ = 0.4 > ⟨w1, 1⟩: class 0 predicted; with two classes the other one is 1.
      assert.equal(r!.class, 0);
      assert.equal(logit.other, 1);
      assert.ok(Math.abs(logit.spearman + 1) < 1e-12, String(logit.spearman));
      assert.ok(Math.abs(logit.spearmanAbs - 1) < 1e-12, String(logit.spearmanAbs));
      assert.ok(Math.abs(logit.ssim - 1) < 1e-9, String(logit.ssim));
      // Step 1 randomizes the only layer: the map is the new weight row, unrelated to w0.
      assert.equal(r!.cascade.length, 1);
      assert.ok(Math.abs(r!.cascade[0]!.spearman) < 0.5, String(r!.cascade[0]!.spearman));
    } finally {
      await cascade.release();
      await ex.release();
    }
  });
});

describe('random-logit draws', () => {
  test('uniform over the other classes, never the background (labelOffset 1), fixed per image id', async () => {
    // 4 outputs, index 0 a background; input 1s: y = row sums of W, class 2 wins.
    const rows = [
      [0, 0, 0],
      [1, 0, 0],
      [2, 1, 0],
      [0, 1, 1],
    ];
    const bytes = buildModel({
      opset: 13,
      inputs: [{ name: 'input', shape: ['batch', 1, 7, 7] }],
      outputs: [{ name: 'logits', shape: ['batch', 4] }],
      initializers: [
        {
          name: 'w',
          dims: [4, 49],
          values: rows.flatMap((r) => Array.from({ length: 49 }, (_, i) => r[i % 3]! + i / 100)),
        },
      ],
      nodes: [
        { op: 'Flatten', inputs: ['input'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'w'], outputs: ['logits'], attrs: { transB: 1 } },
      ],
    });
    const model = await ImageModel.create(
      nodeRuntime,
      { bytes, model: decodeModel(bytes) },
      { preprocess: { labelOffset: 1 } },
    );
    const ex = Explainer.fromModel(model);
    const cascade = CascadingRandomization.create(ex, { methods: ['guided-backprop'] });
    try {
      const n = 40;
      const ids = Array.from({ length: n }, (_, i) => `img-${i}`);
      const input = float32(new Float32Array(n * 49).fill(1), [n, 1, 7, 7]);
      const results = await cascade.check(input, ids);
      const others = results.map((r) => r.randomLogit[0]!.other);
      assert.ok(results.every((r) => r.class === 2));
      assert.ok(
        others.every((o) => o === 1 || o === 3),
        others.join(','),
      );
      const ones = others.filter((o) => o === 1).length;
      assert.ok(ones > 10 && ones < 30, `${ones} of ${n} draws are class 1`);
      // The same id draws the same class in another batch (a resumed or sharded run).
      const again = await cascade.check(float32(new Float32Array(49).fill(1), [1, 1, 7, 7]), [ids[7]!]);
      assert.equal(again[0]!.randomLogit[0]!.other, others[7]);
      await assert.rejects(cascade.check(input, ['one']), /ids for 40 images/);
    } finally {
      await cascade.release();
      await ex.release();
    }
  });
});

describe('binary MNIST: Grad-CAM decorrelates, Guided Backprop much less', { skip: skipNoShared }, () => {
  test('cascading randomization over 30 digits and 3 seeds', async (t) => {
    const root = join(sharedDir, 'data', 'binary-mnist', 'test');
    const files = ['0', '1'].flatMap((d) =>
      readdirSync(join(root, d))
        .sort()
        .slice(0, 15)
        .map((f) => join(root, d, f)),
    );
    const images = await Promise.all(files.map((f) => decodeImageFile(f)));
    // Raw 0–255 pixels (models/binary-mnist/README.md): no scaling, mean 0, std 1.
    const ex = await loadExplainer(join(sharedDir, 'models', 'binary-mnist'), {
      preprocess: { scale: '0-255', mean: [0], std: [1] },
    });
    const perSeed: { gc: number; gbp: number; gcRaw: number; gbpRaw: number }[] = [];
    try {
      for (const seed of [0, 1, 2]) {
        const cascade = CascadingRandomization.create(ex, { seed });
        try {
          const results = await cascade.check(images);
          // The original model is right on these digits, so the explained class is the digit.
          assert.deepEqual(
            results.map((r) => r.class),
            files.map((f) => Number(f.split('/').at(-2))),
          );
          const summary = summarizeCascade(results);
          for (const s of summary) {
            t.diagnostic(
              `seed ${seed} ${s.method.padEnd(15)} step ${s.step} (${s.layer.padEnd(7)}) ρ|·| ${s.spearmanAbs.toFixed(3)}  ρ ${s.spearman.toFixed(3)}  SSIM ${s.ssim.toFixed(3)}  undefined ρ: ${s.undefinedRho}/${s.images}`,
            );
          }
          const overSteps = (m: string, k: 'spearmanAbs' | 'spearman') => {
            const v = summary.filter((s) => s.method === m).map((s) => s[k]);
            return v.reduce((a, b) => a + b, 0) / v.length;
          };
          perSeed.push({
            gc: overSteps('gradcam', 'spearmanAbs'),
            gbp: overSteps('guided-backprop', 'spearmanAbs'),
            gcRaw: overSteps('gradcam', 'spearman'),
            gbpRaw: overSteps('guided-backprop', 'spearman'),
          });
          const logit = results.flatMap((r) => r.randomLogit);
          for (const m of cascade.methods) {
            const v = logit
              .filter((l) => l.method === m)
              .map((l) => l.spearmanAbs)
              .filter(Number.isFinite);
            t.diagnostic(
              `seed ${seed} random logit ${m}: mean ρ|·| ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(3)}`,
            );
          }
        } finally {
          await cascade.release();
        }
      }
    } finally {
      await ex.release();
    }
    const mean = (k: keyof (typeof perSeed)[0]) => perSeed.reduce((a, s) => a + s[k], 0) / perSeed.length;
    t.diagnostic(
      `mean over steps and seeds: ρ|·| Grad-CAM ${mean('gc').toFixed(3)} vs Guided Backprop ${mean('gbp').toFixed(3)}; ρ ${mean('gcRaw').toFixed(3)} vs ${mean('gbpRaw').toFixed(3)}`,
    );
    // Every seed shows the direction; on average by a margin.
    for (const s of perSeed) assert.ok(s.gbp > s.gc, `Guided Backprop ${s.gbp} ≤ Grad-CAM ${s.gc}`);
    assert.ok(mean('gbp') - mean('gc') > 0.1, `margin ${mean('gbp') - mean('gc')}`);
    assert.ok(mean('gbpRaw') - mean('gcRaw') > 0.2, `raw margin ${mean('gbpRaw') - mean('gcRaw')}`);
    assert.ok(mean('gc') < 0.35, `Grad-CAM keeps ρ ${mean('gc')}`);
  });
});
