// The per-op gradient harness. A GradCase is a tiny model (one node or a few), its input values, the
// inputs to differentiate and a seed for the output gradient g. The harness compiles the gradient
// model (any rule set, any profile), checks that every node is a standard ai.onnx op and that
// onnxruntime-node loads it, runs it, and compares every input gradient with
//   - central finite differences of f(x) = ⟨g, Y(x)⟩, the forward model run in onnxruntime-node;
//   - PyTorch float64 autograd goldens (conformance/op_goldens.py), and Y with the golden output.
// It reports failures instead of throwing, so a test can also assert that a wrong rule is caught.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import {
  compileGradients,
  type GradientModel,
  type Profile,
  RULE_SETS,
  type RuleSet,
  type RuleSetName,
} from '../../src/autodiff/index.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { Session } from '../../src/runtime/runtime.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { buildModelProto, type InitializerSpec, type NodeSpec } from './onnx-builder.ts';
import { repoRoot } from './shared.ts';
import { seededValues } from './tiny-models.ts';

export interface CaseInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: readonly number[];
}

/** A constant; int64 values may be decimal strings (INT64_MAX does not fit a JS number). */
export interface CaseConstant extends Omit<InitializerSpec, 'values'> {
  readonly values: readonly (number | string)[];
}

export interface GradCase {
  /** `<family>/<name>`; the family is the rules file the case exercises (or `chains`). */
  readonly id: string;
  readonly opset?: number;
  readonly nodes: readonly NodeSpec[];
  /** Graph inputs (float32); all are fed, those in `wrt` are differentiated. */
  readonly inputs: readonly CaseInput[];
  readonly initializers?: readonly CaseConstant[];
  /** The single graph output, the differentiated target. */
  readonly output: string;
  readonly wrt: readonly string[];
  /** Seed of the output gradient g: seededValues(size(Y), seed), rounded to float32. */
  readonly seed: number;
  /** Default ['standard']. Goldens are computed for each. */
  readonly ruleSets?: readonly RuleSetName[];
  /** Default ['cpu']. */
  readonly profiles?: readonly Profile[];
  /** False for cases at kinks or ties, where only the PyTorch convention defines the gradient. */
  readonly fd?: boolean;
}

export interface Golden {
  readonly key: string;
  readonly outShape: readonly number[];
  readonly output: readonly number[];
  readonly grads: Readonly<Record<string, Readonly<Record<string, readonly number[]>>>>;
}

export interface CheckOptions {
  /** Replaces the case's rule sets by this one, checked as 'standard' (for deliberately wrong rules). */
  readonly ruleSet?: RuleSet;
  /** Finite-difference tolerance: |fd − grad| ≤ fdRel·max|grad| + fdAbs. */
  readonly fdRel?: number;
  readonly fdAbs?: number;
  /** Golden tolerance: max|grad − ref| ≤ rtol·max|ref| + atol. */
  readonly rtol?: number;
  readonly atol?: number;
}

export interface CheckReport {
  readonly id: string;
  readonly failures: string[];
  /** Largest max|grad − ref| / max|ref| over gradients and the output. */
  goldenErr: number;
  /** Largest max|fd − grad| / max(max|grad|, max|fd|). */
  fdErr: number;
  /** Finite-difference elements checked. */
  fdChecked: number;
}

export const casesPath = join(repoRoot, 'test', 'autodiff', 'rules', 'cases.json');
export const goldensPath = join(repoRoot, 'test', 'autodiff', 'rules', 'goldens', 'goldens.json');

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A stable key of a case's content: goldens computed from other values are stale. */
export function caseKey(c: GradCase): string {
  let h = 0x811c9dc5;
  const s = JSON.stringify(c);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

let goldenCache: Readonly<Record<string, Golden>> | undefined;
export function loadGoldens(): Readonly<Record<string, Golden>> {
  goldenCache ??= (JSON.parse(readFileSync(goldensPath, 'utf8')) as { cases: Record<string, Golden> }).cases;
  return goldenCache;
}

/** The cases of cases.json (without their keys), optionally of one family. */
export function loadCases(family?: string): GradCase[] {
  const all = (JSON.parse(readFileSync(casesPath, 'utf8')) as (GradCase & { key?: string })[]).map(
    ({ key: _key, ...c }) => c as GradCase,
  );
  return family === undefined ? all : all.filter((c) => c.id.startsWith(`${family}/`));
}

export function caseModel(c: GradCase): Uint8Array {
  const ints = new Map<string, readonly (number | string)[]>();
  const proto = buildModelProto({
    opset: c.opset ?? 17,
    inputs: c.inputs.map((i) => ({ name: i.name, shape: i.shape })),
    outputs: [{ name: c.output }],
    nodes: c.nodes,
    initializers: (c.initializers ?? []).map((t) => {
      if (t.dtype === 'int64') ints.set(t.name, t.values);
      return { ...t, values: t.values.map(Number) };
    }),
  });
  // int64 constants exactly, INT64_MAX included.
  for (const t of proto.graph!.initializer) {
    const v = ints.get(t.name);
    if (v) t.int64Data = v.map((x) => BigInt(x));
  }
  return toBinary(ModelProtoSchema, proto);
}

export function caseFeeds(c: GradCase): Record<string, Tensor> {
  return Object.fromEntries(
    c.inputs.map((i) => [
      i.name,
      { dtype: 'float32', dims: [...i.shape], data: Float32Array.from(i.values) } as Tensor,
    ]),
  );
}

const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

/** max|a − b|, max|b|. */
function diff(a: ArrayLike<number>, b: ArrayLike<number>): { num: number; den: number } {
  let num = 0;
  for (let i = 0; i < a.length; i++) num = Math.max(num, Math.abs(a[i]! - b[i]!));
  return { num, den: maxAbs(b) };
}

async function session(bytes: Uint8Array): Promise<Session> {
  return nodeRuntime.createSession(bytes, { threads: 1 });
}

/** Runs the whole check; never throws for a wrong gradient, only reports it. */
export async function checkCase(
  c: GradCase,
  golden: Golden | undefined,
  opts: CheckOptions = {},
): Promise<CheckReport> {
  const report: CheckReport = { id: c.id, failures: [], goldenErr: 0, fdErr: 0, fdChecked: 0 };
  const fail = (msg: string) => report.failures.push(`${c.id}: ${msg}`);
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-6;
  const againstRef = (what: string, got: ArrayLike<number>, ref: readonly number[]) => {
    if (got.length !== ref.length) return fail(`${what}: ${got.length} values, golden has ${ref.length}`);
    const { num, den } = diff(got, ref);
    report.goldenErr = Math.max(report.goldenErr, den === 0 ? num : num / den);
    if (num > rtol * den + atol)
      fail(`${what}: max|Δ| ${num.toExponential(2)} vs max|ref| ${den.toFixed(4)}`);
  };

  if (golden === undefined) fail('no golden: run conformance/op_goldens.py');
  else if (golden.key !== caseKey(c)) fail('stale golden: run conformance/op_goldens.py');
  const bytes = caseModel(c);
  const feeds = caseFeeds(c);

  let forward: Session;
  let y: Tensor;
  try {
    forward = await session(bytes);
    y = (await forward.run(feeds))[c.output]!;
  } catch (e) {
    fail(`the forward model does not run: ${(e as Error).message}`);
    return report;
  }
  let seed: Tensor;
  let fdGrads: Map<string, Map<number, number>>;
  try {
    if (golden) {
      if (y.dims.join() !== golden.outShape.join())
        fail(`output shape [${y.dims}] vs golden [${golden.outShape}]`);
      else againstRef('forward output', y.data as Float32Array, golden.output);
    }
    seed = {
      dtype: 'float32',
      dims: [...y.dims],
      data: Float32Array.from(seededValues(y.data.length, c.seed)),
    };
    fdGrads = c.fd === false ? new Map() : await finiteDifferences(c, forward, feeds, seed);
  } finally {
    await forward.release();
  }

  // On the CPU profile both ways gradsight compiles: with every gradient's shape declared (its own
  // sessions; some rules take other forms then) and without (the fallback, compiled explainers).
  const runs: { name: string; set: RuleSet; profile: Profile; declared: boolean }[] = [];
  for (const profile of c.profiles ?? ['cpu']) {
    for (const declared of profile === 'cpu' ? [false, true] : [false]) {
      if (opts.ruleSet) runs.push({ name: 'standard', set: opts.ruleSet, profile, declared });
      else
        for (const name of c.ruleSets ?? ['standard'])
          runs.push({ name, set: RULE_SETS[name], profile, declared });
    }
  }
  for (const run of runs) {
    const tag = `${run.name}/${run.profile}${run.declared ? '/shapes declared' : ''}`;
    let compiled: GradientModel;
    try {
      compiled = compileGradients(bytes, decodeModel(bytes), {
        wrt: c.wrt,
        explained: c.output,
        beforeSoftmax: false,
        ruleSet: run.set,
        profile: run.profile,
        gradientShapes: run.declared,
      });
    } catch (e) {
      fail(`${tag}: compile failed: ${(e as Error).message}`);
      continue;
    }
    for (const n of decodeModel(compiled.bytes).graph.nodes) {
      if (n.domain !== '' && n.domain !== 'ai.onnx') fail(`${tag}: node ${n.name} is in domain ${n.domain}`);
    }
    let outs: Record<string, Tensor>;
    try {
      const s = await session(compiled.bytes);
      try {
        outs = await s.run({ ...feeds, [compiled.seed.name]: seed });
      } finally {
        await s.release();
      }
    } catch (e) {
      fail(`${tag}: onnxruntime-node: ${(e as Error).message}`);
      continue;
    }
    for (const o of compiled.outputs) {
      const grad = outs[o.grad]!.data as Float32Array;
      const ref = golden?.grads[run.name]?.[o.tensor];
      if (golden && !ref) fail(`${tag}: golden has no gradient for ${o.tensor}`);
      else if (ref) againstRef(`${tag} d/d${o.tensor} vs PyTorch`, grad, ref);
      if (run.name === 'standard')
        checkFd(report, fail, `${tag} d/d${o.tensor}`, grad, fdGrads.get(o.tensor), opts);
    }
  }
  return report;
}

function checkFd(
  report: CheckReport,
  fail: (msg: string) => void,
  what: string,
  grad: Float32Array,
  fd: Map<number, number> | undefined,
  opts: CheckOptions,
): void {
  if (!fd || fd.size === 0) return;
  let scale = maxAbs(grad);
  for (const v of fd.values()) scale = Math.max(scale, Math.abs(v));
  const tol = (opts.fdRel ?? 1e-2) * scale + (opts.fdAbs ?? 1e-4);
  let worst = 0;
  let at = -1;
  for (const [i, v] of fd) {
    const d = Math.abs(v - grad[i]!);
    if (d > worst) [worst, at] = [d, i];
  }
  report.fdChecked += fd.size;
  report.fdErr = Math.max(report.fdErr, scale === 0 ? worst : worst / scale);
  if (worst > tol) {
    fail(
      `${what} vs finite differences: element ${at}: grad ${grad[at]!.toFixed(5)}, fd ${fd.get(at)!.toFixed(5)} (tol ${tol.toExponential(1)})`,
    );
  }
}

/** Central differences of ⟨seed, Y⟩ for every element of small inputs, 64 seeded elements of larger ones. */
async function finiteDifferences(
  c: GradCase,
  forward: Session,
  feeds: Record<string, Tensor>,
  seed: Tensor,
): Promise<Map<string, Map<number, number>>> {
  const g = seed.data as Float32Array;
  const f = async (fs: Record<string, Tensor>) => {
    const y = (await forward.run(fs, [c.output]))[c.output]!.data as Float32Array;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += g[i]! * y[i]!;
    return s;
  };
  const out = new Map<string, Map<number, number>>();
  for (const w of c.wrt) {
    const x = feeds[w]!.data as Float32Array;
    const eps = 1e-3 * Math.max(1, maxAbs(x));
    const n = size(feeds[w]!.dims as number[]);
    const picks = n <= 128 ? [...Array(n).keys()] : pickIndices(n, 64, c.seed);
    const res = new Map<number, number>();
    for (const i of picks) {
      const xp = Float32Array.from(x);
      const xm = Float32Array.from(x);
      xp[i] = x[i]! + eps;
      xm[i] = x[i]! - eps;
      const fp = await f({ ...feeds, [w]: { ...feeds[w]!, data: xp } });
      const fm = await f({ ...feeds, [w]: { ...feeds[w]!, data: xm } });
      res.set(i, (fp - fm) / (xp[i]! - xm[i]!));
    }
    out.set(w, res);
  }
  return out;
}

function pickIndices(n: number, k: number, seed: number): number[] {
  const r = seededValues(k * 4, seed ^ 0x5bd1e995);
  const set = new Set<number>();
  for (const v of r) {
    set.add(Math.floor(((v + 1) / 2) * n) % n);
    if (set.size === k) break;
  }
  return [...set];
}
