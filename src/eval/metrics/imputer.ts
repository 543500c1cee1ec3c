// ROAD's noisy linear imputation (Rong et al. 2022; pytorch-grad-cam's NoisyLinearImputer): every
// removed pixel becomes the weighted mean of its 8 neighbours inside the image, weights 1/6 for the
// 4 direct and 1/12 for the 4 diagonal ones, known neighbours entering as constants:
//   (Σ_{j ∈ N(i)} w_ij) x_i − Σ_{j ∈ N(i), removed} w_ij x_j = Σ_{j ∈ N(i), known} w_ij v_j,
// one sparse linear system over the removed pixels, shared by the channels (one right-hand side per
// channel), then N(0, noise²) added to each imputed value. pytorch-grad-cam solves it with
// scipy.sparse.linalg.spsolve. The weights are symmetric (w(o) = w(−o)) and the diagonal is the sum
// of the row's weights over all in-image neighbours, known or not, so the matrix is symmetric and
// diagonally dominant: positive definite on every group of connected removed pixels that touches a
// known pixel. It is solved here by conjugate gradients preconditioned by symmetric SOR, in float64,
// to a relative residual of 1e-12. A group of removed pixels with no known pixel (e.g. every pixel
// removed) has a zero right-hand side and a singular block; conjugate gradients started at 0 leave
// it 0 (the normalized input's zero), which is what spsolve returned on the shared references.

import { GradsightError } from '../../errors.ts';
import { type InputRow, pixelAddressing } from '../perturbation.ts';

/** The neighbour offsets (dy, dx) and weights, as pytorch-grad-cam's neighbors_weights. */
export const NEIGHBOUR_WEIGHTS: readonly (readonly [number, number, number])[] = [
  [1, 1, 1 / 12],
  [0, 1, 1 / 6],
  [-1, 1, 1 / 12],
  [1, -1, 1 / 12],
  [0, -1, 1 / 6],
  [-1, -1, 1 / 12],
  [1, 0, 1 / 6],
  [-1, 0, 1 / 6],
];

export interface ImputeOptions {
  /** Standard deviation of the Gaussian noise added to imputed values (pytorch-grad-cam: 0.01). */
  readonly noise?: number;
  /** Seed of the noise (a fixed default: the same call gives the same tensor). */
  readonly seed?: number;
}

export const DEFAULT_IMPUTER_NOISE = 0.01;

const TOLERANCE = 1e-12;
const OMEGA = 1.8;

/** `input` with every pixel p where keep[p] = 0 imputed (all channels); keep[p] = 1 pixels unchanged. */
export function noisyLinearImpute(input: InputRow, keep: Uint8Array, o: ImputeOptions = {}): Float32Array {
  const { height: H, width: W, channels: C } = input;
  const hw = H * W;
  if (keep.length !== hw) {
    throw new GradsightError(
      'shape-mismatch',
      `the imputation mask has ${keep.length} values for ${H}×${W} pixels`,
      {
        hint: 'give one keep flag per pixel of the input row',
      },
    );
  }
  const noise = o.noise ?? DEFAULT_IMPUTER_NOISE;
  if (!(noise >= 0 && Number.isFinite(noise))) {
    throw new GradsightError('bad-argument', `imputer noise must be a finite number ≥ 0, got ${noise}`, {
      hint: 'pytorch-grad-cam uses 0.01; 0 makes the imputation deterministic',
    });
  }
  const out = Float32Array.from(input.data);
  const vidx = new Int32Array(hw).fill(-1);
  const pixels: number[] = [];
  for (let p = 0; p < hw; p++) if (!keep[p]) vidx[p] = pixels.push(p) - 1;
  const n = pixels.length;
  if (n === 0) return out;
  const { plane, step } = pixelAddressing(input);
  const value = (k: number, p: number) => input.data[plane(k) + p * step]!;

  // The system in rows of at most 8 off-diagonal entries: diag[i] x_i − Σ w·x_j = b_i (per channel).
  const diag = new Float64Array(n);
  const cols = new Int32Array(8 * n).fill(-1);
  const wts = new Float64Array(8 * n);
  const b = new Float64Array(n * C);
  for (let i = 0; i < n; i++) {
    const p = pixels[i]!;
    const y = Math.floor(p / W);
    const x = p - y * W;
    NEIGHBOUR_WEIGHTS.forEach(([dy, dx, w], s) => {
      const yy = y + dy;
      const xx = x + dx;
      if (yy < 0 || xx < 0 || yy >= H || xx >= W) return;
      diag[i]! += w;
      const q = yy * W + xx;
      const j = vidx[q]!;
      if (j >= 0) {
        cols[8 * i + s] = j;
        wts[8 * i + s] = w;
      } else for (let k = 0; k < C; k++) b[i * C + k]! += w * value(k, q);
    });
  }
  const x = solve(n, C, diag, cols, wts, b);
  const gauss = noise > 0 ? normals(o.seed ?? 0) : undefined;
  for (let k = 0; k < C; k++) {
    const base = plane(k);
    for (let i = 0; i < n; i++) out[base + pixels[i]! * step] = x[i * C + k]! + (gauss ? noise * gauss() : 0);
  }
  return out;
}

/** y = M v for the system's matrix M (v, y: n × C, interleaved). */
function multiply(
  n: number,
  C: number,
  diag: Float64Array,
  cols: Int32Array,
  wts: Float64Array,
  v: Float64Array,
  y: Float64Array,
) {
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < C; k++) y[i * C + k] = diag[i]! * v[i * C + k]!;
    for (let s = 0; s < 8; s++) {
      const j = cols[8 * i + s]!;
      if (j < 0) continue;
      const w = wts[8 * i + s]!;
      for (let k = 0; k < C; k++) y[i * C + k]! -= w * v[j * C + k]!;
    }
  }
}

/**
 * z = P⁻¹ r for the symmetric SOR preconditioner P ∝ (D/ω − L)(D/ω)⁻¹(D/ω − U), M = D − L − U with L
 * the neighbours of lower index (pixels are numbered row-major, so lower index = earlier).
 */
function precondition(
  n: number,
  C: number,
  diag: Float64Array,
  cols: Int32Array,
  wts: Float64Array,
  r: Float64Array,
  z: Float64Array,
) {
  for (let i = 0; i < n; i++) {
    const f = OMEGA / diag[i]!;
    for (let k = 0; k < C; k++) {
      let s = r[i * C + k]!;
      for (let t = 0; t < 8; t++) {
        const j = cols[8 * i + t]!;
        if (j >= 0 && j < i) s += wts[8 * i + t]! * z[j * C + k]!;
      }
      z[i * C + k] = f * s;
    }
  }
  for (let i = 0; i < n * C; i++) z[i] = (z[i]! * diag[Math.floor(i / C)]!) / OMEGA;
  for (let i = n - 1; i >= 0; i--) {
    const f = OMEGA / diag[i]!;
    for (let k = 0; k < C; k++) {
      let s = z[i * C + k]!;
      for (let t = 0; t < 8; t++) {
        const j = cols[8 * i + t]!;
        if (j > i) s += wts[8 * i + t]! * z[j * C + k]!;
      }
      z[i * C + k] = f * s;
    }
  }
}

/** Preconditioned conjugate gradients, one independent run per channel sharing the loops. */
function solve(
  n: number,
  C: number,
  diag: Float64Array,
  cols: Int32Array,
  wts: Float64Array,
  b: Float64Array,
): Float64Array {
  const x = new Float64Array(n * C);
  const r = Float64Array.from(b);
  const z = new Float64Array(n * C);
  const p = new Float64Array(n * C);
  const q = new Float64Array(n * C);
  const dot = (u: Float64Array, v: Float64Array, k: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += u[i * C + k]! * v[i * C + k]!;
    return s;
  };
  const bnorm = Array.from({ length: C }, (_, k) => Math.sqrt(dot(b, b, k)));
  const active = bnorm.map((v) => v > 0);
  precondition(n, C, diag, cols, wts, r, z);
  p.set(z);
  const rz = Array.from({ length: C }, (_, k) => dot(r, z, k));
  const maxIterations = Math.max(1000, 10 * n);
  for (let it = 0; active.some(Boolean); it++) {
    if (it >= maxIterations) {
      throw new GradsightError(
        'internal-error',
        `the imputation's linear system did not converge in ${it} iterations`,
        {
          hint: 'report this with the map and input: the ROAD imputation could not be solved',
        },
      );
    }
    multiply(n, C, diag, cols, wts, p, q);
    for (let k = 0; k < C; k++) {
      if (!active[k]) continue;
      const alpha = rz[k]! / dot(p, q, k);
      for (let i = 0; i < n; i++) {
        x[i * C + k]! += alpha * p[i * C + k]!;
        r[i * C + k]! -= alpha * q[i * C + k]!;
      }
      if (Math.sqrt(dot(r, r, k)) <= TOLERANCE * bnorm[k]!) active[k] = false;
    }
    precondition(n, C, diag, cols, wts, r, z);
    for (let k = 0; k < C; k++) {
      if (!active[k]) continue;
      const next = dot(r, z, k);
      const beta = next / rz[k]!;
      rz[k] = next;
      for (let i = 0; i < n; i++) p[i * C + k] = z[i * C + k]! + beta * p[i * C + k]!;
    }
  }
  return x;
}

/** Standard normal draws from a seeded generator (mulberry32 + Box–Muller). */
function normals(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - uniform();
    const v = uniform();
    const m = Math.sqrt(-2 * Math.log(u));
    spare = m * Math.sin(2 * Math.PI * v);
    return m * Math.cos(2 * Math.PI * v);
  };
}
