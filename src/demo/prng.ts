// A small seeded PRNG for the demo dataset. Only integer ops (Math.imul, shifts) and IEEE-exact float
// arithmetic are used, so every JS engine produces the same numbers, and so the same image bytes.

/** Murmur3's 32-bit finalizer: a bijective mix, so nearby seeds give unrelated states. */
export function mix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The seed of one independent stream for (seed, index, stream): samples never share state. */
export function streamSeed(seed: number, index: number, stream: number): number {
  return mix32(mix32(mix32(seed ^ 0x9e3779b9) + index) ^ Math.imul(stream + 1, 0x27d4eb2f));
}

export interface Rng {
  /** Uniform in [0, 1), a multiple of 2⁻³². */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** A uniformly random unit vector (cos θ, sin θ), drawn without trigonometry. */
  direction(): readonly [number, number];
}

/** mulberry32 (Tommy Ettinger): 32-bit state, passes PractRand to 2³² outputs; ample for pictures. */
export function mulberry32(seed: number): Rng {
  let a = seed | 0;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    direction: () => {
      // Rejection sampling in the unit disc; Math.sqrt is correctly rounded (IEEE 754) everywhere,
      // unlike Math.sin/cos whose last bit may differ between engines.
      for (;;) {
        const x = 2 * next() - 1;
        const y = 2 * next() - 1;
        const r2 = x * x + y * y;
        if (r2 > 1e-4 && r2 <= 1) {
          const r = Math.sqrt(r2);
          return [x / r, y / r];
        }
      }
    },
  };
  return rng;
}
