// ROAD's noisy linear imputation (Rong et al. 2022; pytorch-grad-cam's NoisyLinearImputer): every
// removed pixel becomes the weighted mean of its 8 neighbours inside the image, weights 1/6 for the
// 4 direct and 1/12 for the 4 diagonal ones, known neighbours entering as constants:
//   (Σ_{j ∈ N(i)} w_ij) x_i − Σ_{j ∈ N(i), removed} w_ij x_j = Σ_{j ∈ N(i), known} w_ij v_j,
// one sparse linear system over the removed pixels, shared by the channels (one right-hand side per
// channel), then N(0, noise²) added to each imputed value. pytorch-grad-cam solves it with
// scipy.sparse.linalg.spsolve. The weights are symmetric (w(o) = w(−o)) and the diagonal is the sum
// of the row's weights over all in-image neighbours, known or not, so the matrix is symmetric and
// diagonally dominant: positive definite on every group of connected removed pixels that touches a
// known pixel. It is solved here by conjugate gradients with a two-grid preconditioner
// (imputer-solve.ts), in float64, to a relative residual of 1e-12. A group of removed pixels with no
// known pixel has a zero right-hand side and a singular block; on an image (8-connected) that only
// happens when every pixel is removed, and then every pixel is 0 (the normalized input's zero), which
// is what spsolve returned on the shared references.

import { GradsightError } from '../../errors.ts';
import { type InputRow, pixelAddressing } from '../perturbation.ts';
import { Csr, solveColumns } from './imputer-solve.ts';

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
  const { plane, step } = pixelAddressing(input);
  const value = (k: number, p: number) => input.data[plane(k) + p * step]!;
  const inside = (y: number, x: number) => y >= 0 && x >= 0 && y < H && x < W;
  // The image's pixels are 8-connected, so a group of removed pixels touches a known pixel unless
  // every pixel is removed: then all are 0 (see the header). Else the removed pixels are the
  // unknowns, numbered row-major.
  const gauss = noise > 0 ? normals(o.seed ?? 0) : undefined;
  if (keep.every((v) => !v)) return out.map(() => (gauss ? noise * gauss() : 0));
  const vidx = new Int32Array(hw).fill(-1);
  const pixels: number[] = [];
  for (let p = 0; p < hw; p++) if (!keep[p]) vidx[p] = pixels.push(p) - 1;
  const n = pixels.length;
  // M x = b: diag[i] x_i − Σ_j w_ij x_j = b_i, the off-diagonals split into the neighbours before i
  // (row-major: earlier) and after it, for the Gauss–Seidel sweeps.
  const diag = new Float64Array(n);
  const lower = new Csr(n);
  const upper = new Csr(n);
  const ys = new Int32Array(n);
  const xs = new Int32Array(n);
  const b = new Float64Array(C * n);
  for (let i = 0; i < n; i++) {
    const p = pixels[i]!;
    const y = Math.floor(p / W);
    const x = p - y * W;
    ys[i] = y;
    xs[i] = x;
    for (const [dy, dx, w] of NEIGHBOUR_WEIGHTS) {
      if (!inside(y + dy, x + dx)) continue;
      diag[i]! += w;
      const q = (y + dy) * W + x + dx;
      const j = vidx[q]!;
      if (j >= 0) (j < i ? lower : upper).push(j, w);
      else for (let k = 0; k < C; k++) b[k * n + i]! += w * value(k, q);
    }
    lower.endRow(i);
    upper.endRow(i);
  }
  const x = solveColumns({ n, diag, lower, upper, y: ys, x: xs }, b, C);
  for (let k = 0; k < C; k++) {
    const base = plane(k);
    for (let i = 0; i < n; i++) out[base + pixels[i]! * step] = x[k * n + i]! + (gauss ? noise * gauss() : 0);
  }
  return out;
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
