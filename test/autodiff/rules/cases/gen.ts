// Helpers for writing gradient cases: a seeded RNG for random attributes and inputs, inputs kept away
// from kinks (so finite differences are meaningful), distinct values for max windows, and a one-node
// case builder. Values are rounded to 3 decimals so cases.json stays small and both TypeScript and
// Python read the same float32 numbers.

import type { CaseConstant, CaseInput, GradCase } from '../../../helpers/grad-check.ts';
import type { AttrValue, NodeSpec } from '../../../helpers/onnx-builder.ts';

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** mulberry32: uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}

const round3 = (v: number) => Math.round(v * 1000) / 1000 || 0;
export const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Uniform values in [lo, hi), at least `margin` away from every kink. */
export function values(
  rng: Rng,
  n: number,
  lo = -1,
  hi = 1,
  kinks: readonly number[] = [],
  margin = 0.05,
): number[] {
  return Array.from({ length: n }, () => {
    for (;;) {
      const v = round3(lo + (hi - lo) * rng.next());
      if (kinks.every((k) => Math.abs(v - k) >= margin)) return v;
    }
  });
}

/** n distinct values 0.007 apart, shuffled: no ties in max windows, gaps far above the FD step. */
export function distinct(rng: Rng, n: number): number[] {
  return rng.shuffle(Array.from({ length: n }, (_, k) => round3((k - n / 2) * 0.007)));
}

export const input = (name: string, shape: readonly number[], vals: readonly number[]): CaseInput => ({
  name,
  shape,
  values: vals,
});

export const floatConst = (name: string, dims: readonly number[], vals: readonly number[]): CaseConstant => ({
  name,
  dims,
  values: vals,
});

export const intConst = (
  name: string,
  vals: readonly (number | string)[],
  dims = [vals.length],
): CaseConstant => ({
  name,
  dtype: 'int64',
  dims,
  values: vals,
});

export interface OneNode {
  readonly op: string;
  /** Node inputs in order ('' for an absent optional input). */
  readonly nodeInputs: readonly string[];
  readonly inputs: readonly CaseInput[];
  readonly initializers?: readonly CaseConstant[];
  readonly attrs?: Readonly<Record<string, AttrValue>>;
  readonly wrt?: readonly string[];
  readonly opset?: number;
  readonly outputs?: number;
  readonly extra?: Partial<GradCase>;
}

/** A case of one node whose first output is the target. */
export function oneNode(id: string, seed: number, spec: OneNode): GradCase {
  const outs = Array.from({ length: spec.outputs ?? 1 }, (_, i) => (i === 0 ? 'y' : `y${i}`));
  const node: NodeSpec = {
    op: spec.op,
    name: spec.op.toLowerCase(),
    inputs: spec.nodeInputs,
    outputs: outs,
    ...(spec.attrs ? { attrs: spec.attrs } : {}),
  };
  return {
    id,
    ...(spec.opset ? { opset: spec.opset } : {}),
    nodes: [node],
    inputs: spec.inputs,
    ...(spec.initializers ? { initializers: spec.initializers } : {}),
    output: 'y',
    wrt: spec.wrt ?? spec.inputs.map((i) => i.name),
    seed,
    ...spec.extra,
  };
}
