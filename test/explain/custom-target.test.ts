// A user-defined Target with its own head, T = y_c² (built with Mul), plugged into explain() with no
// library edit, for every method of the method table, on the hand-weighted "blocks" model
// (features = Relu(input), GAP, Gemm: ∂y_c/∂A_k = W[c,k]/16). By hand: Grad-CAM (∂y² = 2y·∂y),
// Ablation-CAM (the score drop of y² per ablated channel) and Score-CAM (y² of the input masked by
// each channel); every other gradient method sees the same gradients as the linear seed 2y·e_c on the
// logits at this input, so its map must equal that target's; CAM reads class weights and refuses a
// T of another size with a typed error.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import type { Explainer } from '../../src/explain/explainer.ts';
import { METHODS } from '../../src/methods/table.ts';
import type { Target } from '../../src/targets/index.ts';
import {
  assertClose,
  BLOCK_FC,
  BLOCK_IMAGE,
  explainerFor,
  gapModel,
  inputTensor,
  mapOf,
  mean,
  relu,
  sum,
  weighted,
} from '../helpers/hand-models.ts';

const K = BLOCK_FC.length;

/** T = y_c² as a [N, 1] tensor: y_c = Σ_k x_k·e_c,k, then y·y. One row: seed 1. */
function squareOf(c: number): Target {
  return {
    head: {
      key: `test-square:${c}`,
      description: `y_${c}²`,
      build: (e, x) => {
        const pick = e.constF(
          Array.from({ length: K }, (_, k) => (k === c ? 1 : 0)),
          [1, K],
        );
        const y = e.reduceSum(e.mul(x, pick), [1], true);
        return e.mul(y, y);
      },
    },
    rows: () => [
      { index: c, label: `y${c}²`, description: `y_${c}²`, kind: 'square', seed: Float32Array.of(1) },
    ],
  };
}

// ---- the tests' own float64 arithmetic on the blocks model ----
const A = BLOCK_IMAGE.map((channel) => relu(channel));
/** y_c of an input [3][16] through Relu, GAP and the Gemm. */
const logit = (x: readonly (readonly number[])[], c: number) =>
  sum(BLOCK_FC[c]!.map((w, k) => w * mean(relu(x[k]!))));
const Y = [0, 1, 2].map((c) => logit(BLOCK_IMAGE, c));
const x = inputTensor([BLOCK_IMAGE], 4);

let ex: Explainer;
before(async () => {
  ex = await explainerFor(gapModel({ fc: BLOCK_FC, size: 4 }));
});
after(async () => {
  await ex.release();
});

describe('a user-defined target with its own head, T = y_c²', () => {
  test('the hand values: y_0 < 0 (the square flips the gradient), y_1 > 0', () => {
    assert.deepEqual(Y, [-2.625, 7.375, -4.3125]);
  });

  for (const c of [0, 1]) {
    test(`class ${c}: Grad-CAM = Relu(Σ_k 2y·W[c,k]/16 · A_k), the score is y², T is the head's output`, async () => {
      const r = await ex.explain(x, {
        method: 'gradcam',
        target: squareOf(c),
        layers: ['features'],
        normalize: 'none',
      });
      const e = r.explanations[0]!;
      assert.equal(r.explanations.length, 1);
      assert.equal(e.target.kind, 'square');
      assert.ok(Math.abs(e.target.score - Y[c]! ** 2) < 1e-4, `score ${e.target.score}`);
      assert.notEqual(e.target.tensor, 'logits');
      const want = relu(
        weighted(
          A,
          BLOCK_FC[c]!.map((w) => (2 * Y[c]! * w) / 16),
        ),
      );
      assertClose(e.map!, want, 1e-5, `Grad-CAM of y_${c}²`);
      // Not the map of y_c itself (for class 0 the sign flips: other pixels light up).
      const plain = await ex.explain(x, {
        method: 'gradcam',
        target: String(c),
        layers: ['features'],
        normalize: 'none',
      });
      const scaled = mapOf(plain, 'gradcam').map((v) => v * 2 * Math.abs(Y[c]!));
      if (c === 0) assert.ok(Math.max(...want.map((v, i) => Math.abs(v - scaled[i]!))) > 1, 'y² ≠ y here');
    });
  }

  test('every other gradient method: the same map as the linear seed 2y·e_c on the logits', async () => {
    const c = 0;
    const seed = Float32Array.from({ length: K }, (_, k) => (k === c ? 2 * Y[c]! : 0));
    const gradientMethods = METHODS.filter(
      (m) => m.needs.gradients || m.needs.inputGradient || m.needs.finalMapOf || m.id === 'eigencam',
    ).map((m) => m.id);
    assert.ok(gradientMethods.length >= 10, gradientMethods.join(', '));
    const opts = { method: gradientMethods, layers: ['features'], normalize: 'none' } as const;
    const mine = await ex.explain(x, { ...opts, target: squareOf(c) });
    const linear = await ex.explain(x, { ...opts, target: { kind: 'seed', seed } });
    for (const m of gradientMethods) {
      const got = mapOf(mine, m);
      const want = Array.from(mapOf(linear, m));
      assert.ok(Math.max(...want.map(Math.abs)) > 1e-3, `${m}: a map worth comparing`);
      const scale = Math.max(...want.map(Math.abs));
      assertClose(got, want, 1e-5 * scale, m);
    }
  });

  test('Ablation-CAM by hand: w_k = (y² − (y − W[c,k]·mean A_k)²) / y²', async () => {
    for (const c of [0, 1]) {
      const r = await ex.explain(x, {
        method: 'ablationcam',
        target: squareOf(c),
        layers: ['features'],
        normalize: 'none',
      });
      const y2 = Y[c]! ** 2;
      const w = A.map((a, k) => (y2 - (Y[c]! - BLOCK_FC[c]![k]! * mean(a)) ** 2) / y2);
      assertClose(mapOf(r, 'ablationcam'), relu(weighted(A, w)), 1e-4, `Ablation-CAM of y_${c}²`);
    }
  });

  test('Score-CAM by hand: softmax over channels of y² of the input masked by each normalised channel', async () => {
    for (const c of [0, 1]) {
      const r = await ex.explain(x, {
        method: 'scorecam',
        target: squareOf(c),
        layers: ['features'],
        normalize: 'none',
      });
      // The layer is at input resolution: each mask is the channel min-max normalised.
      const scores = A.map((a) => {
        const lo = Math.min(...a);
        const hi = Math.max(...a);
        const mask = a.map((v) => (v - lo) / (hi - lo + 1e-8));
        return (
          logit(
            BLOCK_IMAGE.map((ch) => ch.map((v, p) => v * mask[p]!)),
            c,
          ) ** 2
        );
      });
      const top = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - top));
      const w = e.map((v) => v / sum(e));
      assertClose(mapOf(r, 'scorecam'), relu(weighted(A, w)), 1e-4, `Score-CAM of y_${c}²`);
    }
  });

  test('CAM reads class weights: a T of one value is a typed method-not-applicable error', async () => {
    await assert.rejects(
      ex.explain(x, { method: 'cam', target: squareOf(0), layers: ['features'] }),
      (e: unknown) =>
        e instanceof GradsightError && e.code === 'method-not-applicable' && (e.hint ?? '') !== '',
    );
  });

  test('every method of the table is covered above', () => {
    const covered = new Set([
      ...METHODS.filter(
        (m) => m.needs.gradients || m.needs.inputGradient || m.needs.finalMapOf || m.id === 'eigencam',
      ).map((m) => m.id),
      'ablationcam',
      'scorecam',
      'cam',
    ]);
    assert.deepEqual(
      METHODS.map((m) => m.id).filter((id) => !covered.has(id)),
      [],
    );
  });
});
