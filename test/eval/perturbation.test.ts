// The perturbation abstraction: the batch loop, the budget's batch size, the memory estimate of a
// hand-shaped graph (liveness counted by hand), and the mask model against float64 arithmetic done
// here (align-corners bilinear upsampling, min-max, x ⊙ m) in both layouts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import { Masker } from '../../src/eval/mask-model.ts';
import {
  batchWithin,
  logSoftmaxAt,
  modelScorer,
  peakRowBytes,
  scoreAt,
  scorePerturbation,
  VariantScorer,
} from '../../src/eval/perturbation.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import type { Graph, Node, ValueInfo } from '../../src/onnx/index.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { denseModel } from '../helpers/hand-models.ts';

describe('scorePerturbation', () => {
  test('7 variants in batches of 3: runs of 3, 3 and 1, scores in order', async () => {
    const calls: [number, number][] = [];
    const scores = await scorePerturbation({
      count: 7,
      batch: 3,
      make: (start, n) => {
        calls.push([start, n]);
        // Variant i is the row [i, 10·i].
        const data = Float32Array.from({ length: 2 * n }, (_, j) => (start + (j >> 1)) * (j % 2 ? 10 : 1));
        return { dtype: 'float32', dims: [n, 2], data };
      },
      run: async (b) => ({ ...b, data: b.data.map((v) => v + 1) }),
      score: (row) => row[0]! + row[1]!,
    });
    assert.deepEqual(calls, [
      [0, 3],
      [3, 3],
      [6, 1],
    ]);
    // (i + 1) + (10·i + 1)
    assert.deepEqual(
      [...scores],
      [0, 1, 2, 3, 4, 5, 6].map((i) => 11 * i + 2),
    );
  });

  test('batchWithin: the largest batch within the budget, at least 1, at most count; 1 when fixed', () => {
    assert.equal(batchWithin(6000, 1280, 10), 4);
    assert.equal(batchWithin(1000, 1280, 10), 1);
    assert.equal(batchWithin(1e9, 1280, 5), 5);
    assert.equal(batchWithin(1e9, 1280, 5, true), 1);
    assert.equal(batchWithin(1e9, 0, 5), 5);
  });
});

describe('peakRowBytes', () => {
  const node = (opType: string, inputs: string[], outputs: string[]): Node => ({
    name: outputs[0]!,
    opType,
    domain: '',
    inputs,
    outputs,
    attributes: new Map(),
  });
  const info = (name: string, shape: (number | string)[]): [string, ValueInfo] => [
    name,
    { name, dtype: 'float32', shape },
  ];
  // x [N,2,4,4] → Relu → a → Conv(W) → b [N,8,4,4]; Concat(a, b) → c [N,10,4,4] → ReduceMean → y [N,8];
  // W → Shape → s is not downstream of x and does not count.
  const graph = {
    nodes: [
      node('Shape', ['W'], ['s']),
      node('Relu', ['x'], ['a']),
      node('Conv', ['a', 'W'], ['b']),
      node('Concat', ['a', 'b'], ['c']),
      node('ReduceMean', ['c'], ['y']),
    ],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 8] }],
  } as unknown as Graph;
  const shapes = new Map([
    info('x', ['N', 2, 4, 4]),
    info('a', ['N', 2, 4, 4]),
    info('b', ['N', 8, 4, 4]),
    info('c', ['N', 10, 4, 4]),
    info('y', ['N', 8]),
    info('s', [4]),
  ]);

  test('the peak of live tensors per row, counted by hand', () => {
    // x 128 B; Relu: x + a = 256, x freed; Conv: a + b = 640; Concat: a + b + c = 1280, a and b freed;
    // ReduceMean: c + y = 672. Peak 1280.
    assert.equal(peakRowBytes(graph, shapes, ['x']), 1280);
    // From b: a was computed before and does not count; b + c = 1152.
    assert.equal(peakRowBytes(graph, shapes, ['b']), 512 + 640);
  });
});

/** float64 align-corners bilinear resize of one h×w map to H×W. */
function upsample(map: number[], h: number, w: number, H: number, W: number): number[] {
  const coord = (d: number, n: number, N: number) => {
    const x = N > 1 ? (d * (n - 1)) / (N - 1) : 0;
    const i0 = Math.min(Math.floor(x), n - 1);
    return [i0, Math.min(i0 + 1, n - 1), x - i0] as const;
  };
  const out: number[] = [];
  for (let y = 0; y < H; y++) {
    const [r0, r1, wy] = coord(y, h, H);
    for (let x = 0; x < W; x++) {
      const [c0, c1, wx] = coord(x, w, W);
      const top = (1 - wx) * map[r0 * w + c0]! + wx * map[r0 * w + c1]!;
      const bottom = (1 - wx) * map[r1 * w + c0]! + wx * map[r1 * w + c1]!;
      out.push((1 - wy) * top + wy * bottom);
    }
  }
  return out;
}

describe('the mask model', () => {
  const [h, w, H, W, C] = [2, 3, 5, 7, 2];
  const maps = [
    [0, 1, 2, 3, 4, 8],
    [5, -1, 0, 2, 2, 7],
    [3, 3, 3, 3, 3, 3], // constant: the zero mask
  ];
  const mapsTensor: Float32Tensor = {
    dtype: 'float32',
    dims: [3, h, w],
    data: Float32Array.from(maps.flat()),
  };
  const x = Array.from({ length: C * H * W }, (_, i) => Math.sin(i) * 2);

  for (const layout of ['NCHW', 'NHWC'] as const) {
    test(`${layout}: x ⊙ minmax(upsample(map)) per map, within 1e-6 of float64`, async () => {
      const row = layout === 'NCHW' ? [C, H, W] : [H, W, C];
      const xRow =
        layout === 'NCHW'
          ? x
          : Array.from({ length: H * W * C }, (_, i) => x[(i % C) * H * W + Math.floor(i / C)]!);
      const masker = await Masker.create(nodeRuntime, { from: [h, w], row, layout, normalize: true });
      try {
        const out = await masker.apply(mapsTensor, {
          dtype: 'float32',
          dims: [1, ...row],
          data: Float32Array.from(xRow),
        });
        assert.deepEqual(out.dims, [3, ...row]);
        maps.forEach((map, i) => {
          const up = upsample(map, h, w, H, W);
          const lo = Math.min(...up);
          const hi = Math.max(...up);
          const mask = up.map((v) => (v - lo) / (hi - lo + 1e-8));
          for (let j = 0; j < C * H * W; j++) {
            const p = layout === 'NCHW' ? j % (H * W) : Math.floor(j / C);
            const want = xRow[j]! * mask[p]!;
            const got = out.data[i * C * H * W + j]!;
            assert.ok(Math.abs(got - want) <= 1e-6, `map ${i} element ${j}: ${got} vs ${want}`);
            if (i === 2) assert.equal(Math.abs(got), 0, 'constant map: zero mask');
          }
        });
      } finally {
        await masker.release();
      }
    });
  }

  test('maps at the input size, not normalised: exactly x ⊙ map', async () => {
    const masker = await Masker.create(nodeRuntime, {
      from: [H, W],
      row: [C, H, W],
      layout: 'NCHW',
      normalize: false,
    });
    try {
      const m = Float32Array.from({ length: 2 * H * W }, (_, i) => Math.cos(i));
      const xs = Float32Array.from(x);
      const out = await masker.apply(
        { dtype: 'float32', dims: [2, H, W], data: m },
        { dtype: 'float32', dims: [1, C, H, W], data: xs },
      );
      const want = Float32Array.from({ length: 2 * C * H * W }, (_, j) => {
        const i = Math.floor(j / (C * H * W));
        return xs[j % (C * H * W)]! * m[i * H * W + (j % (H * W))]!;
      });
      assert.deepEqual(out.data, want);
    } finally {
      await masker.release();
    }
  });
});

describe('VariantScorer and modelScorer', () => {
  test('rows: whole inputs in runs of at most `batch`, scores in order', async () => {
    const runs: number[] = [];
    const s = new VariantScorer(
      2,
      async (b) => {
        runs.push(b.dims[0]!);
        assert.deepEqual(b.dims.slice(1), [1, 3]);
        return b;
      },
      (row) => row[0]! * 100 + row[2]!,
    );
    const inputs = [0, 1, 2, 3, 4].map((i) => Float32Array.from([i, 0, 2 * i]));
    assert.deepEqual([...(await s.scorer([1, 3])(inputs))], [0, 102, 204, 306, 408]);
    assert.deepEqual(runs, [2, 2, 1]);
  });

  test('logSoftmaxAt and scoreAt against float64 softmax; finite where float32 underflows', () => {
    const row = [2, -1, 0.5];
    const z = Math.exp(2) + Math.exp(-1) + Math.exp(0.5);
    assert.ok(Math.abs(scoreAt(row, 2, 'softmax') - Math.exp(0.5) / z) < 1e-15);
    assert.equal(scoreAt(row, 1, 'logit'), -1);
    assert.ok(Math.abs(logSoftmaxAt([0, -200], 1) - (-200 - Math.log1p(Math.exp(-200)))) < 1e-12);
  });

  test("modelScorer: the batch follows the budget's estimate of one variant", async () => {
    const bytes = denseModel([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]], 2);
    const model = await ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });
    try {
      const score = (row: Float32Array) => row[0]!;
      const one = await modelScorer(model, { score, memoryBudget: 1 });
      const many = await modelScorer(model, { score, memoryBudget: 1e9 });
      const fixed = await modelScorer(model, { score, batchSize: 3 });
      assert.equal(one.batch, 1);
      assert.ok(many.batch > 1000, `batch ${many.batch}`);
      assert.equal(fixed.batch, 3);
      // Scores of the logit: Σ w·x for x = 1..12 scaled by 1, 2.
      const xs = [1, 2].map((k) => Float32Array.from({ length: 12 }, (_, i) => k * (i + 1)));
      const want = [1, 2].map(
        (k) => k * Array.from({ length: 12 }, (_, i) => (i + 1) ** 2).reduce((a, b) => a + b),
      );
      const got = await fixed.scorer([3, 2, 2])(xs);
      assert.deepEqual([...got], want);
      for (const bad of [{ batchSize: 0 }, { batchSize: 2.5 }, { memoryBudget: -1 }]) {
        await assert.rejects(
          modelScorer(model, { score, ...bad }),
          (e) => e instanceof GradsightError && e.code === 'bad-argument',
        );
      }
    } finally {
      await model.release();
    }
  });
});
