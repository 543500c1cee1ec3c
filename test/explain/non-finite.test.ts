// Non-finite numbers are reported, not hidden: NaN or ±Inf in the input is a 'non-finite' error by
// default (allowNonFinite explains it anyway); a model whose output is not finite gets a diagnostic on
// its predictions (no top-1 "class 0" with a NaN score) and on every explanation; an infinite
// activation is diagnosed as such, not as "all weights negative".

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import { diagnose } from '../../src/explain/diagnose.ts';
import type { Explainer } from '../../src/explain/explainer.ts';
import { targetGradients } from '../../src/explain/gradients.ts';
import { rankOutput } from '../../src/model/predict.ts';
import { BLOCK_IMAGE, explainerFor, gapModel, inputTensor } from '../helpers/hand-models.ts';

const FC = [
  [1, 2, 0.5],
  [-1, -0.5, -2],
  [0.5, -1, 1],
];
const x = inputTensor([BLOCK_IMAGE], 4);

describe('a non-finite input', () => {
  let ex: Explainer;
  before(async () => {
    ex = await explainerFor(gapModel({ fc: FC, size: 4 }));
  });
  after(() => ex.release());

  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    test(`${bad} in the input tensor is a non-finite error naming where`, async () => {
      const data = x.data.slice();
      data[17] = bad;
      await assert.rejects(ex.explain({ ...x, data }), (e: unknown) => {
        assert.ok(e instanceof GradsightError);
        assert.equal(e.code, 'non-finite');
        assert.match(e.message, new RegExp(`${bad}.*index 17`));
        assert.match(e.hint ?? '', /allowNonFinite/);
        return true;
      });
      await assert.rejects(targetGradients(ex.model, { ...x, data }, { wrt: ['input'] }), /non-finite|holds/);
    });
  }

  test('allowNonFinite explains it, and every map says it is not finite', async () => {
    const data = x.data.slice();
    data[5] = Number.NaN;
    const r = await ex.explain(
      { ...x, data },
      { allowNonFinite: true, method: ['gradcam', 'guided-backprop'] },
    );
    assert.equal(r.explanations.length, 2);
    for (const e of r.explanations) assert.equal(e.diagnostic?.code, 'non-finite', e.method);
    assert.equal(r.predictions[0]!.diagnostic?.code, 'non-finite');
  });
});

describe('a model whose output is not finite', () => {
  test('a NaN weight: predictions carry a diagnostic and no NaN scores', async () => {
    const fc = FC.map((row) => [...row]);
    fc[2]![1] = Number.NaN;
    const ex = await explainerFor(gapModel({ fc, size: 4 }));
    try {
      const r = await ex.explain(x, { target: [0, 2] });
      const p = r.predictions[0]!;
      assert.equal(p.diagnostic?.code, 'non-finite');
      assert.match(p.diagnostic!.message, /1 of 3/);
      assert.ok(
        p.top.every((c) => Number.isFinite(c.score)),
        JSON.stringify(p.top),
      );
      // Class 2's score is NaN. Class 0's score is finite, but its gradient is NaN too: the backward
      // pass of the Gemm multiplies the seed by every weight, and 0 × NaN is NaN. Both are diagnosed.
      const [e0, e2] = r.explanations;
      assert.ok(Number.isFinite(e0!.target.score));
      assert.equal(e0!.diagnostic?.code, 'non-finite');
      assert.match(e0!.diagnostic!.message, /map/);
      assert.equal(e2!.diagnostic?.code, 'non-finite');
      assert.match(e2!.diagnostic!.message, /score/);
    } finally {
      await ex.release();
    }
  });

  test('an Inf bias (infinite activations): non-finite, not "all weights negative"', async () => {
    // Every feature is +Inf; class 1 has only negative weights, so its CAM is −Inf everywhere and the
    // ReLU leaves zeros: the old diagnosis blamed the weights.
    const ex = await explainerFor(
      gapModel({
        fc: FC,
        size: 4,
        convBias: [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
      }),
    );
    try {
      const r = await ex.explain(x, { target: 1 });
      const e = r.explanations[0]!;
      assert.equal(e.diagnostic?.code, 'non-finite');
      assert.equal(r.predictions[0]!.diagnostic?.code, 'non-finite');
    } finally {
      await ex.release();
    }
  });
});

describe('diagnose and rankOutput on their own', () => {
  const base = { method: 'gradcam' as const, gradients: [], probability: undefined };
  test('a −Inf raw CAM is non-finite; a finite negative one is all-weights-negative', () => {
    const map = new Float32Array(4);
    assert.equal(
      diagnose({ ...base, map, rawCams: [Float32Array.of(Number.NEGATIVE_INFINITY, -1)] })?.code,
      'non-finite',
    );
    assert.equal(
      diagnose({ ...base, map, rawCams: [Float32Array.of(-2, -1)] })?.code,
      'all-weights-negative',
    );
  });
  test('a non-finite score is non-finite even when the map looks fine', () => {
    const map = Float32Array.of(0, 0.5, 1, 0.2);
    assert.equal(diagnose({ ...base, map, rawCams: [], score: Number.NaN })?.code, 'non-finite');
    assert.equal(diagnose({ ...base, map, rawCams: [], score: 3 }), undefined);
  });
  test('rankOutput flags a row with an Inf logit and keeps the finite row as it was', () => {
    const out = {
      dtype: 'float32' as const,
      dims: [2, 3],
      data: Float32Array.of(1, Number.POSITIVE_INFINITY, 0, 0, 2, 1),
    };
    const [bad, good] = rankOutput(out, { top: 3, labels: undefined, outputIsProbability: false });
    assert.equal(bad!.diagnostic?.code, 'non-finite');
    assert.deepEqual(bad!.top, []);
    assert.equal(good!.diagnostic, undefined);
    assert.deepEqual(
      good!.top.map((c) => c.index),
      [1, 2, 0],
    );
    const e = Math.exp;
    assert.ok(Math.abs(good!.top[0]!.score - e(2) / (e(0) + e(2) + e(1))) < 1e-6);
  });
});
