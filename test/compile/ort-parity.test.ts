// A compiled explainer run by bare onnxruntime-node, as a user would run it with no gradsight code:
// its maps must equal the library's `explain` (≤ 1e-4). The library side (compiling, and explaining
// with Explainer) runs in another process, make-expected.ts, and hands over files; this file imports
// nothing of gradsight.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { repoRoot, skipNoShared } from '../helpers/shared.ts';

interface TensorFile {
  readonly name: string;
  readonly dtype: 'float32' | 'int64';
  readonly dims: readonly number[];
  readonly file: string;
}

interface Case {
  readonly id: string;
  readonly file: string;
  readonly feeds: readonly TensorFile[];
  readonly expected: readonly TensorFile[];
}

const TOLERANCE = 1e-4;
const root = mkdtempSync(join(tmpdir(), 'gradsight-compiled-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Runs the library side for one model and returns its cases. */
function prepare(which: 'tiny' | 'mobilenet'): { dir: string; classes: number[]; cases: Case[] } {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'test', 'compile', 'make-expected.ts'), root, which],
    { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 },
  );
  assert.equal(r.status, 0, `make-expected.ts ${which} failed:\n${r.stderr}`);
  const dir = join(root, which);
  return { dir, ...JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) };
}

function load(dir: string, t: TensorFile): ort.Tensor {
  const bytes = readFileSync(join(dir, t.file));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const data = t.dtype === 'int64' ? new BigInt64Array(buffer) : new Float32Array(buffer);
  return new ort.Tensor(t.dtype, data, [...t.dims]);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function suite(which: 'tiny' | 'mobilenet', skip: false | string): void {
  describe(`compiled explainers on ${which}, plain onnxruntime-node`, { skip }, () => {
    let prepared: ReturnType<typeof prepare> | undefined;
    const get = () => {
      prepared ??= prepare(which);
      return prepared;
    };
    const ids = [
      'gradcam',
      'hirescam',
      'gradcam-counterfactual',
      'guided-backprop',
      'guided-gradcam',
      'gradcam-2-layers',
      'gradcam-seed',
      'hirescam-seed-counterfactual',
    ];
    for (const id of ids) {
      test(id, async () => {
        const { dir, classes, cases } = get();
        assert.notEqual(classes[0], classes[1], 'the two images explain different classes');
        const c = cases.find((x) => x.id === id);
        assert.ok(c, `no case ${id}`);
        const session = await ort.InferenceSession.create(join(dir, c.file));
        try {
          const feeds = Object.fromEntries(c.feeds.map((f) => [f.name, load(dir, f)]));
          const out = await session.run(feeds);
          for (const want of c.expected) {
            const got = out[want.name];
            assert.ok(got, `output ${want.name} missing; outputs: ${session.outputNames.join(', ')}`);
            assert.deepEqual(got.dims, want.dims, want.name);
            const ref = load(dir, want).data as Float32Array;
            const diff = maxAbsDiff(got.data as Float32Array, ref);
            // The maps are not trivially equal: some signal in every image.
            const peak = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
            assert.ok(peak > 1e-3, `${want.name} of ${id} is empty`);
            console.log(`${which} ${id} ${want.name}: max |ort − library| = ${diff.toExponential(2)}`);
            assert.ok(diff <= TOLERANCE, `${id} ${want.name}: max abs diff ${diff} > ${TOLERANCE}`);
          }
        } finally {
          await session.release();
        }
      });
    }
  });
}

suite('tiny', false);
suite('mobilenet', skipNoShared);
