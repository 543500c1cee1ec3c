// The IR built from a ModelProto: inputs, initializers, producers/consumers, generated node names,
// initializer values, the opset range.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { decodeModel, getInt, getInts, getString } from '../../src/onnx/index.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { modelPath, skipNoShared } from '../helpers/shared.ts';

test('squeezenet: inputs exclude initializers; producers, consumers and attributes', {
  skip: skipNoShared,
}, () => {
  const model = decodeModel(readFileSync(modelPath('squeezenet1_1_random')));
  const g = model.graph;
  assert.equal(model.irVersion, 7);
  assert.equal(model.opsets.get(''), 13);
  assert.equal(model.producer, 'pytorch');
  assert.deepEqual(
    g.inputs.map((i) => [i.name, i.dtype, i.shape]),
    [['input', 'float32', ['batch', 3, 224, 224]]],
  );
  assert.equal(g.nodes.length, 83);
  // Every node comes after the producers of its inputs.
  const seen = new Set([...g.initializers.keys(), 'input']);
  for (const n of g.nodes) {
    for (const i of n.inputs) assert.ok(i === '' || seen.has(i), `${n.name} reads ${i} before it exists`);
    for (const o of n.outputs) {
      seen.add(o);
      assert.equal(g.producers.get(o), n);
    }
    for (const i of n.inputs) assert.ok(g.consumers.get(i)?.includes(n));
  }
  const pools = g.nodes.filter((n) => n.opType === 'MaxPool');
  assert.equal(pools.length, 3);
  for (const p of pools) {
    assert.deepEqual(getInts(p, 'kernel_shape'), [3, 3]);
    assert.equal(getInt(p, 'ceil_mode'), 1);
    assert.equal(getString(p, 'auto_pad', 'NOTSET'), 'NOTSET');
  }
  const conv = g.nodes.find((n) => n.opType === 'Conv')!;
  const w = g.initializers.get(conv.inputs[1]!)!;
  assert.equal(w.dtype, 'float32');
  assert.deepEqual(w.dims, [64, 3, 3, 3]);
  const values = w.values();
  assert.ok(values instanceof Float32Array && values.length === 64 * 27);
  assert.ok(Array.from(values).some((v) => v !== 0) && Array.from(values).every(Number.isFinite));
});

test('unnamed nodes get stable generated names; typed fields decode', () => {
  const model = decodeModel(
    buildModel({
      inputs: [{ name: 'x', shape: [2] }],
      outputs: [{ name: 'y' }],
      initializers: [
        { name: 'w', dims: [2], values: [1.5, -2] },
        { name: 'i', dtype: 'int64', dims: [3], values: [1, -1, 7] },
        { name: 'b', dtype: 'int32', dims: [1], values: [-9] },
      ],
      nodes: [
        { op: 'Mul', inputs: ['x', 'w'], outputs: ['m'] },
        { op: 'Relu', inputs: ['m'], outputs: ['y'], name: 'act' },
      ],
    }),
  );
  assert.deepEqual(
    model.graph.nodes.map((n) => n.name),
    ['Mul_0', 'act'],
  );
  assert.deepEqual([...(model.graph.initializers.get('w')!.values() as Float32Array)], [1.5, -2]);
  assert.deepEqual([...(model.graph.initializers.get('i')!.values() as BigInt64Array)], [1n, -1n, 7n]);
  assert.deepEqual([...(model.graph.initializers.get('b')!.values() as Int32Array)], [-9]);
});

test('opsets outside 11..21 are model-invalid with a hint', () => {
  for (const opset of [9, 22]) {
    const bytes = buildModel({
      opset,
      inputs: [{ name: 'x', shape: [1] }],
      outputs: [{ name: 'y' }],
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    });
    assert.throws(
      () => decodeModel(bytes),
      (e: unknown) =>
        isGradsightError(e, 'model-invalid') && /opset/.test(e.message) && /version_converter/.test(e.hint!),
    );
  }
});
