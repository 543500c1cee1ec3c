// Typed attribute getters: defaults, int64 -> number, and errors that name node, op and attribute.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import {
  decodeModel,
  getFloat,
  getFloats,
  getInt,
  getInts,
  getString,
  getTensor,
} from '../../src/onnx/index.ts';
import { buildModel, float, floats } from '../helpers/onnx-builder.ts';

const node = decodeModel(
  buildModel({
    inputs: [{ name: 'x', shape: [1] }],
    outputs: [{ name: 'y' }],
    nodes: [
      {
        op: 'Custom',
        domain: 'test',
        name: 'n',
        inputs: ['x'],
        outputs: ['y'],
        attrs: {
          i: 3,
          big: 2 ** 40,
          is: [1, -2],
          f: float(2),
          fs: floats([0.5, 1]),
          s: 'SAME_UPPER',
          t: { tensor: { name: '', dtype: 'int64', dims: [2], values: [4, 5] } },
        },
      },
    ],
  }),
).graph.nodes[0]!;

test('getters return typed values and defaults', () => {
  assert.equal(getInt(node, 'i'), 3);
  assert.equal(getInt(node, 'big'), 2 ** 40);
  assert.deepEqual(getInts(node, 'is'), [1, -2]);
  assert.equal(getFloat(node, 'f'), 2);
  assert.equal(getFloat(node, 'i'), 3); // ints are accepted where floats are expected
  assert.deepEqual(getFloats(node, 'fs'), [0.5, 1]);
  assert.equal(getString(node, 's'), 'SAME_UPPER');
  assert.deepEqual([...(getTensor(node, 't').values() as BigInt64Array)], [4n, 5n]);
  assert.equal(getInt(node, 'missing', 7), 7);
  assert.deepEqual(getInts(node, 'missing', []), []);
});

test('missing required and wrong-typed attributes are model-invalid naming node, op and attribute', () => {
  const named = (attr: string) => (e: unknown) =>
    isGradsightError(e, 'model-invalid') &&
    e.message.includes("'n'") &&
    e.message.includes('Custom') &&
    e.message.includes(`'${attr}'`);
  assert.throws(() => getInt(node, 'missing'), named('missing'));
  assert.throws(() => getInt(node, 's'), named('s'));
  assert.throws(() => getString(node, 'i'), named('i'));
  assert.throws(() => getInts(node, 'fs'), named('fs'));
});
