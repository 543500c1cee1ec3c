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
const OMEGA = 1.9;

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

  // The system M x = b: diag[i] x_i − Σ_j w_ij x_j = b_i, off-diagonals in CSR rows split into the
  // neighbours before i (row-major: earlier) and after it, for the SOR sweeps.
  const diag = new Float64Array(n);
  const lower = new Csr(n);
  const upper = new Csr(n);
  const b = new Float64Array(C * n);
  for (let i = 0; i < n; i++) {
    const p = pixels[i]!;
    const y = Math.floor(p / W);
    const x = p - y * W;
    for (const [dy, dx, w] of NEIGHBOUR_WEIGHTS) {
      const yy = y + dy;
      const xx = x + dx;
      if (yy < 0 || xx < 0 || yy >= H || xx >= W) continue;
      diag[i]! += w;
      const q = yy * W + xx;
      const j = vidx[q]!;
      if (j >= 0) (j < i ? lower : upper).push(j, w);
      else for (let k = 0; k < C; k++) b[k * n + i]! += w * value(k, q);
    }
    lower.endRow(i);
    upper.endRow(i);
  }
  const system = { n, diag, lower, upper };
  const gauss = noise > 0 ? normals(o.seed ?? 0) : undefined;
  for (let k = 0; k < C; k++) {
    const xk = solve(system, b.subarray(k * n, (k + 1) * n));
    const base = plane(k);
    for (let i = 0; i < n; i++) out[base + pixels[i]! * step] = xk[i]! + (gauss ? noise * gauss() : 0);
  }
  return out;
}

/** Rows of (column, weight) pairs, appended row by row. */
class Csr {
  readonly start: Int32Array;
  cols: Int32Array;
  weights: Float64Array;
  private size = 0;

  constructor(rows: number) {
    this.start = new Int32Array(rows + 1);
    this.cols = new Int32Array(4 * rows);
    this.weights = new Float64Array(4 * rows);
  }

  push(col: number, w: number): void {
    if (this.size === this.cols.length) {
      const cols = new Int32Array(2 * this.size);
      cols.set(this.cols);
      this.cols = cols;
      const weights = new Float64Array(2 * this.size);
      weights.set(this.weights);
      this.weights = weights;
    }
    this.cols[this.size] = col;
    this.weights[this.size++] = w;
  }

  endRow(i: number): void {
    this.start[i + 1] = this.size;
  }
}

interface System {
  readonly n: number;
  readonly diag: Float64Array;
  readonly lower: Csr;
  readonly upper: Csr;
}

/** y = M v. */
function multiply({ n, diag, lower, upper }: System, v: Float64Array, y: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = diag[i]! * v[i]!;
    for (let t = lower.start[i]!; t < lower.start[i + 1]!; t++) s -= lower.weights[t]! * v[lower.cols[t]!]!;
    for (let t = upper.start[i]!; t < upper.start[i + 1]!; t++) s -= upper.weights[t]! * v[upper.cols[t]!]!;
    y[i] = s;
  }
}

/**
 * z = P⁻¹ r for the symmetric SOR preconditioner P ∝ (D/ω − L)(D/ω)⁻¹(D/ω − U), where M = D − L − U
 * (L: the neighbours before a pixel, U: after it).
 */
function precondition({ n, diag, lower, upper }: System, r: Float64Array, z: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = r[i]!;
    for (let t = lower.start[i]!; t < lower.start[i + 1]!; t++) s += lower.weights[t]! * z[lower.cols[t]!]!;
    z[i] = (OMEGA * s) / diag[i]!;
  }
  for (let i = 0; i < n; i++) z[i] = (z[i]! * diag[i]!) / OMEGA;
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let t = upper.start[i]!; t < upper.start[i + 1]!; t++) s += upper.weights[t]! * z[upper.cols[t]!]!;
    z[i] = (OMEGA * s) / diag[i]!;
  }
}

function dot(u: Float64Array, v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i]! * v[i]!;
  return s;
}

/** M x = b by conjugate gradients preconditioned by symmetric SOR, from x = 0. */
function solve(system: System, b: Float64Array): Float64Array {
  const n = system.n;
  const x = new Float64Array(n);
  const bnorm = Math.sqrt(dot(b, b));
  if (bnorm === 0) return x;
  const r = Float64Array.from(b);
  const z = new Float64Array(n);
  const q = new Float64Array(n);
  precondition(system, r, z);
  const p = Float64Array.from(z);
  let rz = dot(r, z);
  const maxIterations = Math.max(1000, n);
  for (let it = 0; ; it++) {
    if (it >= maxIterations) {
      throw new GradsightError(
        'internal-error',
        `the imputation's linear system (${n} pixels) did not converge in ${it} iterations`,
        { hint: 'report this with the map and input: the ROAD imputation could not be solved' },
      );
    }
    multiply(system, p, q);
    const alpha = rz / dot(p, q);
    for (let i = 0; i < n; i++) {
      x[i]! += alpha * p[i]!;
      r[i]! -= alpha * q[i]!;
    }
    if (Math.sqrt(dot(r, r)) <= TOLERANCE * bnorm) return x;
    precondition(system, r, z);
    const next = dot(r, z);
    const beta = next / rz;
    rz = next;
    for (let i = 0; i < n; i++) p[i] = z[i]! + beta * p[i]!;
  }
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
