// The reliability suite for malformed ONNX files: a few hundred seeded mutants (test/helpers/onnx-mutants.ts)
// each go through what a user runs: loading from disk, opening an image model (an ONNX Runtime session),
// compiling the input gradient, `inspect` in-process and, for a sample, `explain` in-process and both
// commands in a child process. Each case must end in a typed GradsightError with a stable code (never
// internal-error, a TypeError or a RangeError), in bounded time, or in a correct result: a model that
// loads and compiles must give the gradient that finite differences give. A case with a known bug not
// fixed yet carries a `todo` (node:test reports it without failing the run).

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { compileGradients, type GradientModel } from '../../src/autodiff/index.ts';
import { main } from '../../src/cli/main.ts';
import { type ErrorCode, GradsightError } from '../../src/errors.ts';
import { loadModelFiles, type ModelFiles } from '../../src/model/load-node.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { runCli } from '../helpers/cli.ts';
import { type MutantCase, onnxMutants, prng } from '../helpers/onnx-mutants.ts';

/** Another seed (GRADSIGHT_MUTANT_SEED=n) sweeps other bit flips, cuts and edits. */
const SEED = Number(process.env.GRADSIGHT_MUTANT_SEED ?? 11);
const cases = onnxMutants(SEED);
/** Per case, for everything in-process; a hang beyond this fails the case (node:test timeout). */
const CASE_MS = 5_000;

let dir = '';
let image = '';
const modelPath = (i: number) => join(dir, String(i), 'model.onnx');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-reliability-'));
  image = join(dir, 'photo.png');
  await writeFile(
    image,
    await sharp({ create: { width: 16, height: 12, channels: 3, background: { r: 200, g: 30, b: 90 } } })
      .png()
      .toBuffer(),
  );
  for (const [i, c] of cases.entries()) {
    await mkdir(join(dir, String(i)));
    await writeFile(modelPath(i), c.model);
    for (const [rel, bytes] of Object.entries(c.files ?? {})) {
      const p = join(dir, String(i), rel);
      if (bytes === null) {
        await mkdir(p, { recursive: true });
        continue;
      }
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, bytes);
    }
  }
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The first failure of the user's steps, or undefined when every step worked. */
async function libraryPath(path: string): Promise<{ step: string; error: unknown } | undefined> {
  let step = 'load';
  try {
    const files = await loadModelFiles(path);
    step = 'open';
    const opened = await openImageModel(path);
    await opened.release();
    step = 'compile';
    const input = files.model.graph.inputs[0];
    if (!input) throw new Error('a model without inputs loaded');
    const grad = compileGradients(files.bytes, files.model, { wrt: [input.name] });
    step = 'gradient check';
    await checkGradient(files, grad);
    return undefined;
  } catch (error) {
    return { step, error };
  }
}

/** Concrete dims for a declared shape (symbolic: 1 for the batch, 8 elsewhere); undefined if absurd. */
function concreteDims(shape: readonly (number | string | null)[] | undefined): number[] | undefined {
  if (!shape) return undefined;
  const dims = shape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 1 : 8));
  return dims.every((d) => Number.isInteger(d) && d >= 1 && d <= 64) ? dims : undefined;
}

/** The directional derivatives checked: the oracle must have run on enough models to mean something. */
const gradientsChecked: number[] = [];

/**
 * Checks the compiled gradient against finite differences along a random direction v:
 * ⟨dF/dx, v⟩ ≈ (F(x + hv) − F(x − hv)) / 2h with F(x) = ⟨explained(x), seed⟩. The models are mostly
 * piecewise linear, so one-sided differences are exact away from the kinks.
 */
async function checkGradient(files: ModelFiles, grad: GradientModel): Promise<void> {
  const input = files.model.graph.inputs[0]!;
  const dims = concreteDims(input.shape);
  if (
    !dims ||
    (input.dtype !== undefined && input.dtype !== 'float32') ||
    files.model.graph.inputs.length > 1
  )
    return;
  const n = dims.reduce((a, b) => a * b, 1);
  const r = prng(n);
  const x = Float32Array.from({ length: n }, () => r() * 2 - 1);
  const v = Float32Array.from({ length: n }, () => r() * 2 - 1);
  const session = await nodeRuntime.createSession(grad.bytes, { externalData: files.externalData });
  try {
    const at = async (t: number, seed: Tensor) => {
      const data = x.map((xi, i) => xi + t * v[i]!);
      const feeds = { [input.name]: { dtype: 'float32', dims, data } as Tensor, [grad.seed.name]: seed };
      const res = await session.run(feeds, [grad.explainedOutput, grad.outputs[0]!.grad]);
      return { y: res[grad.explainedOutput]!.data as Float32Array, g: res[grad.outputs[0]!.grad]!.data };
    };
    // The explained tensor's run-time shape (its declared one may be symbolic) from a zero-seed run.
    const seedDims = grad.seed.shape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? dims[0]! : 1));
    const zero = new Float32Array(seedDims.reduce((a, b) => a * b, 1));
    const probe = await session.run(
      {
        [input.name]: { dtype: 'float32', dims, data: x },
        [grad.seed.name]: { dtype: 'float32', dims: seedDims, data: zero },
      },
      [grad.explainedOutput],
    );
    const explained = probe[grad.explainedOutput]!;
    const values = explained.data as Float32Array;
    // Non-finite or huge scores (a flipped exponent bit) are the numbers checks' business, not this one's.
    if (!values.every((y) => Number.isFinite(y) && Math.abs(y) < 1e4)) return;
    const rs = prng(7);
    const seedData = Float32Array.from(values, () => rs() * 2 - 1);
    const seed: Tensor = { dtype: 'float32', dims: [...explained.dims], data: seedData };
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      Array.from(a).reduce((s, ai, i) => s + ai * b[i]!, 0);
    const center = await at(0, seed);
    const f0 = dot(center.y, seedData);
    const analytic = dot(center.g as Float32Array, v);
    // A ReLU kink crossed on one side spoils that side only, and a smaller step crosses fewer: one
    // difference at one of the steps must agree (float32 rounding of F grows as the step shrinks).
    const differences: number[] = [];
    let agrees = false;
    for (const h of [1e-3, 2e-4]) {
      const [fp, fm] = [dot((await at(h, seed)).y, seedData), dot((await at(-h, seed)).y, seedData)];
      const tol = (fd: number) =>
        2e-3 + 1e-2 * Math.max(Math.abs(fd), Math.abs(analytic)) + (1e-6 * Math.abs(f0)) / h;
      for (const fd of [(fp - fm) / (2 * h), (fp - f0) / h, (f0 - fm) / h]) {
        differences.push(fd);
        agrees ||= Math.abs(fd - analytic) <= tol(fd);
      }
      if (agrees) break;
    }
    assert.ok(agrees, `gradient ${analytic} but finite differences give ${differences.join(', ')}`);
    gradientsChecked.push(analytic);
  } finally {
    await session.release();
  }
}

function assertTyped(c: MutantCase, failure: { step: string; error: unknown }): void {
  const { step, error } = failure;
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  assert.ok(
    error instanceof GradsightError,
    `${step}: not a typed error: ${what}\n${(error as Error).stack}`,
  );
  assert.notEqual(error.code, 'internal-error', `${step}: ${what}`);
  assert.ok(error.message.length > 0 && error.hint, `${step}: ${error.code} without a message or hint`);
  if (c.codes && c.codes.length > 0)
    assert.ok(
      c.codes.includes(error.code),
      `${step}: ${error.code} (expected ${c.codes.join('|')}): ${what}`,
    );
}

async function withinTime<T>(ms: number, what: string, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([run(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the CLI in-process; the exit code and what it wrote to stderr. */
async function cli(args: readonly string[]): Promise<{ code: number; err: string; out: string }> {
  let err = '';
  let out = '';
  const code = await main(['node', 'gradsight', ...args], {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
  });
  return { code, err, out };
}

function assertCliTyped(c: MutantCase, r: { code: number; err: string }, command: string): void {
  assert.notEqual(r.code, 70, `${command}: internal error\n${r.err}`);
  if (r.code === 0) return;
  const m = /error\[([a-z-]+)\]/.exec(r.err);
  assert.ok(m, `${command}: exit ${r.code} without a typed error\n${r.err}`);
  assert.notEqual(m[1], 'internal-error', `${command}: ${r.err}`);
  if (c.codes && c.codes.length > 0 && !c.mayLoad)
    assert.ok(c.codes.includes(m[1] as ErrorCode), `${command}: ${m[1]} (expected ${c.codes.join('|')})`);
}

/**
 * `explain` in-process (the costliest step, ~0.3 s) for every 16th case, every known failure, every
 * nesting and external-data case and every declared input size.
 */
const explainSample = (c: MutantCase, i: number) =>
  i % 16 === 0 ||
  c.todo !== undefined ||
  c.explainFails === true ||
  c.family === 'nesting' ||
  c.family === 'external-data' ||
  c.name.startsWith('absurd-dims/input-');

const families = [...new Set(cases.map((c) => c.family))];
for (const family of families) {
  describe(`mutants: ${family}`, () => {
    for (const [i, c] of cases.entries()) {
      if (c.family !== family) continue;
      test(c.name, { timeout: 3 * CASE_MS, ...(c.todo ? { todo: c.todo } : {}) }, async () => {
        const path = modelPath(i);
        const failure = await withinTime(CASE_MS, 'the library path', () => libraryPath(path));
        if (failure) assertTyped(c, failure);
        else assert.ok(c.mayLoad, 'loaded, opened and compiled a model that has no correct result');
        const inspect = await withinTime(CASE_MS, 'inspect', () => cli(['inspect', path]));
        assertCliTyped(c, inspect, 'inspect');
        if (explainSample(c, i)) {
          const out = join(dir, String(i), 'out');
          const r = await withinTime(CASE_MS, 'explain', () =>
            cli(['explain', path, image, '-o', out, '-q']),
          );
          assertCliTyped(c, r, 'explain');
          // A model with no correct result must not give maps either.
          if (!c.mayLoad || c.explainFails)
            assert.notEqual(r.code, 0, 'explain made maps for a model with no correct result');
        }
      });
    }
  });
}

describe('mutants through the CLI in a child process', () => {
  // Few spawns (each starts Node and tsx): one per kind of failure a user is most likely to hit.
  const picks: [string, string][] = [
    ['inspect', 'nesting/if-50-deep'],
    ['inspect', 'cycle/two-nodes'],
    ['explain', cases.filter((c) => c.family === 'truncation').at(-10)!.name],
    ['explain', 'external-data/parent'],
  ];
  for (const [command, name] of picks) {
    test(`${command} ${name}`, async () => {
      const i = cases.findIndex((c) => c.name === name);
      assert.ok(i >= 0, `no case ${name}`);
      const c = cases[i]!;
      const args =
        command === 'inspect' ? [modelPath(i)] : [modelPath(i), image, '-o', join(dir, `cli-${i}`)];
      const r = await runCli([command, ...args], { timeoutMs: 30_000 });
      assert.equal(r.timedOut, false, 'the CLI hung');
      assert.equal(r.code, 1, r.stderr);
      const m = /error\[([a-z-]+)\]: (.*)\n\s+hint: (.+)/.exec(r.stderr);
      assert.ok(m, r.stderr);
      assert.ok(c.codes?.includes(m[1] as ErrorCode), `${m[1]} not in ${c.codes?.join('|')}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace was printed');
    });
  }
});

test('the generator is deterministic and makes a few hundred distinct cases', () => {
  const again = onnxMutants(SEED);
  assert.ok(cases.length >= 300, `${cases.length} cases`);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
  assert.deepEqual(
    again.map((c) => c.name),
    cases.map((c) => c.name),
  );
  assert.ok(again.every((c, i) => Buffer.from(c.model).equals(Buffer.from(cases[i]!.model))));
  assert.notDeepEqual(
    onnxMutants(SEED + 1).map((c) => c.name),
    cases.map((c) => c.name),
  );
});

test('the finite-difference oracle ran on dozens of mutants that load, with nonzero gradients', (t) => {
  // Runs after the cases above (node:test keeps file order).
  t.diagnostic(`${gradientsChecked.length} gradients checked against finite differences`);
  assert.ok(gradientsChecked.length >= 30, `${gradientsChecked.length} gradients checked`);
  assert.ok(gradientsChecked.filter((g) => Math.abs(g) > 1e-2).length >= 20);
});
