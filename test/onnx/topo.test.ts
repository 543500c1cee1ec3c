// Topological order: stable, and typed errors for cycles and dangling inputs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { buildModel, type NodeSpec } from '../helpers/onnx-builder.ts';

const relu = (i: string, o: string, name: string): NodeSpec => ({
  op: 'Relu',
  inputs: [i],
  outputs: [o],
  name,
});
const model = (nodes: NodeSpec[]) =>
  buildModel({ inputs: [{ name: 'x', shape: [1] }], outputs: [{ name: 'y' }], nodes });

test('nodes out of order are sorted; valid order and independent branches keep file order', () => {
  const m = decodeModel(
    model([
      relu('b', 'y', 'last'),
      relu('x', 'p', 'branch1'),
      relu('a', 'b', 'middle'),
      relu('x', 'a', 'first'),
      relu('x', 'q', 'branch2'),
    ]),
  );
  assert.deepEqual(
    m.graph.nodes.map((n) => n.name),
    ['branch1', 'first', 'middle', 'last', 'branch2'],
  );
});

test('a cycle is model-invalid naming the node and tensor', () => {
  assert.throws(
    () =>
      decodeModel(
        model([
          relu('x', 'a', 'n1'),
          { op: 'Add', inputs: ['a', 'c'], outputs: ['b'], name: 'n2' },
          relu('b', 'c', 'n3'),
          relu('b', 'y', 'n4'),
        ]),
      ),
    (e: unknown) =>
      isGradsightError(e, 'model-invalid') &&
      /cycle/.test(e.message) &&
      /'n2'/.test(e.message) &&
      /'c'/.test(e.message),
  );
});

test('an input nobody provides is model-invalid naming the node and tensor', () => {
  assert.throws(
    () => decodeModel(model([relu('ghost', 'y', 'lonely')])),
    (e: unknown) =>
      isGradsightError(e, 'model-invalid') && e.details.node === 'lonely' && e.details.tensor === 'ghost',
  );
});

test('a tensor produced twice is model-invalid', () => {
  assert.throws(
    () => decodeModel(model([relu('x', 'y', 'a'), relu('x', 'y', 'b')])),
    (e: unknown) => isGradsightError(e, 'model-invalid') && /twice/.test(e.message),
  );
});
