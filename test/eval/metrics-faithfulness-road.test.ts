// ROAD and its noisy linear imputer against values worked out by hand: one removed pixel is the
// weighted mean of its in-image neighbours (1/6 direct, 1/12 diagonal), two adjacent removed pixels
// solve a 2×2 system, a removed group touching no known pixel is 0; every imputed pixel satisfies
// its equation on a larger random case (the residual computed here, not by the solver); NumPy's
// percentile; the keep masks; ROAD's changes and combined score on a linear scorer.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import { NEIGHBOUR_WEIGHTS, noisyLinearImpute } from '../../src/eval/metrics/imputer.ts';
import { percentile, road, roadKeepMask } from '../../src/eval/metrics/road.ts';
import type { InputRow } from '../../src/eval/perturbation.ts';
import { seededValues } from '../helpers/tiny-models.ts';

const grid = (
  data: number[],
  channels: number,
  height: number,
  width: number,
  layout: 'NCHW' | 'NHWC' = 'NCHW',
): InputRow => ({
  data: Float32Array.from(data),
  channels,
  height,
  width,
  layout,
});

describe('noisy linear imputer (noise 0)', () => {
  // 3×3, one channel: v = 1..9 row-major.
  const v = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  test('a removed centre is (Σ direct)/6 + (Σ diagonal)/12', () => {
    const keep = Uint8Array.from([1, 1, 1, 1, 0, 1, 1, 1, 1]);
    const out = noisyLinearImpute(grid(v, 1, 3, 3), keep, { noise: 0 });
    const want = (2 + 4 + 6 + 8) / 6 + (1 + 3 + 7 + 9) / 12;
    assert.ok(Math.abs(out[4]! - want) < 1e-6, `${out[4]} vs ${want}`);
    assert.deepEqual(
      [...out].filter((_, i) => i !== 4),
      [1, 2, 3, 4, 6, 7, 8, 9],
    );
  });
  test('a removed corner: only in-image neighbours, weights renormalised (5/12)', () => {
    const keep = Uint8Array.from([0, 1, 1, 1, 1, 1, 1, 1, 1]);
    const out = noisyLinearImpute(grid(v, 1, 3, 3), keep, { noise: 0 });
    const want = (2 / 6 + 4 / 6 + 5 / 12) / (5 / 12);
    assert.ok(Math.abs(out[0]! - want) < 1e-6, `${out[0]} vs ${want}`);
  });
  test('two adjacent removed pixels solve their 2×2 system (centre and right of centre)', () => {
    const keep = Uint8Array.from([1, 1, 1, 1, 0, 0, 1, 1, 1]);
    const out = noisyLinearImpute(grid(v, 1, 3, 3), keep, { noise: 0 });
    // Centre c (weights sum 1): c = (2 + 4 + 8)/6 + r/6 + (1 + 3 + 7 + 9)/12.
    // Right r at (1, 2), neighbours in image: (0,2)=3 1/6, (2,2)=9 1/6, (1,1)=c 1/6, (0,1)=2 1/12,
    // (2,1)=8 1/12: sum 2/3; (2/3) r = (3 + 9)/6 + c/6 + (2 + 8)/12.
    // Solve: c = a + r/6, (2/3) r = b + c/6.
    const a = 14 / 6 + 20 / 12;
    const b = 12 / 6 + 10 / 12;
    const r = (b + a / 6) / (2 / 3 - 1 / 36);
    const c = a + r / 6;
    assert.ok(Math.abs(out[4]! - c) < 1e-5, `centre ${out[4]} vs ${c}`);
    assert.ok(Math.abs(out[5]! - r) < 1e-5, `right ${out[5]} vs ${r}`);
  });
  test('every pixel removed: the zero of the normalized input (a group with no known pixel)', () => {
    const out = noisyLinearImpute(grid(v, 1, 3, 3), new Uint8Array(9), { noise: 0 });
    assert.deepEqual([...out], new Array(9).fill(0));
  });
  test('a random 3-channel mask on 17×23: each imputed pixel is the weighted mean of its neighbours', () => {
    const [H, W, C] = [17, 23, 3];
    const data = seededValues(C * H * W, 7);
    const keep = Uint8Array.from(seededValues(H * W, 8), (u) => (u > 0.2 ? 0 : 1));
    const input = grid(data, C, H, W);
    const out = noisyLinearImpute(input, keep, { noise: 0 });
    let worst = 0;
    for (let k = 0; k < C; k++) {
      for (let p = 0; p < H * W; p++) {
        const at = k * H * W + p;
        if (keep[p]) {
          assert.equal(out[at], input.data[at]);
          continue;
        }
        const [y, x] = [Math.floor(p / W), p % W];
        let sw = 0;
        let s = 0;
        for (const [dy, dx, w] of NEIGHBOUR_WEIGHTS) {
          if (y + dy < 0 || y + dy >= H || x + dx < 0 || x + dx >= W) continue;
          sw += w;
          s += w * out[k * H * W + (y + dy) * W + x + dx]!;
        }
        worst = Math.max(worst, Math.abs(out[at]! - s / sw));
      }
    }
    assert.ok(worst < 1e-5, `max residual ${worst}`);
    // NHWC: the same values, transposed.
    const nhwc = new Float32Array(C * H * W);
    for (let k = 0; k < C; k++) for (let p = 0; p < H * W; p++) nhwc[p * C + k] = input.data[k * H * W + p]!;
    const outNhwc = noisyLinearImpute({ ...input, data: nhwc, layout: 'NHWC' }, keep, { noise: 0 });
    for (let k = 0; k < C; k++) {
      for (let p = 0; p < H * W; p++) assert.ok(Math.abs(outNhwc[p * C + k]! - out[k * H * W + p]!) < 1e-6);
    }
  });
  test('noise: N(0, σ²) on imputed pixels only, the same for the same seed', () => {
    const [H, W] = [40, 40];
    const input = grid(new Array(H * W).fill(0.5), 1, H, W);
    const keep = Uint8Array.from({ length: H * W }, (_, p) => (p % W === 0 ? 1 : 0));
    const a = noisyLinearImpute(input, keep, { noise: 0.1, seed: 3 });
    const b = noisyLinearImpute(input, keep, { noise: 0.1, seed: 3 });
    const c = noisyLinearImpute(input, keep, { noise: 0.1, seed: 4 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    // Noise-free, every imputed pixel is 0.5 (the mean of constant neighbours).
    const d = [...a].filter((_, p) => !keep[p]).map((x) => x - 0.5);
    const mean = d.reduce((s, x) => s + x, 0) / d.length;
    const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / d.length);
    assert.ok(Math.abs(mean) < 0.01 && Math.abs(sd - 0.1) < 0.005, `mean ${mean}, sd ${sd}`);
    assert.ok([...a].every((x, p) => !keep[p] || x === 0.5));
    assert.throws(
      () => noisyLinearImpute(input, keep, { noise: -1 }),
      (e) => e instanceof GradsightError,
    );
    assert.throws(
      () => noisyLinearImpute(input, new Uint8Array(3)),
      (e) => e instanceof GradsightError && e.code === 'shape-mismatch',
    );
  });
});

describe('ROAD', () => {
  test("percentile: NumPy's linear interpolation", () => {
    // np.percentile([4, 1, 3, 2], q) for q = 0, 10, 50, 75, 90, 100.
    const xs = [4, 1, 3, 2];
    assert.deepEqual(
      [0, 10, 50, 75, 90, 100].map((q) => percentile(xs, q)),
      [1, 1.3, 2.5, 3.25, 3.7, 4],
    );
  });
  test('keep masks: MoRF keeps m < percentile(m), LeRF keeps 1 − m < percentile(1 − m)', () => {
    const m = Float32Array.from([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    // percentile 30 of m: 0.27 → keep 0, 0.1, 0.2; of 1 − m: 0.37 → keep m = 0.9, 0.8, 0.7.
    assert.deepEqual([...roadKeepMask(m, 30, 'morf')], [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...roadKeepMask(m, 30, 'lerf')], [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    // Ties at the threshold are removed: a map that is 0 on half its pixels removes all at p ≤ 50.
    const ties = Float32Array.from([0, 0, 0, 0, 1, 2, 3, 4]);
    assert.deepEqual([...roadKeepMask(ties, 40, 'morf')], [0, 0, 0, 0, 0, 0, 0, 0]);
  });
  test('changes per percentile, means and combined on a linear scorer (noise 0)', async () => {
    // The imputations and masks are checked above; here road()'s bookkeeping: which copy is which
    // percentile and order, the changes against the clean score, the means and the combined score.
    const x = grid(
      Array.from({ length: 10 }, (_, p) => p),
      1,
      1,
      10,
    );
    const m = Float32Array.from([0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 0]);
    const w = Array.from({ length: 10 }, (_, p) => (p % 2 ? 1 : -0.5));
    const s = (v: ArrayLike<number>) => Array.from(v).reduce((a, b, i) => a + b * w[i]!, 0);
    const scorer = Object.assign(async (rows: readonly Float32Array[]) => Float32Array.from(rows, s), {
      batch: 4,
    });
    const percentiles = [20, 50, 80];
    const r = await road(scorer, x, m, { noise: 0, percentiles });
    const clean = s(x.data);
    assert.equal(r.clean, clean);
    for (const [order, curve] of [
      ['morf', r.morf],
      ['lerf', r.lerf],
    ] as const) {
      const want = percentiles.map(
        (p) => s(noisyLinearImpute(x, roadKeepMask(m, p, order), { noise: 0 })) - clean,
      );
      for (const [i, c] of curve.changes.entries()) {
        assert.ok(Math.abs(c - want[i]!) < 1e-5, `${order} ${percentiles[i]}: ${c} vs ${want[i]}`);
      }
      assert.ok(Math.abs(curve.mean - want.reduce((a, b) => a + b, 0) / 3) < 1e-5);
    }
    assert.ok(Math.abs(r.combined - (r.lerf.mean - r.morf.mean) / 2) < 1e-12);
    // The masks really differ between orders, so the curves are not trivially equal.
    assert.notDeepEqual(r.morf.changes, r.lerf.changes);
    await assert.rejects(road(scorer, x, m, { percentiles: [120] }), (e) => e instanceof GradsightError);
  });
});
