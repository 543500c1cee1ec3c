// The map pipeline through the Explainer on the hand-weighted "blocks" model, against maps by hand:
// counterfactuals (the gradient is negated before each method's own ReLU, then normalised again),
// multi-layer fusion, 'batch' vs 'per-image' normalisation, and the bilinear upsample from a 2×2 feature
// map to a 4×4 input (OpenCV half-pixel weights 1, ¾/¼, ¼/¾, 1 written out).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Explainer } from '../../src/explain/explainer.ts';
import {
  assertClose,
  BLOCK_FC,
  BLOCK_IMAGE,
  explainerFor,
  gapModel,
  inputTensor,
  mapOf,
  maxAbsDiff,
  minMax,
  relu,
  weighted,
} from '../helpers/hand-models.ts';

const A = BLOCK_IMAGE.map(relu);
const g0 = BLOCK_FC[0]!.map((w) => w / 16); // class 0: [1, 2, −1]/16
const rawGradcam0 = weighted(A, g0); // (0,0) 0.125, top-left 0.25, top-right 0.125, bottom −0.5
const bottom = (v: number) => [0, 0, 0, 0, 0, 0, 0, 0, v, v, v, v, v, v, v, v];

describe('pipeline on the blocks model', () => {
  let ex: Explainer;
  const x = inputTensor([BLOCK_IMAGE], 4);
  before(async () => {
    ex = await explainerFor(gapModel({ fc: BLOCK_FC, size: 4 }));
  });
  after(() => ex.release());

  test('counterfactual Grad-CAM, HiResCAM, XGrad-CAM: ReLU(−Σ α A), then normalised', async () => {
    const methods = ['gradcam', 'hirescam', 'xgradcam'] as const;
    const none = await ex.explain(x, {
      method: [...methods],
      target: '0',
      layers: ['features'],
      counterfactual: true,
      normalize: 'none',
    });
    const scaled = await ex.explain(x, {
      method: [...methods],
      target: '0',
      layers: ['features'],
      counterfactual: true,
    });
    for (const m of methods) {
      assertClose(mapOf(none, m), bottom(0.5), 1e-7, `${m} none`);
      const once = bottom(0.5 / (0.5 + 1e-7));
      assertClose(
        mapOf(scaled, m),
        once.map((v) => v / (Math.max(...once) + 1e-7)),
        1e-7,
        `${m} per-image`,
      );
    }
    // The paper's equivalence: same map as the target −y_0 given as a raw seed.
    const seeded = await ex.explain(x, {
      method: 'gradcam',
      target: { kind: 'seed', seed: Float32Array.from([-1, 0, 0]) },
      layers: ['features'],
      normalize: 'none',
    });
    assertClose(mapOf(seeded, 'gradcam'), bottom(0.5), 1e-7, 'seed −e_0');
    assert.ok(none.explanations.every((e) => e.target.counterfactual && e.target.score === 2.625));
  });

  test('counterfactual LayerCAM, element-wise Grad-CAM, Grad-CAM++ negate g before their ReLU', async () => {
    const methods = ['layercam', 'gradcam-elementwise', 'gradcam++'] as const;
    const plain = await ex.explain(x, {
      method: [...methods],
      target: '0',
      layers: ['features'],
      normalize: 'none',
    });
    const cf = await ex.explain(x, {
      method: [...methods],
      target: '0',
      layers: ['features'],
      counterfactual: true,
      normalize: 'none',
    });
    // −g = [−1, −2, 1]/16: only channel 2 survives the ReLU: A_2/16 = 2/16 at (0,0), 8/16 at the bottom.
    const layer = [0.125, ...bottom(0.5).slice(1)];
    assertClose(mapOf(cf, 'layercam'), layer, 1e-7, 'layercam');
    assertClose(mapOf(cf, 'gradcam-elementwise'), layer, 1e-7, 'gradcam-elementwise');
    // Grad-CAM++ with g = 1/16 on channel 2, Σ A_2 = 66: w_2 = 16 · (1/16) · α.
    const alpha = 1 / 256 / (2 / 256 + 66 / 4096 + 1e-6);
    assertClose(
      mapOf(cf, 'gradcam++'),
      A[2]!.map((v) => alpha * v),
      1e-6,
      'gradcam++',
    );
    // Negating the map instead would leave nothing: every plain map is ≥ 0, so ReLU(−map) = 0.
    for (const m of methods) {
      assert.ok(mapOf(plain, m).some((v) => v > 0));
      assert.ok(
        mapOf(plain, m).every((v) => v >= 0),
        `${m}: ReLU(−plain) would be all zero, unlike the counterfactual`,
      );
      assert.ok(mapOf(cf, m).some((v) => v > 0));
    }
  });

  test('two layers: mean of the per-layer normalised maps, normalised again', async () => {
    // Layer 'conv' (before the Relu, = the input): ∂y/∂z_k = g_k·1[z_k > 0], so α_k = g_k·n_k/16 with
    // n = [4, 4, 9] positive pixels per channel; the raw map includes the −1 background.
    const n = [4, 4, 9];
    const rawConv = weighted(
      BLOCK_IMAGE,
      g0.map((g, k) => (g * n[k]!) / 16),
    );
    const perLayer = [rawConv, rawGradcam0].map((raw) => minMax(relu(raw)));
    const meanMap = perLayer[0]!.map((v, i) => (v + perLayer[1]![i]!) / 2);
    const r = await ex.explain(x, { method: 'gradcam', target: '0', layers: ['conv', 'features'] });
    assertClose(mapOf(r, 'gradcam'), minMax(meanMap), 1e-6, 'per-image');
    assert.deepEqual(r.explanations[0]!.layers, ['conv', 'features']);
    // With normalize 'none': the plain mean of the ReLU'd raw maps.
    const none = await ex.explain(x, {
      method: 'gradcam',
      target: '0',
      layers: ['conv', 'features'],
      normalize: 'none',
    });
    const want = relu(rawConv).map((v, i) => (v + relu(rawGradcam0)[i]!) / 2);
    assertClose(mapOf(none, 'gradcam'), want, 1e-7, 'none');
    assert.ok(maxAbsDiff(relu(rawConv), relu(rawGradcam0)) > 0.01, 'the two layers differ');
  });

  test("'batch' normalisation shares one min and max over the images; 'per-image' does not", async () => {
    // Image 1 is image 0 × 2, so its raw map is twice image 0's.
    const two = inputTensor([BLOCK_IMAGE, BLOCK_IMAGE.map((c) => c.map((v) => 2 * v))], 4);
    const per = await ex.explain(two, { method: 'gradcam', target: '0', layers: ['features'] });
    const batch = await ex.explain(two, {
      method: 'gradcam',
      target: '0',
      layers: ['features'],
      normalize: 'batch',
    });
    const r0 = relu(rawGradcam0);
    const r1 = r0.map((v) => 2 * v);
    const twice = (m: number[]) => minMax(minMax(m));
    assertClose(mapOf(per, 'gradcam', 0), twice(r0), 1e-6, 'per-image 0');
    assertClose(mapOf(per, 'gradcam', 1), twice(r1), 1e-6, 'per-image 1');
    // Batch: min 0, max 0.5 over both rows, twice (the second pass over both rows too).
    const once = [r0, r1].map((m) => minMax(m, 0, 0.5));
    const hi = Math.max(...once[1]!);
    assertClose(mapOf(batch, 'gradcam', 0), minMax(once[0]!, 0, hi), 1e-6, 'batch 0');
    assertClose(mapOf(batch, 'gradcam', 1), minMax(once[1]!, 0, hi), 1e-6, 'batch 1');
    assert.ok(Math.abs(Math.max(...mapOf(batch, 'gradcam', 0)) - 0.5) < 1e-6, 'image 0 peaks at one half');
  });
});

describe('upsampling a 2×2 map to the 4×4 input', () => {
  test('Grad-CAM through a stride-2 1×1 conv: OpenCV bilinear weights by hand', async () => {
    const ex = await explainerFor(gapModel({ fc: BLOCK_FC, size: 4, stride: 2 }));
    try {
      const x = inputTensor([BLOCK_IMAGE], 4);
      // Features keep pixels (0,0), (0,2), (2,0), (2,2): A_0 = [4,0,0,0], A_1 = [0,1,0,0], A_2 = [2,0,8,8].
      // Class 1, g = [−1, 0.5, 2]/4: raw = [0, 0.125, 4, 4].
      const raw = [0, 0.125, 4, 4];
      // Half-pixel centres, 2 → 4: output i samples (i + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25,
      // clamped at the borders.
      const R = [
        [1, 0],
        [0.75, 0.25],
        [0.25, 0.75],
        [0, 1],
      ];
      const up = (m: readonly number[]) =>
        Array.from({ length: 16 }, (_, q) => {
          const [i, j] = [Math.floor(q / 4), q % 4];
          let s = 0;
          for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) s += R[i]![a]! * R[j]![b]! * m[a * 2 + b]!;
          return s;
        });
      const none = await ex.explain(x, {
        method: 'gradcam',
        target: '1',
        layers: ['features'],
        normalize: 'none',
      });
      assertClose(mapOf(none, 'gradcam'), up(raw), 1e-6, 'none');
      // Spot values: (1,1) = ¾·¾·0 + ¾·¼·0.125 + ¼·¾·4 + ¼·¼·4 = 1.0234375.
      assert.ok(Math.abs(mapOf(none, 'gradcam')[5]! - 1.0234375) < 1e-6);
      const scaled = await ex.explain(x, { method: 'gradcam', target: '1', layers: ['features'] });
      assertClose(mapOf(scaled, 'gradcam'), minMax(up(minMax(raw))), 1e-6, 'per-image');
    } finally {
      await ex.release();
    }
  });
});
