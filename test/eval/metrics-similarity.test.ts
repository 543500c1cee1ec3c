// Spearman's rank correlation and SSIM: hand-computed cases, and a NumPy reimplementation of
// scipy's rankdata/spearmanr and skimage's structural_similarity (test/eval/similarity_oracle.py,
// which filters the padded image and crops, where the TypeScript filters only whole windows).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/demo/prng.ts';
import { GradsightError } from '../../src/errors.ts';
import { averageRanks, minMax, spearman, ssim } from '../../src/eval/metrics/similarity.ts';

const PYTHON = '/usr/bin/python3';
const ORACLE = join(dirname(fileURLToPath(import.meta.url)), 'similarity_oracle.py');
const noNumpy = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' });
    return false;
  } catch {
    return `${PYTHON} with numpy not available: the NumPy oracle is not run`;
  }
})();

describe('spearman', () => {
  test('average ranks for ties (scipy rankdata "average")', () => {
    assert.deepEqual([...averageRanks([10, 20, 20, 30])], [1, 2.5, 2.5, 4]);
    assert.deepEqual([...averageRanks([3, 1, 3, 3, 0])], [4, 2, 4, 4, 1]);
  });

  test('hand-computed ρ with ties; monotone maps give ±1; a constant map gives NaN', () => {
    // ranks a = [1, 2.5, 2.5, 4], b = [1, 3, 2, 4]: Σdadb = 4.5, Σda² = 4.5, Σdb² = 5.
    assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 3, 2, 4]) - 4.5 / Math.sqrt(4.5 * 5)) < 1e-12);
    const a = [0.1, 5, -2, 3, 8];
    assert.equal(
      spearman(
        a,
        a.map((v) => Math.exp(v)),
      ),
      1,
    );
    assert.equal(
      spearman(
        a,
        a.map((v) => -v * v * v),
      ),
      -1,
    );
    assert.ok(Number.isNaN(spearman(a, [2, 2, 2, 2, 2])));
  });

  test('maps of different sizes are a shape-mismatch error', () => {
    assert.throws(
      () => spearman([1, 2], [1, 2, 3]),
      (e: unknown) => e instanceof GradsightError && e.code === 'shape-mismatch',
    );
  });
});

describe('ssim', () => {
  test('1 for identical maps and for maps equal up to a positive affine change (min-max normalised)', () => {
    const rng = mulberry32(3);
    const a = Float32Array.from({ length: 144 }, () => rng.next());
    assert.ok(Math.abs(ssim(a, a, 12, 12) - 1) < 1e-12);
    assert.ok(
      Math.abs(
        ssim(
          a,
          a.map((v) => 3 * v + 7),
          12,
          12,
          { window: 'gaussian-11' },
        ) - 1,
      ) < 1e-6,
    );
    assert.deepEqual([...minMax([2, 4, 3])], [0, 1, 0.5]);
  });

  test('a map smaller than the window is refused', () => {
    assert.throws(
      () => ssim(new Float32Array(100), new Float32Array(100), 10, 10, { window: 'gaussian-11' }),
      (e: unknown) => e instanceof GradsightError && e.code === 'bad-argument' && /11×11/.test(e.message),
    );
  });
});

describe('against the NumPy oracle (scipy/skimage definitions)', { skip: noNumpy }, () => {
  test('Spearman and both SSIM windows on random, tied and correlated maps agree within 1e-9', () => {
    const rng = mulberry32(12);
    const cases: { a: number[]; b: number[]; width: number; height: number }[] = [];
    for (const [width, height] of [
      [28, 28],
      [13, 17],
      [11, 11],
      [40, 23],
    ] as const) {
      const n = width * height;
      const a = Array.from({ length: n }, () => rng.next());
      // Correlated with noise, and quantised to 6 levels (many ties).
      const b = a.map((v) => v + 0.3 * rng.next());
      const tied = a.map((v) => Math.floor(v * 6));
      cases.push({ a, b, width, height }, { a: tied, b, width, height });
      // A smooth blob against a shifted one: structured maps as CAMs are.
      const blob = (cx: number, cy: number) =>
        Array.from({ length: n }, (_, i) =>
          Math.exp(-(((i % width) - cx) ** 2 + (Math.floor(i / width) - cy) ** 2) / 20),
        );
      cases.push({ a: blob(width / 2, height / 2), b: blob(width / 3, height / 2 + 2), width, height });
    }
    const oracle = JSON.parse(
      execFileSync(PYTHON, [ORACLE], { input: JSON.stringify(cases), encoding: 'utf8' }),
    ) as { spearman: number; ssim_uniform: number; ssim_gaussian: number }[];
    cases.forEach((c, i) => {
      const o = oracle[i]!;
      const got = {
        spearman: spearman(c.a, c.b),
        uniform: ssim(c.a, c.b, c.width, c.height),
        gaussian: ssim(c.a, c.b, c.width, c.height, { window: 'gaussian-11' }),
      };
      assert.ok(Math.abs(got.spearman - o.spearman) < 1e-9, `case ${i}: ρ ${got.spearman} vs ${o.spearman}`);
      assert.ok(
        Math.abs(got.uniform - o.ssim_uniform) < 1e-9,
        `case ${i}: SSIM-7 ${got.uniform} vs ${o.ssim_uniform}`,
      );
      assert.ok(
        Math.abs(got.gaussian - o.ssim_gaussian) < 1e-9,
        `case ${i}: SSIM-11 ${got.gaussian} vs ${o.ssim_gaussian}`,
      );
    });
    // The cases span the range: not all near 1 (a test that cannot fail).
    assert.ok(oracle.some((o) => o.ssim_uniform < 0.5) && oracle.some((o) => o.spearman > 0.8));
  });
});
