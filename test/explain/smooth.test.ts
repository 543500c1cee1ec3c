// SmoothGrad-style averaging with every method of the table: the map of `smooth: {samples, noise}` is
// the mean of the maps of the noisy copies, each explained on its own (its own gradients, its own
// target score: Ablation-CAM's relative drop is taken from the copy's score, not the clean one's).
// On a model whose raw maps are positive (features = input + 10, no Relu; positive weights), the
// final Relu commutes with the mean, so the two must agree exactly. Guided Grad-CAM multiplies the
// averaged Guided Backprop by the averaged Grad-CAM map.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Explainer, ExplainOptions } from '../../src/explain/explainer.ts';
import { METHODS } from '../../src/methods/table.ts';
import type { MethodId } from '../../src/methods/types.ts';
import { GradientRunner } from '../../src/model/gradient-runner.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import {
  BLOCK_IMAGE,
  explainerFor,
  gapModel,
  inputTensor,
  mapOf,
  maxAbsDiff,
  mean,
} from '../helpers/hand-models.ts';

const FC = [
  [1, 2, 0.5],
  [0.5, 1, 1],
];
const SAMPLES = 3;
const smooth = { samples: SAMPLES, noise: 0.1, seed: 3 };
const x = inputTensor([BLOCK_IMAGE], 4);

let ex: Explainer;
/** The noisy copies explain() feeds (recorded from the gradient run). */
let copies: Float32Tensor[];
const restore = () => {};
afterEach(() => restore());

before(async () => {
  ex = await explainerFor(gapModel({ fc: FC, size: 4, relu: false, convBias: [10, 10, 10] }));
  const run = GradientRunner.prototype.run;
  const inputs: Float32Tensor[] = [];
  GradientRunner.prototype.run = function (this: GradientRunner, input, seed, extra) {
    inputs.push({ ...input, data: input.data.slice() });
    return run.call(this, input, seed, extra);
  };
  try {
    await ex.explain(x, { method: 'gradcam', target: '0', layers: ['conv'], smooth });
  } finally {
    GradientRunner.prototype.run = run;
  }
  const noisy = inputs[0]!;
  assert.deepEqual(noisy.dims, [SAMPLES, 3, 4, 4]);
  copies = Array.from({ length: SAMPLES }, (_, s) => ({
    dtype: 'float32',
    dims: [1, 3, 4, 4],
    data: noisy.data.slice(s * 48, (s + 1) * 48),
  }));
  assert.ok(maxAbsDiff(copies[0]!.data, x.data) > 0.1, 'noisy');
});
after(async () => {
  await ex.release();
});

const opts = (method: MethodId): ExplainOptions => ({
  method,
  target: '0',
  layers: ['conv'],
  normalize: 'none',
});
const meanOf = (maps: readonly Float32Array[]) =>
  Array.from(maps[0]!, (_, p) => mean(maps.map((m) => m[p]!)));

describe('smooth: the mean of the noisy copies’ maps, for every method', () => {
  // Eigen-Grad-CAM's raw map (a centred principal component) changes sign, so the final Relu does not
  // commute with the mean there; Guided Grad-CAM is checked below.
  const methods = METHODS.filter((x) => x.id !== 'guided-gradcam' && x.id !== 'eigengradcam');
  for (const { id: m, output } of methods) {
    test(m, async () => {
      const got = mapOf(await ex.explain(x, { ...opts(m), smooth }), m);
      const each = [];
      for (const c of copies) each.push(mapOf(await ex.explain(c, opts(m)), m));
      const want = meanOf(each);
      const scale = Math.max(...want.map(Math.abs));
      assert.ok(scale > 1e-3, 'a map worth comparing');
      const plain = mapOf(await ex.explain(x, opts(m)), m);
      // (On this linear model the input gradient is constant: pixel methods do not change with noise.)
      if (output === 'cam') assert.ok(maxAbsDiff(plain, want) > 1e-4 * scale, 'the noise changes the map');
      const d = maxAbsDiff(got, want);
      assert.ok(d <= 1e-5 * scale, `${m}: max |Δ| ${d} (scale ${scale})`);
    });
  }

  test('guided-gradcam: mean Guided Backprop × the smoothed Grad-CAM map, finite', async () => {
    const got = mapOf(await ex.explain(x, { ...opts('guided-gradcam'), smooth }), 'guided-gradcam');
    const gb = mapOf(await ex.explain(x, { ...opts('guided-backprop'), smooth }), 'guided-backprop');
    const cam = mapOf(await ex.explain(x, { ...opts('gradcam'), smooth }), 'gradcam');
    const want = Array.from(gb, (v, i) => v * cam[i % 16]!);
    assert.ok(got.every(Number.isFinite), 'finite');
    const d = maxAbsDiff(got, want);
    assert.ok(d <= 1e-5 * Math.max(...want.map(Math.abs)), `max |Δ| ${d}`);
  });
});
