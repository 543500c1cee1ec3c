// LAPACK 3.11's implicit-QR SVD of an upper bidiagonal (dbdsqr with its helpers dlartg, dlas2 and
// dlasv2), replayed in float64 for the left singular vectors only: the leaves of dgesdd's divide and
// conquer are solved by it, so the sign of a vector born in a leaf is the product of these rotations
// (see eigen-sign.ts). dbdsqr makes singular values positive by negating right vectors, so the left
// ones need nothing more.

const EPS = 2 ** -53;
const UNFL = 2.2250738585072014e-308; // dlamch('Safe minimum')
const MAXITR = 6;

/** dlartg (3.10+): c ≥ 0, r carries the sign of f, [c s; −s c]·[f; g] = [r; 0]. */
export function givens(f: number, g: number): [number, number, number] {
  if (g === 0) return [1, 0, f];
  if (f === 0) return [0, Math.sign(g), Math.abs(g)];
  const d = Math.hypot(f, g);
  const r = f < 0 ? -d : d;
  return [Math.abs(f) / d, g / r, r];
}

/** Columns j, j+1 of u ← (c·u_j + s·u_{j+1}, c·u_{j+1} − s·u_j): drot, and one step of dlasr. */
export function rotateColumns(u: Float64Array[], j: number, c: number, s: number): void {
  const a = u[j]!;
  const b = u[j + 1]!;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    a[i] = c * x + s * y;
    b[i] = c * y - s * x;
  }
}

const sign = (a: number, b: number) => (b >= 0 ? Math.abs(a) : -Math.abs(a)); // Fortran SIGN

/** dlas2: the smaller singular value of [f g; 0 h]. */
function smallerSingularValue(f: number, g: number, h: number): number {
  const fa = Math.abs(f);
  const ga = Math.abs(g);
  const ha = Math.abs(h);
  const fhmn = Math.min(fa, ha);
  const fhmx = Math.max(fa, ha);
  if (fhmn === 0) return 0;
  if (ga < fhmx) {
    const as = 1 + fhmn / fhmx;
    const at = (fhmx - fhmn) / fhmx;
    const au = (ga / fhmx) ** 2;
    return fhmn * (2 / (Math.sqrt(as * as + au) + Math.sqrt(at * at + au)));
  }
  const au = fhmx / ga;
  if (au === 0) return (fhmn * fhmx) / ga;
  const as = 1 + fhmn / fhmx;
  const at = (fhmx - fhmn) / fhmx;
  const c = 1 / (Math.sqrt(1 + (as * au) ** 2) + Math.sqrt(1 + (at * au) ** 2));
  return 2 * (fhmn * c * au);
}

/** dlasv2: SVD of [f g; 0 h] → [σmin, σmax, left rotation (cos, sin)] with LAPACK's signs. */
function svd2(f: number, g: number, h: number): [number, number, number, number] {
  let ft = f;
  let fa = Math.abs(f);
  let ht = h;
  let ha = Math.abs(h);
  let pmax = 1;
  const swap = ha > fa;
  if (swap) {
    pmax = 3;
    [ft, ht] = [ht, ft];
    [fa, ha] = [ha, fa];
  }
  const gt = g;
  const ga = Math.abs(g);
  let ssmin: number;
  let ssmax: number;
  let clt = 1;
  let crt = 1;
  let slt = 0;
  let srt = 0;
  if (ga === 0) {
    ssmin = ha;
    ssmax = fa;
  } else {
    let gasmal = true;
    ssmin = 0;
    ssmax = 0;
    if (ga > fa) {
      pmax = 2;
      if (fa / ga < EPS) {
        gasmal = false;
        ssmax = ga;
        ssmin = ha > 1 ? fa / (ga / ha) : (fa / ga) * ha;
        clt = 1;
        slt = ht / gt;
        srt = 1;
        crt = ft / gt;
      }
    }
    if (gasmal) {
      const dd = fa - ha;
      let l = dd === fa ? 1 : dd / fa;
      const m = gt / ft;
      let t = 2 - l;
      const mm = m * m;
      const s = Math.sqrt(t * t + mm);
      const r = l === 0 ? Math.abs(m) : Math.sqrt(l * l + mm);
      const a = 0.5 * (s + r);
      ssmin = ha / a;
      ssmax = fa * a;
      if (mm === 0) t = l === 0 ? sign(2, ft) * sign(1, gt) : gt / sign(dd, ft) + m / t;
      else t = (m / (s + t) + m / (r + l)) * (1 + a);
      l = Math.sqrt(t * t + 4);
      crt = 2 / l;
      srt = t / l;
      clt = (crt + srt * m) / a;
      slt = ((ht / ft) * srt) / a;
    }
  }
  const [csl, snl, csr, snr] = swap ? [srt, crt, slt, clt] : [clt, slt, crt, srt];
  let tsign = 1;
  if (pmax === 1) tsign = sign(1, csr) * sign(1, csl) * sign(1, f);
  if (pmax === 2) tsign = sign(1, snr) * sign(1, csl) * sign(1, g);
  if (pmax === 3) tsign = sign(1, snr) * sign(1, snl) * sign(1, h);
  return [sign(ssmin, tsign * sign(1, f) * sign(1, h)), sign(ssmax, tsign), csl, snl];
}

/**
 * dbdsqr('U') on d (n), e (n − 1), accumulating the left rotations into the columns u (U·Gᵀ).
 * d ends as the signed singular values (dbdsqr would then negate right vectors; U is final).
 */
export function qrIterate(d: Float64Array, e: Float64Array, u: Float64Array[]): void {
  const n = d.length;
  if (n <= 1) return;
  const tol = Math.max(10, Math.min(100, EPS ** -0.125)) * EPS;
  let sminoa = Math.abs(d[0]!);
  if (sminoa !== 0) {
    let mu = sminoa;
    for (let i = 1; i < n && sminoa !== 0; i++) {
      mu = Math.abs(d[i]!) * (mu / (mu + Math.abs(e[i - 1]!)));
      sminoa = Math.min(sminoa, mu);
    }
  }
  const thresh = Math.max((tol * sminoa) / Math.sqrt(n), MAXITR * (n * (n * UNFL)));
  const maxIter = MAXITR * n * n;
  let iter = 0;
  let oldll = -1;
  let oldm = -1;
  let idir = 0;
  let m = n; // 1-based end of the unconverged part, as in dbdsqr
  const D = (i: number) => d[i - 1]!; // 1-based views
  const E = (i: number) => e[i - 1]!;
  while (m > 1) {
    if (iter > maxIter) throw new Error('dbdsqr replay did not converge');
    // Find the diagonal block ll..m to work on.
    let smax = Math.abs(D(m));
    let ll = 0;
    for (let lll = 1; lll < m; lll++) {
      const k = m - lll;
      const abse = Math.abs(E(k));
      if (abse <= thresh || abse === 0) {
        ll = k;
        break;
      }
      smax = Math.max(smax, Math.abs(D(k)), abse);
    }
    if (ll > 0) {
      e[ll - 1] = 0;
      if (ll === m - 1) {
        m -= 1;
        continue;
      }
    }
    ll += 1;
    if (ll === m - 1) {
      const [sigmn, sigmx, cosl, sinl] = svd2(D(m - 1), E(m - 1), D(m));
      d[m - 2] = sigmx;
      e[m - 2] = 0;
      d[m - 1] = sigmn;
      rotateColumns(u, m - 2, cosl, sinl);
      m -= 2;
      continue;
    }
    if (ll > oldm || m < oldll) idir = Math.abs(D(ll)) >= Math.abs(D(m)) ? 1 : 2;
    // Convergence tests.
    let smin = 0;
    let split = false;
    if (idir === 1) {
      if (Math.abs(E(m - 1)) <= tol * Math.abs(D(m))) {
        e[m - 2] = 0;
        continue;
      }
      let mu = Math.abs(D(ll));
      smin = mu;
      for (let lll = ll; lll < m && !split; lll++) {
        if (Math.abs(E(lll)) <= tol * mu) {
          e[lll - 1] = 0;
          split = true;
        } else {
          mu = Math.abs(D(lll + 1)) * (mu / (mu + Math.abs(E(lll))));
          smin = Math.min(smin, mu);
        }
      }
    } else {
      if (Math.abs(E(ll)) <= tol * Math.abs(D(ll))) {
        e[ll - 1] = 0;
        continue;
      }
      let mu = Math.abs(D(m));
      smin = mu;
      for (let lll = m - 1; lll >= ll && !split; lll--) {
        if (Math.abs(E(lll)) <= tol * mu) {
          e[lll - 1] = 0;
          split = true;
        } else {
          mu = Math.abs(D(lll)) * (mu / (mu + Math.abs(E(lll))));
          smin = Math.min(smin, mu);
        }
      }
    }
    if (split) continue;
    oldll = ll;
    oldm = m;
    // Shift: zero if it would ruin relative accuracy or is negligible.
    let shift = 0;
    if (!(n * tol * (smin / smax) <= Math.max(EPS, 0.01 * tol))) {
      const sll = idir === 1 ? Math.abs(D(ll)) : Math.abs(D(m));
      shift =
        idir === 1
          ? smallerSingularValue(D(m - 1), E(m - 1), D(m))
          : smallerSingularValue(D(ll), E(ll), D(ll + 1));
      if (sll > 0 && (shift / sll) ** 2 < EPS) shift = 0;
    }
    iter += m - ll;
    sweep(d, e, u, ll, m, idir, shift, thresh);
  }
}

/** One bulge chase over ll..m (1-based), zero-shift or shifted, top-down (idir 1) or bottom-up. */
function sweep(
  d: Float64Array,
  e: Float64Array,
  u: Float64Array[],
  ll: number,
  m: number,
  idir: number,
  shift: number,
  thresh: number,
): void {
  const rots: [number, number][] = []; // left rotations, in the order dlasr applies them
  if (shift === 0 && idir === 1) {
    let cs = 1;
    let oldcs = 1;
    let oldsn = 0;
    for (let i = ll; i < m; i++) {
      let r: number;
      let sn: number;
      [cs, sn, r] = givens(d[i - 1]! * cs, e[i - 1]!);
      if (i > ll) e[i - 2] = oldsn * r;
      [oldcs, oldsn, d[i - 1]] = givens(oldcs * r, d[i]! * sn);
      rots.push([oldcs, oldsn]);
    }
    const h = d[m - 1]! * cs;
    d[m - 1] = h * oldcs;
    e[m - 2] = h * oldsn;
    for (const [j, [c, s]] of rots.entries()) rotateColumns(u, ll - 1 + j, c, s);
    if (Math.abs(e[m - 2]!) <= thresh) e[m - 2] = 0;
  } else if (shift === 0) {
    let cs = 1;
    let oldcs = 1;
    let oldsn = 0;
    for (let i = m; i > ll; i--) {
      let r: number;
      let sn: number;
      [cs, sn, r] = givens(d[i - 1]! * cs, e[i - 2]!);
      if (i < m) e[i - 1] = oldsn * r;
      [oldcs, oldsn, d[i - 1]] = givens(oldcs * r, d[i - 2]! * sn);
      rots[i - ll - 1] = [cs, -sn];
    }
    const h = d[ll - 1]! * cs;
    d[ll - 1] = h * oldcs;
    e[ll - 1] = h * oldsn;
    for (let j = m - ll; j >= 1; j--) rotateColumns(u, ll - 2 + j, rots[j - 1]![0], rots[j - 1]![1]);
    if (Math.abs(e[ll - 1]!) <= thresh) e[ll - 1] = 0;
  } else if (idir === 1) {
    let f = (Math.abs(d[ll - 1]!) - shift) * (sign(1, d[ll - 1]!) + shift / d[ll - 1]!);
    let g = e[ll - 1]!;
    for (let i = ll; i < m; i++) {
      const [cosr, sinr, r1] = givens(f, g);
      if (i > ll) e[i - 2] = r1;
      f = cosr * d[i - 1]! + sinr * e[i - 1]!;
      e[i - 1] = cosr * e[i - 1]! - sinr * d[i - 1]!;
      g = sinr * d[i]!;
      d[i] = cosr * d[i]!;
      const [cosl, sinl, r2] = givens(f, g);
      d[i - 1] = r2;
      f = cosl * e[i - 1]! + sinl * d[i]!;
      d[i] = cosl * d[i]! - sinl * e[i - 1]!;
      if (i < m - 1) {
        g = sinl * e[i]!;
        e[i] = cosl * e[i]!;
      }
      rots.push([cosl, sinl]);
    }
    e[m - 2] = f;
    for (const [j, [c, s]] of rots.entries()) rotateColumns(u, ll - 1 + j, c, s);
    if (Math.abs(e[m - 2]!) <= thresh) e[m - 2] = 0;
  } else {
    let f = (Math.abs(d[m - 1]!) - shift) * (sign(1, d[m - 1]!) + shift / d[m - 1]!);
    let g = e[m - 2]!;
    for (let i = m; i > ll; i--) {
      const [cosr, sinr, r1] = givens(f, g);
      if (i < m) e[i - 1] = r1;
      f = cosr * d[i - 1]! + sinr * e[i - 2]!;
      e[i - 2] = cosr * e[i - 2]! - sinr * d[i - 1]!;
      g = sinr * d[i - 2]!;
      d[i - 2] = cosr * d[i - 2]!;
      const [cosl, sinl, r2] = givens(f, g);
      d[i - 1] = r2;
      f = cosl * e[i - 2]! + sinl * d[i - 2]!;
      d[i - 2] = cosl * d[i - 2]! - sinl * e[i - 2]!;
      if (i > ll + 1) {
        g = sinl * e[i - 3]!;
        e[i - 3] = cosl * e[i - 3]!;
      }
      rots[i - ll - 1] = [cosr, -sinr];
    }
    e[ll - 1] = f;
    if (Math.abs(e[ll - 1]!) <= thresh) e[ll - 1] = 0;
    for (let j = m - ll; j >= 1; j--) rotateColumns(u, ll - 2 + j, rots[j - 1]![0], rots[j - 1]![1]);
  }
}
