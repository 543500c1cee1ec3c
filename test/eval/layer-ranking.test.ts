// rankLayers' "probability kept" for a class whose probability underflows float32 (it printed NaN% kept:
// 0 / 0), checked against the same ratio computed by hand in float64 log space; and a model output
// that is not finite is a 'non-finite' error rather than a ranking of NaNs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import { rankLayers } from '../../src/eval/layer-ranking.ts';
import { BLOCK_IMAGE, explainerFor, gapModel, inputTensor, mapOf } from '../helpers/hand-models.ts';

const logProb = (row: ArrayLike<number>, c: number) => {
  const xs = Array.from(row);
  const max = Math.max(...xs);
  return xs[c]! - max - Math.log(xs.reduce((s, v) => s + Math.exp(v - max), 0));
};

test('a class with probability 0 in float32 keeps a finite, correct ratio', async () => {
  // Class 1's logit is ~130 below class 0's: softmax in float32 gives exactly 0 for it.
  const ex = await explainerFor(
    gapModel({
      fc: [
        [12, 12, 12],
        [-12, -12, -12.5],
      ],
      size: 4,
    }),
  );
  try {
    const x = inputTensor([BLOCK_IMAGE], 4);
    const logits = (await ex.model.run(x)).data;
    assert.ok(Math.exp(logProb(logits, 1)) < 1e-38, 'the probability underflows float32');
    const { scores, classIndex } = await rankLayers(ex.model, x, { classIndex: 1 });
    assert.equal(classIndex, 1);
    const s = scores.find((l) => l.layer.name === 'features')!;
    assert.ok(Number.isFinite(s.kept!), `kept ${s.kept}`);
    // Independently: mask the input by the layer's Grad-CAM map and compare log-probabilities.
    const map = mapOf(await ex.explain(x, { target: 1, layers: ['features'] }), 'gradcam');
    const masked = x.data.map((v, i) => v * map[i % 16]!);
    const pm = (await ex.model.run({ ...x, data: masked })).data;
    const want = Math.exp(logProb(pm, 1) - logProb(logits, 1));
    assert.ok(Math.abs(s.kept! - want) <= 1e-4 * Math.max(1, want), `${s.kept} vs ${want}`);
    assert.ok(Math.abs(s.drop! - Math.max(0, 1 - want)) < 1e-4);
  } finally {
    await ex.release();
  }
});

test('a non-finite model output is a non-finite error', async () => {
  const ex = await explainerFor(
    gapModel({
      fc: [
        [1, Number.NaN, 1],
        [1, 1, 1],
      ],
      size: 4,
    }),
  );
  try {
    await assert.rejects(
      rankLayers(ex.model, inputTensor([BLOCK_IMAGE], 4), { classIndex: 1 }),
      (e: unknown) => {
        assert.ok(e instanceof GradsightError);
        assert.equal(e.code, 'non-finite');
        return true;
      },
    );
  } finally {
    await ex.release();
  }
});
