// GradientRunner on a model with symbolic height and width: one runner serves inputs of any size,
// compiling a gradient model per size on first use (with static shapes for that size), each checked
// against finite differences; a model with static H, W refuses another size with a typed error.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RULE_SETS } from '../../src/autodiff/rule-sets.ts';
import { GradsightError, isGradsightError } from '../../src/errors.ts';
import { methodById } from '../../src/methods/table.ts';
import { GradientRunner } from '../../src/model/gradient-runner.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { dynamicCnn, seededValues, tinyCnn } from '../helpers/tiny-models.ts';

const open = (bytes: Uint8Array) => ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });
const image = (n: number, h: number, w: number, seed: number): Float32Tensor => ({
  dtype: 'float32',
  dims: [n, 3, h, w],
  data: Float32Array.from(seededValues(n * 3 * h * w, seed)),
});
const oneHot = (n: number, classes: number[]): Float32Tensor => {
  const data = new Float32Array(n * 3);
  classes.forEach((c, i) => {
    data[i * 3 + c] = 1;
  });
  return { dtype: 'float32', dims: [n, 3], data };
};

/** Σ_b logits[b, c_b] differentiated by central differences at `picks`. */
async function fd(
  model: ImageModel,
  x: Float32Tensor,
  classes: number[],
  picks: number[],
): Promise<number[]> {
  const f = async (data: Float32Array) => {
    const y = (await model.run({ ...x, data })).data;
    return classes.reduce((s, c, b) => s + y[b * 3 + c]!, 0);
  };
  const out: number[] = [];
  for (const i of picks) {
    const p = Float32Array.from(x.data);
    const m = Float32Array.from(x.data);
    p[i]! += 1e-3;
    m[i]! -= 1e-3;
    out.push(((await f(p)) - (await f(m))) / (p[i]! - m[i]!));
  }
  return out;
}

describe('GradientRunner at several input sizes', () => {
  test('symbolic H, W: each size compiled once, gradients equal finite differences', async () => {
    const model = await open(dynamicCnn());
    const runner = await GradientRunner.create(model, { wrt: [model.input.name, 'features'] });
    try {
      for (const [n, h, w, seed] of [
        [2, 9, 13, 1],
        [1, 12, 7, 2],
        [2, 9, 13, 3],
      ] as const) {
        const x = image(n, h, w, seed);
        const classes = n === 2 ? [0, 2] : [1];
        const r = await runner.run(x, oneHot(n, classes));
        const g = r.grads[model.input.name]!;
        assert.deepEqual(g.dims, [n, 3, h, w]);
        // The feature map of this size: Conv stride 2 with pad 1.
        assert.deepEqual(r.values.features!.dims, [n, 4, Math.ceil(h / 2), Math.ceil(w / 2)]);
        const picks = Array.from({ length: 20 }, (_, k) => (k * 53) % x.data.length);
        const ref = await fd(model, x, classes, picks);
        const scale = Math.max(...ref.map(Math.abs));
        assert.ok(scale > 0);
        picks.forEach((i, k) => {
          assert.ok(
            Math.abs(g.data[i]! - ref[k]!) <= 1e-2 * scale,
            `[${h}×${w}] element ${i}: ${g.data[i]} vs ${ref[k]}`,
          );
        });
      }
    } finally {
      await runner.release();
      await model.release();
    }
  });

  test('static H, W: another size is a typed error', async () => {
    const model = await open(tinyCnn());
    const runner = await GradientRunner.create(model, { wrt: [model.input.name] });
    try {
      await assert.rejects(runner.run(image(1, 9, 13, 1), oneHot(1, [0])), (e: unknown) => {
        return isGradsightError(e, 'bad-argument') && /\[1, 3, 9, 13\].*\[N, 3, 8, 8\]/.test(e.message);
      });
      // The model's own size still runs.
      const r = await runner.run(image(1, 8, 8, 1), oneHot(1, [0]));
      assert.deepEqual(r.grads[model.input.name]!.dims, [1, 3, 8, 8]);
    } finally {
      await runner.release();
      await model.release();
    }
  });

  test('in-graph maps: skipped layers are not fetched, and Σ|g| per row equals the gradients’ own', async () => {
    const model = await open(tinyCnn());
    const maps = [{ key: 'gradcam', camGraph: methodById('gradcam')!.camGraph!, layers: ['features'] }];
    const runner = await GradientRunner.create(model, { wrt: ['features'], maps });
    try {
      const x = image(2, 8, 8, 4);
      const seed = oneHot(2, [0, 2]);
      const full = await runner.run(x, seed);
      const lean = await runner.run(x, seed, undefined, { skip: ['features'] });
      assert.equal(lean.values.features, undefined);
      assert.equal(lean.grads.features, undefined);
      const g = full.grads.features!;
      const per = g.data.length / 2;
      for (let r = 0; r < 2; r++) {
        let want = 0;
        for (const v of g.data.subarray(r * per, (r + 1) * per)) want += Math.abs(v);
        assert.ok(want > 0);
        assert.ok(Math.abs(lean.gradientSums.features![r]! - want) <= 1e-6 * want, `row ${r}`);
        assert.equal(lean.gradientSums.features![r], full.gradientSums.features![r]);
      }
      // The maps are the same either way.
      assert.deepEqual(lean.maps.gradcam!.final.data, full.maps.gradcam!.final.data);
    } finally {
      await runner.release();
      await model.release();
    }
  });

  test("a further part's gradient shapes are declared too (Guided Backprop beside the layer's gradients)", async () => {
    const model = await open(tinyCnn());
    const runner = await GradientRunner.create(model, {
      wrt: ['features'],
      also: [{ wrt: [model.input.name], ruleSet: RULE_SETS.guided }],
    });
    try {
      const g = decodeModel(runner.compiled.bytes).graph;
      const part = [...g.valueInfo.keys()].filter((n) => n.startsWith('gradsight/part1/'));
      assert.ok(part.length > 0, 'the part declares its gradients');
      for (const n of part)
        assert.ok(
          g.valueInfo.get(n)!.shape?.every((d) => d !== undefined),
          n,
        );
    } finally {
      await runner.release();
      await model.release();
    }
  });

  test('gradient shapes are declared for ONNX Runtime, and a model it refuses with them loads without', async () => {
    const bytes = tinyCnn();
    const declared = (b: Uint8Array) =>
      [...decodeModel(b).graph.valueInfo.keys()].filter((n) => n.startsWith('gradsight/'));
    const model = await open(bytes);
    const hinted = await GradientRunner.create(model, { wrt: ['features', model.input.name] });
    const x = image(2, 8, 8, 5);
    const seed = oneHot(2, [1, 2]);
    try {
      assert.ok(declared(hinted.compiled.bytes).length > 0, 'gradients declared');
      // A runtime that refuses the first (hinted) model: the runner compiles it again without hints.
      const refused: Uint8Array[] = [];
      const runtime = {
        ...nodeRuntime,
        createSession: async (b: Uint8Array, o?: object) => {
          if (refused.length === 0) {
            refused.push(b);
            throw new GradsightError('model-invalid', 'ONNX Runtime cannot load the model: (test)');
          }
          return nodeRuntime.createSession(b, o);
        },
      };
      const model2 = await ImageModel.create(
        runtime,
        { bytes, model: decodeModel(bytes) },
        { session: 'lazy' },
      );
      const plain = await GradientRunner.create(model2, { wrt: ['features', model2.input.name] });
      try {
        assert.equal(refused.length, 1);
        assert.ok(declared(refused[0]!).length > 0);
        assert.deepEqual(declared(plain.compiled.bytes), []);
        const a = await hinted.run(x, seed);
        const b = await plain.run(x, seed);
        for (const t of ['features', model.input.name]) assert.deepEqual(b.grads[t]!.data, a.grads[t]!.data);
      } finally {
        await plain.release();
        await model2.release();
      }
    } finally {
      await hinted.release();
      await model.release();
    }
  });
});
