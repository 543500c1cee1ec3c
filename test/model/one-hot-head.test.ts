// The classifier head's backward under an in-graph one-hot seed (model/one-hot-head.ts): a Gemm head
// and a 1×1 Conv head each become a Gather of weight rows; the gradients are bit for bit those of the
// dense product, for the top-k selection and its counterfactual; other heads are left alone.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RULE_SETS } from '../../src/autodiff/index.ts';
import { runOptions } from '../../src/explain/context.ts';
import { GradientRunner } from '../../src/model/gradient-runner.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { seededValues } from '../helpers/tiny-models.ts';

const C = 4;
const K = 5;

/** input [N,3,6,6] → Conv 3×3 → Relu 'features' → GlobalAveragePool → head → logits [N, K]. */
function headModel(head: 'gemm' | 'conv1x1' | 'conv1x1-bias-free'): Uint8Array {
  const front = [
    { op: 'Conv', inputs: ['input', 'w1', 'b1'], outputs: ['conv'], attrs: { pads: [1, 1, 1, 1] } },
    { op: 'Relu', inputs: ['conv'], outputs: ['features'] },
    { op: 'GlobalAveragePool', inputs: ['features'], outputs: ['pooled'] },
  ];
  const tail =
    head === 'gemm'
      ? [
          { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
          { op: 'Gemm', inputs: ['flat', 'fc', 'fcb'], outputs: ['logits'], attrs: { transB: 1 } },
        ]
      : [
          {
            op: 'Conv',
            inputs: head === 'conv1x1' ? ['pooled', 'fc4', 'fcb'] : ['pooled', 'fc4'],
            outputs: ['scores'],
          },
          { op: 'Reshape', inputs: ['scores', 'shape'], outputs: ['logits'] },
        ];
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['batch', 3, 6, 6] }],
    outputs: [{ name: 'logits', shape: ['batch', K] }],
    initializers: [
      { name: 'w1', dims: [C, 3, 3, 3], values: seededValues(C * 27, 1) },
      { name: 'b1', dims: [C], values: seededValues(C, 2) },
      { name: 'fc', dims: [K, C], values: seededValues(K * C, 3) },
      { name: 'fc4', dims: [K, C, 1, 1], values: seededValues(K * C, 3) },
      { name: 'fcb', dims: [K], values: seededValues(K, 4) },
      { name: 'shape', dims: [2], values: [-1, K], dtype: 'int64' },
    ],
    nodes: [...front, ...tail],
  });
}

const input = (n: number): Float32Tensor => ({
  dtype: 'float32',
  dims: [n, 3, 6, 6],
  data: Float32Array.from(seededValues(n * 108, 9)),
});

async function runners(bytes: Uint8Array, k: number, sign: 1 | -1) {
  const model = await ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });
  const sg = model.selectionGraph(await model.targetGraph('logits', undefined), k, sign);
  const opts = runOptions(sg, ['features', 'input'], RULE_SETS.standard, k, sg.seed);
  const dense = await GradientRunner.create(model, opts, undefined, sg);
  const gathered = await GradientRunner.create(
    model,
    { ...opts, oneHot: { seed: sg.seed, indices: sg.indices, negate: sign < 0 } },
    undefined,
    sg,
  );
  return { model, sg, dense, gathered };
}

describe('one-hot head', () => {
  for (const head of ['gemm', 'conv1x1', 'conv1x1-bias-free'] as const) {
    for (const sign of [1, -1] as const) {
      test(`${head} head, top:2${sign < 0 ? ', counterfactual' : ''}: a Gather, the same gradients bit for bit`, async () => {
        const { model, sg, dense, gathered } = await runners(headModel(head), 2, sign);
        try {
          // Only the seed's shape is read (the forward values are repeated to its rows), no product.
          const products = (m: Uint8Array) =>
            (decodeModel(m).graph.consumers.get(sg.seed) ?? []).filter((n) => n.opType !== 'Shape');
          const g = decodeModel(gathered.compiled.bytes).graph;
          assert.deepEqual(products(gathered.compiled.bytes), []);
          assert.ok(
            g.nodes.some((n) => n.opType === 'Gather' && n.inputs[0] === (head === 'gemm' ? 'fc' : 'fc4')),
          );
          assert.equal(products(dense.compiled.bytes).length, 1, 'the dense graph multiplies it');
          const x = input(3);
          const a = await dense.run(x, undefined);
          const b = await gathered.run(x, undefined);
          for (const t of ['features', 'input']) {
            const ga = a.grads[t]!.data;
            const gb = b.grads[t]!.data;
            assert.deepEqual(b.grads[t]!.dims, a.grads[t]!.dims);
            assert.ok(ga.some((v) => v !== 0));
            assert.ok(
              ga.every((v, i) => Object.is(v, gb[i])),
              `${t}: bitwise equal`,
            );
          }
          assert.deepEqual(b.outputs[sg.indices]!.data, a.outputs[sg.indices]!.data);
        } finally {
          await dense.release();
          await gathered.release();
          await model.release();
        }
      });
    }
  }

  test('a head the rewrite does not know (a transposed Gemm seed input) is left as emitted', async () => {
    // Gemm with transB 0 in the forward: its backward product is seed · Wᵀ (transB 1), not rows of W.
    const bytes = buildModel({
      opset: 13,
      inputs: [{ name: 'input', shape: ['batch', 3, 6, 6] }],
      outputs: [{ name: 'logits', shape: ['batch', K] }],
      initializers: [
        { name: 'w1', dims: [C, 3, 3, 3], values: seededValues(C * 27, 1) },
        { name: 'fcT', dims: [C, K], values: seededValues(K * C, 3) },
      ],
      nodes: [
        { op: 'Conv', inputs: ['input', 'w1'], outputs: ['features'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'GlobalAveragePool', inputs: ['features'], outputs: ['pooled'] },
        { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
        { op: 'Gemm', inputs: ['flat', 'fcT'], outputs: ['logits'] },
      ],
    });
    const { model, sg, dense, gathered } = await runners(bytes, 1, 1);
    try {
      const g = decodeModel(gathered.compiled.bytes).graph;
      assert.ok(
        (g.consumers.get(sg.seed) ?? []).some((n) => n.opType === 'Gemm'),
        'the seed is still read by the product',
      );
      assert.ok(!g.nodes.some((n) => n.opType === 'Gather' && n.inputs[0] === 'fcT'));
      const x = input(2);
      const a = await dense.run(x, undefined);
      const b = await gathered.run(x, undefined);
      assert.deepEqual(b.grads.features!.data, a.grads.features!.data);
    } finally {
      await dense.release();
      await gathered.release();
      await model.release();
    }
  });
});
