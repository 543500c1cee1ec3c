// Empty-map diagnostics through the Explainer, on hand-weighted models built to produce each cause:
// every channel weight negative, a layer with an exactly zero gradient (a Relu dead on the whole
// input, or a saturated softmax under a probability target), dead activations, and a NaN input.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExplainOptions } from '../../src/explain/explainer.ts';
import {
  BLOCK_FC,
  BLOCK_IMAGE,
  explainerFor,
  type GapModelSpec,
  gapModel,
  inputTensor,
  mapOf,
  maxAbsDiff,
  relu,
  weighted,
} from '../helpers/hand-models.ts';

async function explainBlocks(spec: Partial<GapModelSpec>, opts: ExplainOptions, image = BLOCK_IMAGE) {
  const ex = await explainerFor(gapModel({ fc: BLOCK_FC, size: 4, ...spec }));
  try {
    return await ex.explain(inputTensor([image], 4), { layers: ['features'], ...opts });
  } finally {
    await ex.release();
  }
}

describe('diagnostics of empty maps', () => {
  test('all channel weights negative → all-weights-negative, suggesting the counterfactual', async () => {
    // Class 2 has weights [−2, −1, −0.5] on non-negative activations: Σ α A ≤ 0 everywhere.
    const r = await explainBlocks({}, { method: ['gradcam', 'cam'], target: '2' });
    for (const e of r.explanations) {
      assert.ok(
        e.map!.every((v) => v === 0),
        `${e.method}: empty map`,
      );
      assert.equal(e.diagnostic?.code, 'all-weights-negative', e.method);
      assert.match(e.diagnostic!.suggestion, /counterfactual/);
    }
    const cf = await explainBlocks(
      {},
      { method: 'gradcam', target: '2', counterfactual: true, normalize: 'none' },
    );
    const e = cf.explanations[0]!;
    assert.equal(e.diagnostic, undefined);
    // ReLU(−Σ α A) = (2·A_0 + A_1 + 0.5·A_2)/16.
    const want = weighted(BLOCK_IMAGE.map(relu), [2 / 16, 1 / 16, 0.5 / 16]);
    assert.ok(maxAbsDiff(e.map!, want) <= 1e-6);
    assert.ok(e.map!.some((v) => v > 0));
  });

  test('a Relu dead on the whole input → zero-gradient at the layer before it', async () => {
    // conv bias −100: every pre-activation is negative, so ∂y/∂conv = g·1[conv > 0] = 0.
    const r = await explainBlocks(
      { convBias: [-100, -100, -100] },
      { method: ['gradcam', 'layercam'], target: '0', layers: ['conv'] },
    );
    for (const e of r.explanations) {
      assert.ok(e.map!.every((v) => v === 0));
      assert.equal(e.diagnostic?.code, 'zero-gradient', e.method);
      assert.match(e.diagnostic!.message, /does not influence/);
      assert.match(e.diagnostic!.suggestion, /layer/);
    }
  });

  test('a dead layer under a confident logit is still "does not influence", not a saturated softmax', async () => {
    // Same dead Relu, but the bias makes p(class 0) = 1: the target is the logit, whose gradient is
    // not touched by the softmax; the advice to explain the logit would be wrong.
    const r = await explainBlocks(
      { convBias: [-100, -100, -100], fcBias: [200, 0, 0] },
      { method: 'gradcam', target: '0', layers: ['conv'] },
    );
    const e = r.explanations[0]!;
    assert.equal(e.diagnostic?.code, 'zero-gradient');
    assert.match(e.diagnostic!.message, /does not influence/);
  });

  test('a probability target on a saturated softmax → zero-gradient, advising the logit', async () => {
    // p = softmax([y_0 + 200, y_1, y_2]) is exactly [1, 0, 0] in float32, so the seed p_c(e_c − p) is 0.
    const r = await explainBlocks({ fcBias: [200, 0, 0] }, { method: 'gradcam', target: 'prob:0' });
    const e = r.explanations[0]!;
    assert.ok(e.map!.every((v) => v === 0));
    assert.equal(e.diagnostic?.code, 'zero-gradient');
    assert.match(e.diagnostic!.message, /saturated/);
    assert.match(e.diagnostic!.suggestion, /logit/);
  });

  test('dead activations with a live gradient → empty-map, not all-weights-negative', async () => {
    // At 'features' (after the dead Relu) the gradient is W/16 ≠ 0 but every activation is 0: the
    // weighted sum is exactly 0, not negative, and the counterfactual would be empty too.
    const r = await explainBlocks({ convBias: [-100, -100, -100] }, { method: 'gradcam', target: '0' });
    const e = r.explanations[0]!;
    assert.ok(e.map!.every((v) => v === 0));
    assert.equal(e.diagnostic?.code, 'empty-map');
  });

  test('a NaN in the input → non-finite (Grad-CAM: the NaN reaches the map)', async () => {
    const image = BLOCK_IMAGE.map((c) => [...c]);
    image[0]![5] = Number.NaN;
    // By default a NaN input is refused (test/explain/non-finite.test.ts); allowed, the map says so.
    const r = await explainBlocks({}, { method: 'gradcam', target: '1', allowNonFinite: true }, image);
    for (const e of r.explanations) {
      assert.equal(e.diagnostic?.code, 'non-finite', e.method);
      assert.match(e.diagnostic!.suggestion, /NaN/);
    }
  });

  test('a normal map has no diagnostic', async () => {
    const r = await explainBlocks({}, { method: ['gradcam', 'guided-backprop'], target: '1' });
    for (const e of r.explanations) assert.equal(e.diagnostic, undefined, e.method);
    assert.ok(mapOf(r, 'gradcam').some((v) => v > 0));
  });
});
