// The harness for symbolic shapes: a case is a small model whose input has symbolic batch, height and
// width. Its gradient model is compiled ONCE from the symbolic shapes and run at two sizes; at each,
// the gradient must equal central finite differences of ⟨seed, Y⟩ (the forward model on ORT) and the
// gradient compiled for that size with static shapes (the rules' static path, checked against PyTorch
// by the family tests).

import { compileGradients, type Profile, type RuleSet } from '../../../src/autodiff/index.ts';
import { decodeModel } from '../../../src/onnx/index.ts';
import { nodeRuntime } from '../../../src/runtime/node.ts';
import type { Session } from '../../../src/runtime/runtime.ts';
import type { Tensor } from '../../../src/tensor/tensor.ts';
import { buildModel, type InitializerSpec, type NodeSpec } from '../../helpers/onnx-builder.ts';
import { seededValues } from '../../helpers/tiny-models.ts';

export interface SymbolicCase {
  readonly id: string;
  readonly nodes: readonly NodeSpec[];
  readonly initializers?: readonly InitializerSpec[];
  readonly opset?: number;
  /** Channels of the input x ['n', C, 'h', 'w']. */
  readonly channels: number;
  /** Two (N, H, W) to run the one symbolic gradient model at. */
  readonly sizes: readonly [readonly [number, number, number], readonly [number, number, number]];
  readonly profile?: Profile;
  readonly seed: number;
}

export interface SizeReport {
  readonly dims: readonly number[];
  /** max |symbolic − static| / max |static|. */
  readonly vsStatic: number;
  /** max |fd − grad| / max(max|grad|, max|fd|) over the checked elements. */
  readonly vsFd: number;
  readonly fdChecked: number;
}

export function caseBytes(c: SymbolicCase): Uint8Array {
  return buildModel({
    opset: c.opset ?? 17,
    inputs: [{ name: 'x', shape: ['n', c.channels, 'h', 'w'] }],
    outputs: [{ name: 'y' }],
    nodes: c.nodes,
    initializers: c.initializers ?? [],
  });
}

const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let num = 0;
  for (let i = 0; i < a.length; i++) num = Math.max(num, Math.abs(a[i]! - b[i]!));
  const den = maxAbs(b);
  return den === 0 ? num : num / den;
}

async function withSession<T>(bytes: Uint8Array, f: (s: Session) => Promise<T>): Promise<T> {
  const s = await nodeRuntime.createSession(bytes, { threads: 1 });
  try {
    return await f(s);
  } finally {
    await s.release();
  }
}

/**
 * Compiles the case once with symbolic shapes (with `ruleSet`, e.g. a deliberately wrong rule; the
 * static reference always uses the standard rules), runs it at both sizes; throws if the compile fails.
 */
export async function checkSymbolic(c: SymbolicCase, ruleSet?: RuleSet): Promise<SizeReport[]> {
  const bytes = caseBytes(c);
  const model = decodeModel(bytes);
  const options = { wrt: ['x'], explained: 'y', beforeSoftmax: false, profile: c.profile ?? 'cpu' } as const;
  const symbolic = compileGradients(bytes, model, { ...options, ...(ruleSet ? { ruleSet } : {}) });
  const reports: SizeReport[] = [];
  await withSession(symbolic.bytes, async (sym) => {
    for (const [k, [n, h, w]] of c.sizes.entries()) {
      const dims = [n, c.channels, h, w];
      const size = dims.reduce((a, b) => a * b, 1);
      const x: Tensor = { dtype: 'float32', dims, data: Float32Array.from(seededValues(size, c.seed + k)) };
      const fixed = compileGradients(bytes, model, { ...options, inputShapes: { x: dims } });
      await withSession(bytes, async (forward) => {
        const y = (await forward.run({ x }, ['y'])).y!;
        const seed: Tensor = {
          dtype: 'float32',
          dims: y.dims,
          data: Float32Array.from(seededValues(y.data.length, c.seed + 100 + k)),
        };
        const grad = (await sym.run({ x, [symbolic.seed.name]: seed }))[symbolic.outputs[0]!.grad]!;
        const ref = await withSession(fixed.bytes, async (s) => {
          return (await s.run({ x, [fixed.seed.name]: seed }))[fixed.outputs[0]!.grad]!;
        });
        const g = grad.data as Float32Array;
        const fd = await finiteDifferences(forward, x, seed, c.seed + k);
        let worst = 0;
        let scale = maxAbs(g);
        for (const v of fd.values()) scale = Math.max(scale, Math.abs(v));
        for (const [i, v] of fd) worst = Math.max(worst, Math.abs(v - g[i]!));
        reports.push({
          dims: grad.dims,
          vsStatic: relDiff(g, ref.data as Float32Array),
          vsFd: scale === 0 ? worst : worst / scale,
          fdChecked: fd.size,
        });
      });
    }
  });
  return reports;
}

/** Central differences of ⟨seed, Y⟩ at 48 seeded elements of x (every element of a small x). */
async function finiteDifferences(
  forward: Session,
  x: Tensor,
  seed: Tensor,
  pickSeed: number,
): Promise<Map<number, number>> {
  const xs = x.data as Float32Array;
  const g = seed.data as Float32Array;
  const f = async (data: Float32Array) => {
    const y = (await forward.run({ x: { ...x, data } }, ['y'])).y!.data as Float32Array;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += g[i]! * y[i]!;
    return s;
  };
  const eps = 1e-3 * Math.max(1, maxAbs(xs));
  const picks =
    xs.length <= 96
      ? [...xs.keys()]
      : [
          ...new Set(
            seededValues(48, pickSeed).map((v) => Math.floor(((v + 1) / 2) * xs.length) % xs.length),
          ),
        ];
  const out = new Map<number, number>();
  for (const i of picks) {
    const xp = Float32Array.from(xs);
    const xm = Float32Array.from(xs);
    xp[i] = xs[i]! + eps;
    xm[i] = xs[i]! - eps;
    out.set(i, ((await f(xp)) - (await f(xm))) / (xp[i]! - xm[i]!));
  }
  return out;
}
