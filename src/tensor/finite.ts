// Finiteness of float arrays, the check every explanation makes on its input, maps and gradients.
// x·0 is 0 for every finite x and NaN for NaN and ±Infinity, so a sum of them is 0 exactly when all
// values are finite; four sums let the loop run without a branch per value (2.5× a compare per value).

/**
 * Values per call of the inner loop. V8 compiles a long-running first call while it is still in its
 * loop (on-stack replacement), from feedback that lacks everything after the loop; one call over a
 * whole 150,000-value input then left code that bailed out at the end of every later call, which ran
 * interpreted (5× slower). Short chunks finish before that, so the loop is compiled whole.
 */
const CHUNK = 4096;

/** True when every value is finite (no NaN, no ±Infinity). */
export function allFinite(a: Float32Array | Float64Array): boolean {
  const len = a.length;
  for (let i = 0; i < len; i += CHUNK) if (zeroTimes(a, i, Math.min(len, i + CHUNK)) !== 0) return false;
  return true;
}

/** Σ x·0 over a[from..to): 0 when every value is finite, NaN otherwise. */
function zeroTimes(a: Float32Array | Float64Array, from: number, to: number): number {
  if (to - from < 4) {
    let s = 0;
    for (let i = from; i < to; i++) s += a[i]! * 0;
    return s;
  }
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  // Whole blocks of 4, then the last 4 values again (x·0 counted twice is still 0 or NaN): every
  // call runs the same code, so none of it lacks type feedback when V8 compiles it.
  const n = to - 4;
  for (let i = from; i < n; i += 4) {
    s0 += a[i]! * 0;
    s1 += a[i + 1]! * 0;
    s2 += a[i + 2]! * 0;
    s3 += a[i + 3]! * 0;
  }
  s0 += a[n]! * 0;
  s1 += a[n + 1]! * 0;
  s2 += a[n + 2]! * 0;
  s3 += a[n + 3]! * 0;
  return s0 + s1 + s2 + s3;
}

/** The flat index of the first value that is NaN or ±Infinity, or −1. */
export function firstNonFinite(a: Float32Array | Float64Array): number {
  if (allFinite(a)) return -1;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}
