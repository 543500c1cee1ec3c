// The sign of Eigen-CAM's first component against numpy's np.linalg.svd (LAPACK dgesdd), the one
// pytorch-grad-cam uses. Feature maps come from a seeded generator written identically here and in
// scripts/eigen-sign-oracle.py, across every dgesdd path: QR first (hw ≫ C), LQ first (C ≫ hw),
// direct upper (hw ≥ C) and lower (hw < C) bidiagonals, leaves only (min ≤ 25) and divide and conquer.
// The first block needs nothing: numpy's answers for small cases are written down below. The second
// runs the oracle on many cases (the shapes of real CAM layers) and skips without /usr/bin/python3.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { lapackSign } from '../../src/methods/eigen-sign.ts';
import { firstComponentProjection } from '../../src/tensor/feature-maps.ts';
import { decodeNpy } from '../../src/tensor/npy.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { repoRoot } from '../helpers/shared.ts';

function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly kind: 0 | 1 | 2; // dense, ReLU with channel offsets, rank 3 plus noise
  readonly seed: number;
}

/** [1, C, h, w] float32, drawn position-major (as the oracle). */
function featureMap({ h, w, c, kind, seed }: Case): Float32Tensor {
  const rand = mulberry32(seed);
  const u = () => rand() * 2 - 1;
  const hw = h * w;
  const data = new Float32Array(c * hw);
  const set = (p: number, k: number, x: number) => {
    data[k * hw + p] = x;
  };
  if (kind === 0) {
    for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) set(p, k, u());
  } else if (kind === 1) {
    const off = Array.from({ length: c }, u);
    for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) set(p, k, Math.max(0, u() + 0.5 * off[k]!));
  } else {
    const a = Array.from({ length: hw }, () => [u(), u(), u()]);
    const b = Array.from({ length: 3 }, () => Array.from({ length: c }, u));
    for (let p = 0; p < hw; p++) {
      for (let k = 0; k < c; k++) {
        let s = 0;
        for (let r = 0; r < 3; r++) s += a[p]![r]! * b[r]![k]!;
        set(p, k, s + 0.05 * u());
      }
    }
  }
  return { dtype: 'float32', dims: [1, c, h, w], data };
}

/** The hw × C matrix centred in float32, as pytorch-grad-cam gives it to numpy. */
function centred(t: Float32Tensor): Float64Array {
  const [, c, h, w] = t.dims as number[];
  const hw = h! * w!;
  const x = new Float64Array(hw * c!);
  for (let k = 0; k < c!; k++) {
    const col = new Float32Array(hw);
    for (let p = 0; p < hw; p++) col[p] = t.data[k * hw + p]!;
    // numpy's float32 mean (pairwise sum) differs from this in the last bit at most; the sign test
    // only needs the same matrix to rounding.
    let mean = 0;
    for (const v of col) mean += v;
    mean = Math.fround(mean / hw);
    for (let p = 0; p < hw; p++) x[p * c! + k] = Math.fround(col[p]! - mean);
  }
  return x;
}

function argMaxAbs(a: ArrayLike<number>): number {
  let k = 0;
  for (let i = 1; i < a.length; i++) if (Math.abs(a[i]!) > Math.abs(a[k]!)) k = i;
  return k;
}

// numpy's projection for small cases: [h, w, c, kind, seed, position of max |projection|, its sign].
// Made by scripts/eigen-sign-oracle.py; one row per dgesdd path and tree depth.
const WRITTEN: [number, number, number, 0 | 1 | 2, number, number, number][] = [
  [7, 7, 64, 0, 11, 16, 1],
  [7, 7, 64, 2, 12, 3, 1],
  [7, 7, 320, 1, 13, 19, -1],
  [14, 14, 64, 2, 14, 100, 1],
  [14, 14, 64, 0, 15, 79, -1],
  [10, 10, 60, 0, 16, 59, -1],
  [5, 4, 300, 1, 17, 9, 1],
  [20, 15, 20, 0, 18, 13, 1],
  [8, 8, 64, 1, 19, 2, -1],
  [6, 6, 40, 2, 20, 29, 1],
  [9, 9, 30, 1, 21, 24, -1],
  [9, 9, 30, 2, 22, 50, -1],
];

describe('Eigen-CAM sign = numpy (LAPACK dgesdd)', () => {
  test('the generator and a few of numpy answers written down', () => {
    assert.ok(WRITTEN.length >= 8);
    for (const [h, w, c, kind, seed, p, sign] of WRITTEN) {
      const cam = firstComponentProjection(featureMap({ h, w, c, kind, seed }), lapackSign);
      assert.equal(argMaxAbs(cam.data), p, `${h}×${w}×${c} kind ${kind} seed ${seed}: argmax`);
      assert.equal(Math.sign(cam.data[p]!), sign, `${h}×${w}×${c} kind ${kind} seed ${seed}: sign`);
    }
  });

  test('the opposite rule fails on the written cases (the check can fail)', () => {
    let flipped = 0;
    for (const [h, w, c, kind, seed, p, sign] of WRITTEN) {
      const cam = firstComponentProjection(featureMap({ h, w, c, kind, seed }), (...a) => -lapackSign(...a));
      if (Math.sign(cam.data[p]!) !== sign) flipped++;
    }
    assert.equal(flipped, WRITTEN.length);
  });
});

const python = '/usr/bin/python3';
const skipNoNumpy = (() => {
  try {
    execFileSync(python, ['-c', 'import numpy'], { stdio: 'ignore' });
    return false;
  } catch {
    return `${python} with numpy not found (the oracle for the sign of the first singular vector)`;
  }
})();

const SHAPES: [number, number, number][] = [
  [7, 7, 1280], // MobileNetV2's last block: LQ first, 49-row divide and conquer
  [7, 7, 768], // Swin-T
  [14, 14, 768], // ViT-B/16: three tree levels
  [7, 7, 320],
  [6, 6, 768], // MobileNetV1 0.75 at 192
  [14, 14, 64], // hw ≫ C: QR first
  [7, 7, 64], // C > hw, not ≫: lower bidiagonal
  [14, 14, 256],
  [8, 8, 64], // square
  [10, 10, 60], // hw ≥ C, direct
  [5, 4, 300], // 20 rows: a single leaf
  [20, 15, 20], // 20 columns: a single leaf, QR first
];

describe('Eigen-CAM sign against the numpy oracle', { skip: skipNoNumpy }, () => {
  test('random maps of the shapes of real CAM layers', (t) => {
    const cases: Case[] = [];
    for (const [h, w, c] of SHAPES)
      for (const kind of [0, 1, 2] as const)
        for (const seed of [1, 2, 3]) cases.push({ h, w, c, kind, seed: seed * 1000 + h * w + c + kind });
    const dir = mkdtempSync(join(tmpdir(), 'gradsight-eigen-sign-'));
    try {
      writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases));
      execFileSync(
        python,
        [join(repoRoot, 'scripts', 'eigen-sign-oracle.py'), dir, join(dir, 'cases.json')],
        {
          stdio: 'inherit',
        },
      );
      // Near-equal top singular values (σ1/σ2 < GAP: dense noise, never a real CAM layer) leave the
      // bidiagonal past the point where its top vector has converged at the mercy of rounding, and
      // with it a merge's decision: there the replay is counted, not required.
      const GAP = 1.05;
      const failures: string[] = [];
      const nearDegenerate: string[] = [];
      let separated = 0;
      cases.forEach((cs, i) => {
        const name = `${cs.h}×${cs.w}×${cs.c} kind ${cs.kind} seed ${cs.seed}`;
        const map = featureMap(cs);
        const theirs = decodeNpy(readFileSync(join(dir, `${i}.npy`))).data as Float32Array;
        assert.deepEqual(map.data, theirs, `${name}: the two generators differ`);
        const gap = (decodeNpy(readFileSync(join(dir, `${i}-gap.npy`))).data as Float64Array)[0]!;
        const bad = gap >= GAP ? failures : nearDegenerate;
        if (gap >= GAP) separated++;
        // The rule alone, on numpy's own vector given with either sign.
        const x = centred(map);
        const vt0 = decodeNpy(readFileSync(join(dir, `${i}-vt0.npy`))).data as Float64Array;
        for (const s of [1, -1]) {
          const v = vt0.map((e) => s * e);
          if (lapackSign(x, cs.h * cs.w, cs.c, v) !== s) bad.push(`${name} (σ1/σ2 ${gap.toFixed(3)}): rule`);
        }
        // End to end: the map, power iteration included.
        const proj = decodeNpy(readFileSync(join(dir, `${i}-proj.npy`))).data as Float32Array;
        const cam = firstComponentProjection(map, lapackSign).data;
        let err = 0;
        for (let p = 0; p < proj.length; p++) err = Math.max(err, Math.abs(cam[p]! - proj[p]!));
        const scale = Math.abs(proj[argMaxAbs(proj)]!);
        if (!(err <= 1e-4 * scale))
          bad.push(`${name} (σ1/σ2 ${gap.toFixed(3)}): map off by ${(err / scale).toExponential(2)}`);
      });
      t.diagnostic(
        `${separated} of ${cases.length} maps with σ1/σ2 ≥ ${GAP}: ${failures.length} disagreements`,
      );
      t.diagnostic(
        `near-degenerate maps: ${nearDegenerate.length} disagreements ${nearDegenerate.join('; ')}`,
      );
      assert.ok(separated >= 30, 'too few well-separated cases to mean anything');
      assert.deepEqual(failures, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
