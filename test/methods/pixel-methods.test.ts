// Guided Backprop, Deconvnet and Guided Grad-CAM: exact input gradients on a model with a mixing 1×1
// conv before the Relu, where the guided rule and the standard gradient differ in sign. Expected values
// from the chain rule by hand: ∂y_c/∂x_j = Σ_k V[k,j] · r(g_k, z_k) with g_k = W[c,k]/(h·w) at the
// Relu output and r the Relu's backward rule (standard g·1[z>0], guided g·1[z>0]·1[g>0], deconvnet
// max(g, 0)).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Explainer, ExplainResult } from '../../src/explain/explainer.ts';
import { GradientRunner } from '../../src/model/gradient-runner.ts';
import {
  assertClose,
  explainerFor,
  gapModel,
  inputTensor,
  mapOf,
  maxAbsDiff,
  minMax,
  relu,
  weighted,
} from '../helpers/hand-models.ts';

const V = [
  [1, 0, 0],
  [1, 1, 0],
  [0, -1, 1],
];
const W = [
  [1, -2, 0.5],
  [0.5, 1, -1],
  [-1, 0.25, 1],
];
// 2×2 image; z = V·x has no zeros: z0 = [1, 2, −1, 0.5], z1 = [2, −1, −0.5, 1.5], z2 = [1, 4, 0.5, −3].
const X = [
  [1, 2, -1, 0.5],
  [1, -3, 0.5, 1],
  [2, 1, 1, -2],
];
const Z = V.map((row) => X[0]!.map((_, p) => row.reduce((s, v, j) => s + v * X[j]![p]!, 0)));
const HW = 4;

type Rule = (g: number, z: number) => number;
const standard: Rule = (g, z) => (z > 0 ? g : 0);
const guided: Rule = (g, z) => (z > 0 && g > 0 ? g : 0);
const deconv: Rule = (g) => Math.max(g, 0);

/** [3 input channels × 4 pixels] input gradient of the seed-weighted logits under a Relu rule. */
function inputGradient(seed: readonly number[], rule: Rule): number[] {
  const g = [0, 1, 2].map((k) => seed.reduce((s, sc, c) => s + (sc * W[c]![k]!) / HW, 0));
  return [0, 1, 2].flatMap((j) =>
    [0, 1, 2, 3].map((p) => V.reduce((s, vk, k) => s + vk[j]! * rule(g[k]!, Z[k]![p]!), 0)),
  );
}

describe('Guided Backprop, Deconvnet, Guided Grad-CAM (input gradients by hand)', () => {
  let ex: Explainer;
  let r: ExplainResult;
  let cf: ExplainResult;
  const x = inputTensor([X], 2);
  const methods = ['guided-backprop', 'deconvnet', 'guided-gradcam'] as const;
  before(async () => {
    ex = await explainerFor(gapModel({ conv: V, fc: W, size: 2 }));
    r = await ex.explain(x, { method: [...methods], target: ['0', '1'], layers: ['features'] });
    cf = await ex.explain(x, { method: 'guided-backprop', target: '0', counterfactual: true });
  });
  after(() => ex.release());

  test('the standard gradient (a plain gradient run) matches the chain rule', async () => {
    const runner = await GradientRunner.create(ex.model, { wrt: ['input'] });
    try {
      const out = await runner.run(x, { dtype: 'float32', dims: [1, 3], data: Float32Array.from([1, 0, 0]) });
      assertClose(out.grads.input!.data, inputGradient([1, 0, 0], standard), 1e-7, 'standard');
    } finally {
      await runner.release();
    }
  });

  test('Guided Backprop: guided Relu rule, and the sign differs from the standard gradient', () => {
    for (const c of [0, 1]) {
      const seed = [0, 1, 2].map((i) => (i === c ? 1 : 0));
      assertClose(mapOf(r, 'guided-backprop', c), inputGradient(seed, guided), 1e-7, `class ${c}`);
    }
    // Class 0, input channel 0, pixel 0: standard 0.25 − 0.5 = −0.25, guided +0.25.
    assert.equal(inputGradient([1, 0, 0], standard)[0], -0.25);
    assert.equal(mapOf(r, 'guided-backprop', 0)[0], 0.25);
  });

  test('Deconvnet: Relu passes max(g, 0), ignoring the forward mask', () => {
    for (const c of [0, 1]) {
      const seed = [0, 1, 2].map((i) => (i === c ? 1 : 0));
      assertClose(mapOf(r, 'deconvnet', c), inputGradient(seed, deconv), 1e-7, `class ${c}`);
    }
    const d = inputGradient([1, 0, 0], deconv);
    const gb = inputGradient([1, 0, 0], guided);
    assert.ok(maxAbsDiff(d, gb) > 0.1, 'deconvnet differs from guided here');
  });

  test('Guided Grad-CAM = Guided Backprop ⊙ the final (normalised) Grad-CAM map, per channel', () => {
    for (const c of [0, 1]) {
      const seed = [0, 1, 2].map((i) => (i === c ? 1 : 0));
      const cam = relu(
        weighted(
          Z.map(relu),
          W[c]!.map((w) => w / HW),
        ),
      );
      const once = minMax(cam);
      const map = minMax(relu(once));
      const gb = inputGradient(seed, guided);
      assertClose(
        mapOf(r, 'guided-gradcam', c),
        gb.map((v, i) => v * map[i % HW]!),
        1e-6,
        `class ${c}`,
      );
      assert.ok(
        map.some((v) => v > 0 && v < 0.99),
        'the map is not a constant mask',
      );
    }
  });

  test('counterfactual Guided Backprop passes the negated gradient through the guided rule', () => {
    assertClose(mapOf(cf, 'guided-backprop'), inputGradient([-1, 0, 0], guided), 1e-7, 'counterfactual');
  });
});
