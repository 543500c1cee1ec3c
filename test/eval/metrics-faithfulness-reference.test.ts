// gradsight's deletion/insertion curves (zero and blur baselines, steps that do and do not divide
// H·W, a map with ties) and the Grad-CAM++ aggregations (Average Drop, Increase in Confidence, Win
// with ties) against the NumPy reimplementation in faithfulness_reference.py, on seeded random
// inputs and a 2-class linear softmax model whose probability both sides compute themselves.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { averageDrop, increaseInConfidence, relativeDrop, win } from '../../src/eval/metrics/confidence.ts';
import {
  type Baseline,
  type CurveMode,
  perturbationCurve,
} from '../../src/eval/metrics/deletion-insertion.ts';
import type { InputRow, Scorer } from '../../src/eval/perturbation.ts';
import { seededValues } from '../helpers/tiny-models.ts';

/** Deterministic values in [0, 1). */
const unit = (n: number, seed: number) => seededValues(n, seed).map((v) => (v + 1) / 2);
const PYTHON = '/usr/bin/python3';
const script = join(dirname(fileURLToPath(import.meta.url)), 'faithfulness_reference.py');
const numpy =
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
const skip = numpy ? false : `${PYTHON} with numpy not found (the NumPy oracle cannot run)`;

interface Expected {
  curves: {
    mode: CurveMode;
    step: number;
    baseline: Baseline;
    fractions: number[];
    scores: number[];
    auc: number;
  }[];
  aggregates: Record<string, { averageDrop: number; increase: number; win: number }>;
}

test('deletion/insertion and Average Drop / Increase / Win equal the NumPy reimplementation', {
  skip,
}, async () => {
  const [C, H, W] = [3, 12, 10];
  const size = C * H * W;
  const input = unit(size, 31).map((u) => 4 * u - 2);
  // Quantised to 8 levels: many ties, ranked by index.
  const map = unit(H * W, 32).map((u) => Math.floor(u * 8) / 8);
  const weights = unit(2 * size, 33).map((u) => (u - 0.5) / 4);
  const bias = [0.3, -0.2];
  const curves = [
    { mode: 'deletion', step: 10, baseline: 'zero' },
    { mode: 'deletion', step: 7, baseline: 'blur' },
    { mode: 'insertion', step: 10, baseline: 'blur' },
    { mode: 'insertion', step: 13, baseline: 'zero' },
  ] as const;
  const clean = unit(40, 34).map((u) => 0.05 + 0.9 * u);
  // Three methods; some masked scores above the clean one (increases, drop 0: ties for Win).
  const masked = Object.fromEntries(
    ['a', 'b', 'c'].map((m, k) => [m, unit(40, 35 + k).map((u, i) => clean[i]! * (0.4 + 0.8 * u))]),
  );
  const out = spawnSync(PYTHON, [script], {
    input: JSON.stringify({ dims: [C, H, W], input, map, weights, bias, curves, clean, masked }),
    encoding: 'utf8',
  });
  assert.equal(out.status, 0, out.stderr);
  const expected = JSON.parse(out.stdout) as Expected;

  const row: InputRow = { data: Float32Array.from(input), channels: C, height: H, width: W, layout: 'NCHW' };
  const scorer: Scorer = async (rows) =>
    Float32Array.from(rows, (x) => {
      const z = [0, 1].map((c) => bias[c]! + x.reduce((s, v, i) => s + weights[c * size + i]! * v, 0));
      return 1 / (1 + Math.exp(z[0]! - z[1]!));
    });
  for (const e of expected.curves) {
    const got = await perturbationCurve(scorer, row, Float32Array.from(map), e.mode, e);
    const what = `${e.mode} step ${e.step} ${e.baseline}`;
    assert.deepEqual([...got.fractions], e.fractions, what);
    for (const [k, s] of e.scores.entries()) {
      assert.ok(Math.abs(got.scores[k]! - s) < 1e-5, `${what} step ${k}: ${got.scores[k]} vs ${s}`);
    }
    assert.ok(Math.abs(got.auc - e.auc) < 1e-5, `${what} AUC ${got.auc} vs ${e.auc}`);
  }

  const drops = Object.fromEntries(
    Object.entries(masked).map(([m, o]) => [m, o.map((v, i) => relativeDrop(clean[i]!, v))]),
  );
  const wins = win(drops);
  for (const [m, o] of Object.entries(masked)) {
    const records = o.map((v, i) => ({ clean: clean[i]!, masked: v }));
    const want = expected.aggregates[m]!;
    assert.ok(Math.abs(averageDrop(records) - want.averageDrop) < 1e-9, `${m} Average Drop`);
    assert.ok(Math.abs(increaseInConfidence(records) - want.increase) < 1e-9, `${m} Increase`);
    assert.ok(Math.abs(wins[m]! - want.win) < 1e-9, `${m} Win ${wins[m]} vs ${want.win}`);
  }
  // The case exercises ties: some image has drop 0 for at least two methods.
  assert.ok(clean.some((_, i) => Object.values(drops).filter((d) => d[i] === 0).length >= 2));
});
