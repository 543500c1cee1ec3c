// CAM, Eigen-CAM, Eigen-Grad-CAM, Score-CAM and Ablation-CAM on tiny hand-weighted models, against
// maps computed by hand or with a few lines of float64 arithmetic (the masked and ablated scores are
// recomputed here from the model's weights, not read back from gradsight). Also: CAM refuses heads that
// are not global average pooling + linear.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import type { Explainer, ExplainResult } from '../../src/explain/explainer.ts';
import {
  assertClose,
  BLOCK_FC,
  BLOCK_IMAGE,
  DENSE_FC,
  DENSE_IMAGE,
  denseModel,
  explainerFor,
  gapModel,
  inputTensor,
  mapOf,
  mean,
  relu,
  sum,
  weighted,
} from '../helpers/hand-models.ts';

const BLOCK_A = BLOCK_IMAGE.map(relu);

describe('CAM on a GAP + linear head', () => {
  let ex: Explainer;
  let none: ExplainResult;
  let scaled: ExplainResult;
  before(async () => {
    ex = await explainerFor(gapModel({ fc: BLOCK_FC, fcBias: [0.5, -3, 1], size: 4 }));
    const x = inputTensor([BLOCK_IMAGE], 4);
    const common = {
      method: ['cam', 'gradcam'],
      target: ['0', '1', '0-vs-1'],
      layers: ['features'],
    } as const;
    none = await ex.explain(x, { ...common, normalize: 'none' });
    scaled = await ex.explain(x, common);
  });
  after(() => ex.release());

  test('CAM = Σ_k W[c,k]·A_k read from the Gemm (the bias plays no part)', () => {
    assertClose(mapOf(none, 'cam', 0), [2, 4, 2, 2, 4, 4, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0], 1e-6, 'class 0');
    assertClose(
      mapOf(none, 'cam', 1),
      [0, 0, 0.5, 0.5, 0, 0, 0.5, 0.5, 16, 16, 16, 16, 16, 16, 16, 16],
      1e-6,
      'class 1',
    );
    // 0-vs-1: the seed e_0 − e_1 weights the channels by W[0] − W[1] = [2, 1.5, −3].
    assertClose(mapOf(none, 'cam', 2), relu(weighted(BLOCK_A, [2, 1.5, -3])), 1e-6, '0-vs-1');
  });

  test('CAM = 16 × Grad-CAM unnormalised, and the same map once normalised', () => {
    for (let r = 0; r < 3; r++) {
      assertClose(
        mapOf(none, 'cam', r),
        [...mapOf(none, 'gradcam', r)].map((v) => 16 * v),
        1e-6,
        `row ${r}`,
      );
      assertClose(mapOf(scaled, 'cam', r), [...mapOf(scaled, 'gradcam', r)], 1e-6, `row ${r} normalised`);
    }
  });
});

describe('CAM refuses heads that are not GAP + linear', () => {
  const x = inputTensor([BLOCK_IMAGE], 4);
  const cases = {
    'a Relu between the Gemm and the output': gapModel({ fc: BLOCK_FC, size: 4, head: 'gap-relu' }),
    'a GlobalMaxPool head': gapModel({ fc: BLOCK_FC, size: 4, head: 'max' }),
    'Flatten + Gemm without pooling': denseModel(DENSE_FC, 3),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    test(name, async () => {
      const ex = await explainerFor(bytes);
      try {
        const input = name.startsWith('Flatten') ? inputTensor([DENSE_IMAGE], 3) : x;
        await assert.rejects(
          ex.explain(input, { method: 'cam', target: '0', layers: ['features'] }),
          (e: unknown) =>
            e instanceof GradsightError && e.code === 'method-not-applicable' && /gradcam/.test(e.hint ?? ''),
        );
        // Grad-CAM still applies to the same head.
        const r = await ex.explain(input, { method: 'gradcam', target: '0', layers: ['features'] });
        assert.equal(r.explanations.length, 1);
      } finally {
        await ex.release();
      }
    });
  }
});

describe('Eigen-CAM and Eigen-Grad-CAM on rank-1 activations', () => {
  // A_k = u_k · s: the centred (hw × C) matrix is (s − s̄)·uᵀ, whose first right singular vector is
  // ±u/|u|, so the projection is ±|u|·(s − s̄); the sign is LAPACK's (numpy's svd), which
  // eigen-sign.ts replays: the expected signs below are what numpy 1.24's np.linalg.svd returns.
  const s = [0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6].map((v) => v / 2);
  const centred = s.map((v) => v - mean(s));

  test('Eigen-CAM: |u|·(s − s̄), positive loadings', async () => {
    const u = [1, 2, 3];
    const ex = await explainerFor(gapModel({ fc: BLOCK_FC, size: 4 }));
    try {
      const r = await ex.explain(inputTensor([u.map((uk) => s.map((v) => uk * v))], 4), {
        method: ['eigencam', 'eigengradcam'],
        target: '0',
        layers: ['features'],
        normalize: 'none',
      });
      assertClose(mapOf(r, 'eigencam'), relu(centred.map((v) => Math.sqrt(14) * v)), 1e-5, 'eigencam');
      // Eigen-Grad-CAM: g ⊙ A = (W[0,k]/16)·u_k·s, loadings ∝ W[0] ⊙ u = [1, 4, −3] (sum > 0).
      assertClose(
        mapOf(r, 'eigengradcam'),
        relu(centred.map((v) => (Math.sqrt(26) / 16) * v)),
        1e-5,
        'eigengradcam',
      );
    } finally {
      await ex.release();
    }
  });

  test("Eigen-CAM takes LAPACK's sign, not the loadings' sum: u = [−2, 1, −1] projects on +u", async () => {
    // Signed features (no Relu): u = [−2, 1, −1] sums to −2; numpy's VT[0] is +u/|u| = [−0.816, 0.408,
    // −0.408], so the map is +|u|(s − s̄) (a loadings-sum rule would take −u and the low end of s).
    const u = [-2, 1, -1];
    const s9 = [0, 1, 2, 1, 2, 3, 2, 3, 5];
    const c9 = s9.map((v) => v - mean(s9));
    const ex = await explainerFor(denseModel(DENSE_FC, 3));
    try {
      const r = await ex.explain(inputTensor([u.map((uk) => s9.map((v) => uk * v))], 3), {
        method: 'eigencam',
        target: '0',
        layers: ['features'],
        normalize: 'none',
      });
      assertClose(mapOf(r, 'eigencam'), relu(c9.map((v) => Math.sqrt(6) * v)), 1e-5, 'eigencam');
    } finally {
      await ex.release();
    }
  });
});

describe('Score-CAM and Ablation-CAM (scores recomputed here)', () => {
  test('Score-CAM on a linear head: softmax over k of y_c(x ⊙ mask_k), mask_k = minmax(A_k)', async () => {
    const bias = [0.25, -0.5, 1, 0];
    const ex = await explainerFor(denseModel(DENSE_FC, 3, bias));
    try {
      // Image 1 has a constant channel 1: its mask is 0 (0/(0 + 1e-8)), so its score is y_c(0) = b_c.
      const images = [DENSE_IMAGE, [DENSE_IMAGE[0]!, new Array(9).fill(0.5), DENSE_IMAGE[2]!]];
      // batchSize 2 splits the masked inputs of a row over two forward batches; a 1-byte budget runs
      // them one by one; the default budget in one batch.
      for (const batching of [{ batchSize: 2 }, { memoryBudget: 1 }, {}]) {
        const r = await ex.explain(inputTensor(images, 3), {
          method: 'scorecam',
          target: ['0', '1', '2', '3'],
          layers: ['features'],
          normalize: 'none',
          ...batching,
        });
        for (const [image, a] of images.entries()) {
          // features = input (identity 1×1 conv)
          const masks = a.map((ak) => {
            const lo = Math.min(...ak);
            const hi = Math.max(...ak);
            return ak.map((v) => (v - lo) / (hi - lo + 1e-8));
          });
          for (let c = 0; c < 4; c++) {
            // The masked input x ⊙ mask_k (every input channel), through y_c = W_c · x + b_c.
            const scores = masks.map(
              (mk) =>
                sum(DENSE_FC[c]!.map((w, i) => w * a[Math.floor(i / 9)]![i % 9]! * mk[i % 9]!)) + bias[c]!,
            );
            if (image === 1) assert.equal(scores[1], bias[c]);
            const e = scores.map((v) => Math.exp(v - Math.max(...scores)));
            const w = e.map((v) => v / sum(e));
            const want = relu(weighted(a, w));
            assertClose(
              mapOf(r, 'scorecam', image * 4 + c),
              want,
              1e-5 * Math.max(...want),
              `image ${image} class ${c} ${JSON.stringify(batching)}`,
            );
          }
        }
      }
    } finally {
      await ex.release();
    }
  });

  test('Ablation-CAM: w_k = (y − y with channel k zeroed)/y = W[c,k]·mean(A_k)/y', async () => {
    const ex = await explainerFor(gapModel({ fc: BLOCK_FC, size: 4 }));
    try {
      for (const batching of [{ batchSize: 32 }, { batchSize: 1 }, { memoryBudget: 1 }, {}]) {
        const r = await ex.explain(inputTensor([BLOCK_IMAGE], 4), {
          method: 'ablationcam',
          target: '1',
          layers: ['features'],
          normalize: 'none',
          ...batching,
        });
        // Class 1: means of A are 1, 0.25, 4.125; y = −1 + 0.125 + 8.25 = 7.375. The minimum of A is 0,
        // so ablation writes 0 and removes exactly W[1,k]·mean(A_k) from y.
        const y = 7.375;
        const w = [-1 * 1, 0.5 * 0.25, 2 * 4.125].map((v) => v / y);
        assertClose(mapOf(r, 'ablationcam'), relu(weighted(BLOCK_A, w)), 1e-6, JSON.stringify(batching));
      }
    } finally {
      await ex.release();
    }
  });

  test('a batch size or memory budget that cannot batch anything is a bad-argument error', async () => {
    const ex = await explainerFor(gapModel({ fc: BLOCK_FC, size: 4 }));
    try {
      for (const method of ['scorecam', 'ablationcam'] as const) {
        for (const bad of [
          { batchSize: 0 },
          { batchSize: 2.5 },
          { memoryBudget: -1 },
          { memoryBudget: Number.NaN },
        ]) {
          await assert.rejects(
            ex.explain(inputTensor([BLOCK_IMAGE], 4), { method, target: '1', layers: ['features'], ...bad }),
            (e: unknown) => e instanceof GradsightError && e.code === 'bad-argument' && e.hint !== undefined,
            `${method} ${JSON.stringify(bad)}`,
          );
        }
      }
    } finally {
      await ex.release();
    }
  });

  test('Ablation-CAM on a model without value_info for the layer', {}, async () => {
    const ex = await explainerFor(gapModel({ fc: BLOCK_FC, size: 4, valueInfo: false }));
    try {
      const r = await ex.explain(inputTensor([BLOCK_IMAGE], 4), {
        method: 'ablationcam',
        target: '1',
        layers: ['features'],
        normalize: 'none',
      });
      const w = [-1 * 1, 0.5 * 0.25, 2 * 4.125].map((v) => v / 7.375);
      assertClose(mapOf(r, 'ablationcam'), relu(weighted(BLOCK_A, w)), 1e-6, 'no value_info');
    } finally {
      await ex.release();
    }
  });
});
