// Means and confidence intervals against a NumPy oracle (test/eval/stats-oracle.py: the same seeded
// draws, np.percentile, np.std with ddof=1) and against values worked out by hand.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bootstrapCi, histogram, percentile, summarize } from '../../src/eval/stats.ts';
import { repoRoot } from '../helpers/shared.ts';

const PYTHON = '/usr/bin/python3';
const ORACLE = join(repoRoot, 'test/eval/stats-oracle.py');
const hasNumpy = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skipNoNumpy = existsSync(PYTHON) && hasNumpy ? false : `${PYTHON} with numpy not found`;

function oracle(values: number[], resamples: number, seed: number) {
  const out = execFileSync(PYTHON, [ORACLE, JSON.stringify({ values, resamples, seed })], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as { mean: number; std: number; bootstrap: number[]; normal: number[] };
}

test('bootstrap and normal intervals equal the NumPy oracle', { skip: skipNoNumpy }, () => {
  const cases: [number[], number, number][] = [
    [[1, 0, 1, 1, 0, 1, 0, 1, 1, 1], 200, 12], // a hit rate (pointing game)
    [Array.from({ length: 37 }, (_, i) => Math.sin(i * 1.7) * 0.4 + 0.5), 500, 7], // IoUs in [0.1, 0.9]
    [[0.25, 0.75], 50, 3],
  ];
  for (const [values, resamples, seed] of cases) {
    const want = oracle(values, resamples, seed);
    const got = summarize(values, { resamples, seed });
    assert.ok(Math.abs(got.mean - want.mean) < 1e-12);
    assert.ok(Math.abs(got.std - want.std) < 1e-12);
    assert.ok(Math.abs(got.ci[0] - want.bootstrap[0]!) < 1e-12, `${got.ci} vs ${want.bootstrap}`);
    assert.ok(Math.abs(got.ci[1] - want.bootstrap[1]!) < 1e-12, `${got.ci} vs ${want.bootstrap}`);
    const normal = summarize(values, { method: 'normal' });
    assert.ok(Math.abs(normal.ci[0] - want.normal[0]!) < 1e-12);
    assert.ok(Math.abs(normal.ci[1] - want.normal[1]!) < 1e-12);
  }
});

test('hand values: the normal interval, percentiles, one value and none', () => {
  // [0, 1, 2, 3]: mean 1.5, s = sqrt(5/3), half-width 1.96·s/2.
  const s = summarize([0, 1, 2, 3], { method: 'normal' });
  assert.equal(s.mean, 1.5);
  assert.ok(Math.abs(s.std - Math.sqrt(5 / 3)) < 1e-15);
  assert.ok(Math.abs(s.ci[1] - (1.5 + (1.959963984540054 * Math.sqrt(5 / 3)) / 2)) < 1e-12);
  // np.percentile([10, 20, 30, 40], 2.5) = 10 + 0.075·10; 97.5 → 40 − 0.75.
  assert.equal(percentile([10, 20, 30, 40], 2.5), 10.75);
  assert.equal(percentile([10, 20, 30, 40], 97.5), 39.25);
  assert.deepEqual(summarize([0.3]).ci, [0.3, 0.3]);
  assert.ok(Number.isNaN(summarize([]).mean));
  // Constant values: every resample's mean is that value.
  assert.deepEqual(bootstrapCi([2, 2, 2], 100, 1), [2, 2]);
});

test('the bootstrap interval is near the normal one for many values, and brackets the mean', () => {
  const values = Array.from({ length: 400 }, (_, i) => ((i * 7919) % 1000) / 1000);
  const b = summarize(values);
  const n = summarize(values, { method: 'normal' });
  assert.ok(b.ci[0] < b.mean && b.mean < b.ci[1]);
  assert.ok(Math.abs(b.ci[0] - n.ci[0]) < 0.01 && Math.abs(b.ci[1] - n.ci[1]) < 0.01, `${b.ci} vs ${n.ci}`);
});

test('histogram: equal bins, the last one closed', () => {
  assert.deepEqual(histogram([0, 0.1, 0.5, 0.99, 1, Number.NaN], 4, 0, 1), [2, 0, 1, 2]);
});
