// Counterfactual explanations (Selvaraju et al., §3.2): a modifier of any target that negates its seed,
// in all three forms (`counterfactual:<target>`, `{ ...spec, counterfactual: true }`, the global
// `counterfactual` option) and on targets with a head. On the hand-weighted "blocks" model
// (features = Relu(input), GAP, Gemm with the blocks weights / 4: ∂y_c/∂A_k = W[c,k]/16) Grad-CAM of −y_c is, by hand,
// Relu(Σ_k −W[c,k]/16 · A_k); of −p_c it is Relu(Σ_k −(∂p_c/∂y)·W[:,k]/16 · A_k).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Explainer, ExplainOptions } from '../../src/explain/explainer.ts';
import { parseTarget, type Target } from '../../src/targets/index.ts';
import {
  assertClose,
  BLOCK_FC,
  BLOCK_IMAGE,
  explainerFor,
  gapModel,
  inputTensor,
  mean,
  relu,
  sum,
  weighted,
} from '../helpers/hand-models.ts';

// The blocks weights / 4 (exact in float32): logits near 0, so p_c is not saturated.
const FC = BLOCK_FC.map((row) => row.map((v) => v / 4));
const K = FC.length;
const A = [0, 1, 2].map((k) => relu(BLOCK_IMAGE[k]!));
const Y = [0, 1, 2].map((c) => sum(FC[c]!.map((w, k) => w * mean(A[k]!))));
const P = (() => {
  const e = Y.map((v) => Math.exp(v - Math.max(...Y)));
  return e.map((v) => v / sum(e));
})();
const x = inputTensor([BLOCK_IMAGE], 4);
const base: ExplainOptions = { method: 'gradcam', layers: ['features'], normalize: 'none' };

/** Grad-CAM by hand for a gradient ∂(explained)/∂y = dy at the logits. */
const gradcamOf = (dy: readonly number[]) =>
  relu(
    weighted(
      A,
      [0, 1, 2].map((k) => sum(dy.map((d, j) => (d * FC[j]![k]!) / 16))),
    ),
  );

let ex: Explainer;
before(async () => {
  ex = await explainerFor(gapModel({ fc: FC, size: 4 }), ['circle', 'square', 'triangle']);
});
after(async () => {
  await ex.release();
});

describe('counterfactual: the negated seed, in every form', () => {
  test('pred (class 1): counterfactual:pred, cf:square, {...spec, counterfactual: true}, the global option', async () => {
    assert.equal(Y.indexOf(Math.max(...Y)), 1);
    const plain = gradcamOf([0, 1, 0]);
    const want = gradcamOf([0, -1, 0]);
    assert.ok(Math.max(...want) > 0.05 && Math.max(...plain) > 0.05, 'both maps have mass');
    const forms: [string, ExplainOptions][] = [
      ['counterfactual:pred', { target: 'counterfactual:pred' }],
      ['cf:square', { target: 'cf:square' }],
      ['spec', { target: { ...parseTarget('pred'), counterfactual: true } }],
      ['global option', { target: 'pred', counterfactual: true }],
      ['global option, no target', { counterfactual: true }],
    ];
    for (const [how, o] of forms) {
      const r = await ex.explain(x, { ...base, ...o });
      const e = r.explanations[0]!;
      assert.equal(r.explanations.length, 1, how);
      assert.equal(e.target.index, 1, how);
      assert.equal(e.target.counterfactual, true, how);
      assert.ok(Math.abs(e.target.score + Y[1]!) < 1e-5, `${how}: score −y = ${e.target.score}`);
      assert.match(e.target.description, /^counterfactual: square \(1\)/, how);
      assertClose(e.map!, want, 1e-5, how);
    }
    const r = await ex.explain(x, { ...base, target: 'pred' });
    assert.equal(r.explanations[0]!.target.counterfactual, false);
    assertClose(r.explanations[0]!.map!, plain, 1e-5, 'plain');
  });

  test('a probability (softmax head): Grad-CAM from −∂p_c/∂y = −p_c(e_c − p)', async () => {
    const c = 0;
    const dp = P.map((p, j) => P[c]! * ((j === c ? 1 : 0) - p));
    const want = gradcamOf(dp.map((d) => -d));
    assert.ok(Math.max(...want) > 1e-3, `${Math.max(...want)}`);
    for (const o of [
      { target: 'counterfactual:prob:0' },
      { target: { kind: 'probability', of: 0, counterfactual: true } },
      { target: 'prob:circle', counterfactual: true },
    ] as const) {
      const e = (await ex.explain(x, { ...base, ...o })).explanations[0]!;
      assert.equal(e.target.counterfactual, true);
      assert.ok(Math.abs(e.target.score + P[c]!) < 1e-6, `score −p = ${e.target.score}`);
      assertClose(e.map!, want, 1e-6, JSON.stringify(o));
    }
  });

  test('a user-defined target: the global option negates its seeds too', async () => {
    // T = 2·y_2 through a head (a Mul), seed 1: counterfactual gives −2·∂y_2.
    const mine: Target = {
      head: {
        key: 'test-double',
        description: '2y',
        build: (e, t) => e.mul(t, e.scalar(2)),
      },
      rows: () => [
        { index: 2, label: 'triangle', description: '2·y2', kind: 'double', seed: Float32Array.of(0, 0, 1) },
      ],
    };
    const want = gradcamOf([0, 0, -2]);
    assert.ok(Math.max(...want) > 0.05);
    for (const o of [
      { target: mine, counterfactual: true },
      { target: { kind: 'custom', target: mine, counterfactual: true } },
    ] as const) {
      const e = (await ex.explain(x, { ...base, ...o })).explanations[0]!;
      assert.equal(e.target.counterfactual, true);
      assert.ok(Math.abs(e.target.score + 2 * Y[2]!) < 1e-5);
      assertClose(e.map!, want, 1e-5, 'custom');
    }
  });

  test('the modifier twice cancels: cf: with the global option is the plain target, not flagged', async () => {
    for (const o of [
      { target: 'cf:pred', counterfactual: true },
      { target: { kind: 'predicted', counterfactual: true }, counterfactual: true },
      { target: 'cf:cf:pred' },
    ] as const) {
      const e = (await ex.explain(x, { ...base, ...o })).explanations[0]!;
      assert.equal(e.target.counterfactual, false, JSON.stringify(o));
      assert.ok(Math.abs(e.target.score - Y[1]!) < 1e-5);
      assert.doesNotMatch(e.target.description, /counterfactual/);
      assertClose(e.map!, gradcamOf([0, 1, 0]), 1e-5, JSON.stringify(o));
    }
  });

  test('counterfactual rows beside plain ones: each row its own sign, from one call', async () => {
    const r = await ex.explain(x, { ...base, target: ['0', 'cf:0', 'cf:2'] });
    assert.deepEqual(
      r.explanations.map((e) => [e.target.index, e.target.counterfactual]),
      [
        [0, false],
        [0, true],
        [2, true],
      ],
    );
    assertClose(r.explanations[0]!.map!, gradcamOf([1, 0, 0]), 1e-5, 'class 0');
    assertClose(r.explanations[1]!.map!, gradcamOf([-1, 0, 0]), 1e-5, 'cf class 0');
    assertClose(r.explanations[2]!.map!, gradcamOf([0, 0, -1]), 1e-5, 'cf class 2');
    assert.equal(K, 3);
  });
});
