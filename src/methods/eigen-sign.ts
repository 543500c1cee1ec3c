// The sign of a singular vector is arbitrary; a ReLU after the projection keeps only one side, so the
// sign decides whether Eigen-CAM shows the object or the background. pytorch-grad-cam takes VT[0] from
// np.linalg.svd, which computes in float64 (also for float32 input) with LAPACK dgesdd. This file
// replays the steps of dgesdd (LAPACK 3.11, the reference build Debian's numpy uses) that fix the
// sign, so gradsight returns the same vector, not just the same line:
//
// 1. A = Q·R (m ≫ n, dgeqrf) or L·Q (n ≫ m, dgelqf) or neither (dgesdd's MNTHR = ⌊11·min/6⌋), then
//    dgebrd to an upper bidiagonal B = Q_Bᵀ·(R | L | A)·P_B (dgebd2's Householder reflectors, dlarfg
//    signs). A lower bidiagonal (m < n without LQ) is turned upper by dbdsdc's left Givens rotations.
//    The top left singular vector u of A maps to u_B = Q_Bᵀ·u in B's basis.
// 2. dbdsdc solves B by divide and conquer (dlasd0): a tree of halves down to leaves of ≤ 25 rows,
//    solved by implicit QR (dlasdq → dbdsqr). At a merge (dlasd1-3), a child's singular vector whose
//    coupling z to the middle row is below 8·eps·‖·‖ is kept as it is (deflated); every other new
//    left vector gets −1/‖·‖ at the middle row, i.e. u[IC] < 0.
// 3. So the sign of LAPACK's top vector is fixed at the highest tree node whose merge did not deflate
//    it (there u[IC] < 0), or, when every merge on its way deflated it, by dbdsqr on its leaf — which
//    is replayed rotation by rotation (only the left vectors are tracked: the final sign fix-ups of
//    dbdsqr negate right vectors only).
//
// Steps 1–2 are recomputed in float64 here. Where the top two singular values are nearly equal
// (σ1/σ2 ≲ 1.03, seen only on dense noise), the bidiagonal's entries past the point where its top
// vector has converged depend on rounding, and so may a merge's decision: there this replay and
// LAPACK can disagree. Checked against numpy on every dgesdd path (test/methods/eigen-sign.test.ts)
// and on every Eigen-CAM reference (CNNs and vision transformers).

import { givens, qrIterate, rotateColumns } from './eigen-sign-qr.ts';

/** Orientation of v (a unit top right singular vector of x) that numpy's SVD returns: +1 or −1. */
export type ComponentSign = (x: Float64Array, rows: number, cols: number, v: Float64Array) => number;

const EPS = 2 ** -53; // dlamch('Epsilon'): numpy runs the double-precision routines
const SMLSIZ = 25; // ilaenv(9, 'DBDSDC'): largest leaf of the divide-and-conquer tree

interface Reflector {
  readonly start: number;
  readonly tau: number;
  readonly w: Float64Array; // w[0] = 1
}

interface Bidiagonal {
  readonly d: Float64Array;
  readonly e: Float64Array;
  readonly left: Reflector[];
}

/** LAPACK's sign of the first singular pair of x (rows × cols, row-major), relative to v. */
export const lapackSign: ComponentSign = (x, rows, cols, v) => {
  const xv = matVec(x, rows, cols, v);
  const mnthr = Math.floor((Math.min(rows, cols) * 11) / 6);
  let b: Bidiagonal;
  let uB: Float64Array;
  if (rows >= cols) {
    // Paths 4 (QR first) and 5: u_B = Q_Bᵀ·R·v or the first n entries of Q_Bᵀ·A·v.
    if (rows >= mnthr) {
      const r = qrR(x, rows, cols);
      b = bidiagonalUpper(r, cols, cols);
      uB = applyQt(b.left, matVec(r, cols, cols, v));
    } else {
      b = bidiagonalUpper(x, rows, cols);
      uB = applyQt(b.left, xv).subarray(0, cols);
    }
  } else if (cols >= mnthr) {
    // Path 4t (LQ first): A·Aᵀ = L·Lᵀ, so u is also L's left singular vector.
    b = bidiagonalUpper(lqL(x, rows, cols), rows, rows);
    uB = applyQt(b.left, xv);
  } else {
    // Path 5t: lower bidiagonal, made upper by dbdsdc's rotations (applied to u_B as well).
    b = bidiagonalLower(x, rows, cols);
    uB = applyQt(b.left, xv);
    lowerToUpper(b.d, b.e, uB);
  }
  return dot(topLeftVector(b.d, b.e), uB) < 0 ? -1 : 1;
};

// ---- Householder reductions (dgeqr2, dgelq2, dgebd2: the blocked forms compute the same reflectors)

/** dlarfg: H·[alpha; x] = [beta; 0], H = I − tau·w·wᵀ, w = [1; x/(alpha − beta)]. */
function reflector(alpha: number, x: Float64Array): { beta: number; tau: number; w: Float64Array } {
  const w = new Float64Array(x.length + 1);
  w[0] = 1;
  const xnorm = norm(x);
  if (xnorm === 0) return { beta: alpha, tau: 0, w };
  const beta = -Math.sign(alpha || 1) * Math.hypot(alpha, xnorm);
  for (let i = 0; i < x.length; i++) w[i + 1] = x[i]! / (alpha - beta);
  return { beta, tau: (beta - alpha) / beta, w };
}

/** a[r0.., c0..] ← H·a (H acting on rows r0 .. r0+len(w)−1) for columns c0 .. cols−1. */
function reflectRows(a: Float64Array, cols: number, h: Reflector, c0: number): void {
  const { start, tau, w } = h;
  if (tau === 0) return;
  for (let j = c0; j < cols; j++) {
    let s = 0;
    for (let k = 0; k < w.length; k++) s += w[k]! * a[(start + k) * cols + j]!;
    s *= tau;
    for (let k = 0; k < w.length; k++) a[(start + k) * cols + j]! -= s * w[k]!;
  }
}

/** a[r0.., start..] ← a·H (H acting on columns start .. start+len(w)−1) for rows r0 .. rows−1. */
function reflectCols(a: Float64Array, rows: number, cols: number, h: Reflector, r0: number): void {
  const { start, tau, w } = h;
  if (tau === 0) return;
  for (let i = r0; i < rows; i++) {
    let s = 0;
    for (let k = 0; k < w.length; k++) s += a[i * cols + start + k]! * w[k]!;
    s *= tau;
    for (let k = 0; k < w.length; k++) a[i * cols + start + k]! -= s * w[k]!;
  }
}

function column(a: Float64Array, cols: number, j: number, from: number, to: number): Float64Array {
  const out = new Float64Array(Math.max(0, to - from));
  for (let i = from; i < to; i++) out[i - from] = a[i * cols + j]!;
  return out;
}

function row(a: Float64Array, cols: number, i: number, from: number, to: number): Float64Array {
  return a.slice(i * cols + from, i * cols + Math.max(from, to));
}

/** R of A = Q·R (rows ≥ cols): cols × cols, row-major. */
function qrR(x: Float64Array, rows: number, cols: number): Float64Array {
  const a = x.slice();
  for (let i = 0; i < cols; i++) {
    const { beta, tau, w } = reflector(a[i * cols + i]!, column(a, cols, i, i + 1, rows));
    a[i * cols + i] = beta;
    reflectRows(a, cols, { start: i, tau, w }, i + 1);
  }
  const r = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) for (let j = i; j < cols; j++) r[i * cols + j] = a[i * cols + j]!;
  return r;
}

/** L of A = L·Q (rows < cols): rows × rows, row-major. */
function lqL(x: Float64Array, rows: number, cols: number): Float64Array {
  const a = x.slice();
  for (let i = 0; i < rows; i++) {
    const { beta, tau, w } = reflector(a[i * cols + i]!, row(a, cols, i, i + 1, cols));
    a[i * cols + i] = beta;
    reflectCols(a, rows, cols, { start: i, tau, w }, i + 1);
  }
  const l = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j <= i; j++) l[i * rows + j] = a[i * cols + j]!;
  return l;
}

/** dgebd2 for rows ≥ cols: upper bidiagonal d (cols), e (cols − 1) and the left reflectors. */
function bidiagonalUpper(x: Float64Array, rows: number, cols: number): Bidiagonal {
  const a = x.slice();
  const d = new Float64Array(cols);
  const e = new Float64Array(Math.max(0, cols - 1));
  const left: Reflector[] = [];
  for (let i = 0; i < cols; i++) {
    const h = reflector(a[i * cols + i]!, column(a, cols, i, i + 1, rows));
    const hl = { start: i, tau: h.tau, w: h.w };
    left.push(hl);
    d[i] = h.beta;
    if (i < cols - 1) {
      reflectRows(a, cols, hl, i + 1);
      const g = reflector(a[i * cols + i + 1]!, row(a, cols, i, i + 2, cols));
      e[i] = g.beta;
      reflectCols(a, rows, cols, { start: i + 1, tau: g.tau, w: g.w }, i + 1);
    }
  }
  return { d, e, left };
}

/** dgebd2 for rows < cols: lower bidiagonal d (rows), e (rows − 1) and the left reflectors. */
function bidiagonalLower(x: Float64Array, rows: number, cols: number): Bidiagonal {
  const a = x.slice();
  const d = new Float64Array(rows);
  const e = new Float64Array(Math.max(0, rows - 1));
  const left: Reflector[] = [];
  for (let i = 0; i < rows; i++) {
    const g = reflector(a[i * cols + i]!, row(a, cols, i, i + 1, cols));
    d[i] = g.beta;
    reflectCols(a, rows, cols, { start: i, tau: g.tau, w: g.w }, i + 1);
    if (i < rows - 1) {
      const h = reflector(a[(i + 1) * cols + i]!, column(a, cols, i, i + 2, rows));
      const hl = { start: i + 1, tau: h.tau, w: h.w };
      left.push(hl);
      e[i] = h.beta;
      reflectRows(a, cols, hl, i + 1);
    }
  }
  return { d, e, left };
}

/** Q_Bᵀ·u = H_k ⋯ H_1·u. */
function applyQt(left: readonly Reflector[], u: Float64Array): Float64Array {
  const out = u.slice();
  for (const { start, tau, w } of left) {
    let s = 0;
    for (let k = 0; k < w.length; k++) s += w[k]! * out[start + k]!;
    for (let k = 0; k < w.length; k++) out[start + k]! -= tau * s * w[k]!;
  }
  return out;
}

/** dbdsdc's rotation of a lower bidiagonal to upper, applied to d, e and to u (u ← G·u). */
function lowerToUpper(d: Float64Array, e: Float64Array, u: Float64Array): void {
  for (let i = 0; i < d.length - 1; i++) {
    const [c, s, r] = givens(d[i]!, e[i]!);
    d[i] = r;
    e[i] = s * d[i + 1]!;
    d[i + 1]! *= c;
    const a = u[i]!;
    const b = u[i + 1]!;
    u[i] = c * a + s * b;
    u[i + 1] = -s * a + c * b;
  }
}

// ---- dbdsdc: which step of the divide and conquer fixes the top vector's sign

/** LAPACK's top left singular vector of the upper bidiagonal (d, e), with LAPACK's sign. */
function topLeftVector(d0: Float64Array, e0: Float64Array): Float64Array {
  const n = d0.length;
  if (n === 1) return Float64Array.of(d0[0]! < 0 ? -1 : 1);
  if (n <= SMLSIZ) return leafTop(d0, e0, 0).u;
  // dbdsdc: scale to max 1, lift tiny diagonal entries to ±eps, split where |e| < eps.
  const scale = Math.max(maxAbs(d0), maxAbs(e0));
  const eps = 0.9 * EPS;
  const d = d0.map((x) => (Math.abs(x / scale) < eps ? (x < 0 ? -eps : eps) : x / scale));
  const e = e0.map((x) => x / scale);
  let best: { s: number; start: number; u: Float64Array } = { s: -1, start: 0, u: new Float64Array(0) };
  let start = 0;
  for (let i = 0; i < n - 1; i++) {
    if (!(Math.abs(e[i]!) < eps || i === n - 2)) continue;
    const blocks: [number, number][] =
      i < n - 2 || Math.abs(e[i]!) < eps ? [[start, i - start + 1]] : [[start, n - start]];
    if (i === n - 2 && Math.abs(e[i]!) < eps) blocks.push([n - 1, 1]);
    for (const [st, size] of blocks) {
      const dd = d.subarray(st, st + size);
      const ee = e.slice(st, st + size); // the entry past the block is cut: its e is zero
      if (size > 0) ee[size - 1] = 0;
      const top =
        size === 1
          ? { s: Math.abs(dd[0]!), u: Float64Array.of(dd[0]! < 0 ? -1 : 1) }
          : nodeTop(dd, ee, 0, size, 0);
      if (top.s > best.s) best = { s: top.s, start: st, u: top.u };
    }
    start = i + 1;
  }
  const u = new Float64Array(n);
  u.set(best.u, best.start);
  return u;
}

interface Top {
  readonly s: number;
  readonly u: Float64Array;
}

/**
 * dlasd0's node of rows start .. start+n−1 (an n × (n + sqre) upper bidiagonal): its top left
 * vector with the sign LAPACK gives it. Left children have sqre = 1, right ones inherit sqre.
 */
function nodeTop(d: Float64Array, e: Float64Array, start: number, n: number, sqre: number): Top {
  const dn = d.subarray(start, start + n);
  const en = e.subarray(start, start + n - 1 + sqre);
  if (n <= SMLSIZ) return leafTop(dn, en, sqre);
  const nl = n >> 1;
  const nr = n - nl - 1;
  const left = nodeTop(d, e, start, nl, 1);
  const right = nodeTop(d, e, start + nl + 1, nr, sqre);
  const alpha = d[start + nl]!;
  const beta = e[start + nl] ?? 0;
  // dlasd2: z of a child vector is its right vector's entry at the middle row's columns, times α or
  // β; right vectors are Bᵀu/σ, so for the left child's last column and the right child's first one:
  const zl = (alpha * e[start + nl - 1]! * left.u[nl - 1]!) / left.s;
  const zr = (beta * d[start + nl + 1]! * right.u[0]!) / right.s;
  const tol = 8 * EPS * Math.max(Math.abs(alpha), Math.abs(beta), left.s, right.s);
  const any = leafTop(dn, en, sqre);
  const u = new Float64Array(n);
  if (Math.abs(zl) <= tol && left.s >= right.s && Math.abs(any.s - left.s) <= 1e3 * tol) {
    u.set(left.u, 0); // deflated: the left child's vector, unchanged
  } else if (Math.abs(zr) <= tol && right.s >= left.s && Math.abs(any.s - right.s) <= 1e3 * tol) {
    u.set(right.u, nl + 1);
  } else {
    // dlasd3: a new vector, −1/‖·‖ at the middle row.
    const flip = any.u[nl]! > 0 ? -1 : 1;
    for (let i = 0; i < n; i++) u[i] = flip * any.u[i]!;
  }
  return { s: any.s, u };
}

/** dlasdq('U', sqre, n) with U = I: the top singular value and its left vector, LAPACK's sign. */
function leafTop(d0: ArrayLike<number>, e0: ArrayLike<number>, sqre: number): Top {
  const n = d0.length;
  const d = Float64Array.from(d0);
  const e = Float64Array.from({ length: Math.max(0, n - 1) }, (_, i) => e0[i]!);
  const u = Array.from({ length: n }, (_, j) => {
    const c = new Float64Array(n);
    c[j] = 1;
    return c;
  });
  if (sqre === 1) {
    // n × (n+1): rotate on the right to lower bidiagonal (U untouched), then on the left to upper.
    const ex = Float64Array.from({ length: n }, (_, i) => e0[i]!);
    for (let i = 0; i < n - 1; i++) {
      const [c, s, r] = givens(d[i]!, ex[i]!);
      d[i] = r;
      ex[i] = s * d[i + 1]!;
      d[i + 1]! *= c;
    }
    d[n - 1] = givens(d[n - 1]!, ex[n - 1]!)[2];
    for (let i = 0; i < n - 1; i++) {
      const [c, s, r] = givens(d[i]!, ex[i]!);
      d[i] = r;
      e[i] = s * d[i + 1]!;
      d[i + 1]! *= c;
      rotateColumns(u, i, c, s);
    }
  }
  qrIterate(d, e, u);
  let k = 0;
  for (let i = 1; i < n; i++) if (Math.abs(d[i]!) > Math.abs(d[k]!)) k = i;
  return { s: Math.abs(d[k]!), u: u[k]! };
}

function matVec(x: Float64Array, rows: number, cols: number, v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let k = 0; k < cols; k++) s += x[i * cols + k]! * v[k]!;
    out[i] = s;
  }
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function norm(x: ArrayLike<number>): number {
  let big = 0;
  for (let i = 0; i < x.length; i++) big = Math.max(big, Math.abs(x[i]!));
  if (big === 0) return 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! / big) ** 2;
  return big * Math.sqrt(s);
}

function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}
