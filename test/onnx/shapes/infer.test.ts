// Symbolic dims, unresolved tensors and the probe fallback.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeModel, inferShapes, inferShapesWithFallback, unresolved } from '../../../src/onnx/index.ts';
import { nodeRuntime } from '../../../src/runtime/node.ts';
import { buildModel } from '../../helpers/onnx-builder.ts';

const torchChain = () =>
  decodeModel(
    buildModel({
      opset: 13,
      inputs: [{ name: 'x', shape: ['batch', 3, 4, 5] }],
      outputs: [{ name: 'y' }],
      initializers: [
        { name: 'zero', dtype: 'int64', dims: [], values: [0] },
        { name: 'minus1', dtype: 'int64', dims: [1], values: [-1] },
        { name: 'uaxes', dtype: 'int64', dims: [1], values: [0] },
      ],
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['shape'] },
        { op: 'Gather', inputs: ['shape', 'zero'], outputs: ['n'] },
        { op: 'Unsqueeze', inputs: ['n', 'uaxes'], outputs: ['n1'] },
        { op: 'Concat', inputs: ['n1', 'minus1'], outputs: ['target'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['x', 'target'], outputs: ['y'] },
      ],
    }),
  );

test('a symbolic batch flows through torch-style shape arithmetic', () => {
  const model = torchChain();
  assert.deepEqual(inferShapes(model).get('y')?.shape, ['batch', 60]);
  assert.deepEqual(inferShapes(model, { x: [2, 3, 4, 5] }).get('y')?.shape, [2, 60]);
  // A -1 next to a different symbol cannot be divided out: unknown, never guessed.
  assert.deepEqual(inferShapes(model, { x: ['n', 3, 'h', 5] }).get('y')?.shape, ['n', null]);
  assert.deepEqual(unresolved(model, inferShapes(model, { x: ['n', 3, 'h', 5] })), ['y']);
});

test('tensors static rules cannot resolve are probed on ORT', async () => {
  // The Reshape target is a graph input, so only a run can tell the output shape.
  const model = decodeModel(
    buildModel({
      inputs: [
        { name: 'x', shape: [2, 6] },
        { name: 't', dtype: 'int64', shape: [2] },
      ],
      outputs: [{ name: 'y' }],
      nodes: [
        { op: 'Reshape', inputs: ['x', 't'], outputs: ['r'] },
        { op: 'Relu', inputs: ['r'], outputs: ['y'] },
      ],
    }),
  );
  const shapes = inferShapes(model);
  assert.deepEqual(shapes.get('r')?.shape, [null, null]);
  assert.deepEqual(unresolved(model, shapes), ['r', 'y']);
  // Zeros as the target make ORT copy the input dims (0 = keep).
  const probed = await inferShapesWithFallback(nodeRuntime, model, { x: [2, 6], t: [2] });
  assert.deepEqual(probed.get('r')?.shape, [2, 6]);
  assert.deepEqual(probed.get('y')?.shape, [2, 6]);
});

test('ops outside the rule tables (and custom domains) stay unknown', () => {
  const model = decodeModel(
    buildModel({
      inputs: [{ name: 'x', shape: [2, 3] }],
      outputs: [{ name: 'y' }],
      nodes: [{ op: 'NonZero', inputs: ['x'], outputs: ['y'] }],
    }),
  );
  assert.equal(inferShapes(model).get('y')?.shape, undefined);
});

test('an unknown dim stays unknown through broadcasting (it is not read as 1)', () => {
  // Conv outputs of an input with unknown H and W are [b, C, null, null]; their sum used to come
  // out as [b, C, 1, 1], and every gradient shape check downstream failed.
  const model = decodeModel(
    buildModel({
      inputs: [{ name: 'x', shape: ['b', 2, null, null] }],
      outputs: [{ name: 'y' }],
      initializers: [{ name: 'k', dims: [2, 2, 3, 3], values: new Float32Array(36) }],
      nodes: [
        { op: 'Conv', inputs: ['x', 'k'], outputs: ['c'], attrs: { strides: [2, 2] } },
        { op: 'Add', inputs: ['c', 'c'], outputs: ['s'] },
        { op: 'Mul', inputs: ['s', 'x'], outputs: ['y'] },
      ],
    }),
  );
  const shapes = inferShapes(model);
  assert.deepEqual(shapes.get('c')?.shape, ['b', 2, null, null]);
  assert.deepEqual(shapes.get('s')?.shape, ['b', 2, null, null]);
  // A known size > 1 against an unknown one: the known one (they must agree at run time).
  assert.deepEqual(inferShapes(model, { x: ['b', 2, 9, 9] }).get('s')?.shape, ['b', 2, 4, 4]);
});

test('windows over a symbolic size give a symbol named by the formula, equal for equal paths', () => {
  // ShuffleNet's channel shuffle reshapes to [N, -1, H, W] with H, W from another tensor's Shape:
  // the -1 resolves only if both sides carry the same symbols.
  const model = decodeModel(
    buildModel({
      inputs: [{ name: 'x', shape: ['b', 4, 'h', 'w'] }],
      outputs: [{ name: 'y' }],
      initializers: [
        { name: 'k', dims: [4, 4, 3, 3], values: new Float32Array(144) },
        { name: 'i0', dtype: 'int64', dims: [1], values: [0] },
        { name: 'i23', dtype: 'int64', dims: [2], values: [2, 3] },
        { name: 'minus1', dtype: 'int64', dims: [1], values: [-1] },
      ],
      nodes: [
        { op: 'Conv', inputs: ['x', 'k'], outputs: ['c'], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } },
        { op: 'Conv', inputs: ['c', 'k'], outputs: ['same'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Conv', inputs: ['c', 'k'], outputs: ['valid'] },
        { op: 'Shape', inputs: ['same'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'] },
        { op: 'Gather', inputs: ['s', 'i23'], outputs: ['hw'] },
        { op: 'Concat', inputs: ['n', 'minus1', 'hw'], outputs: ['target'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['same', 'target'], outputs: ['y'] },
      ],
    }),
  );
  const shapes = inferShapes(model);
  assert.deepEqual(shapes.get('c')?.shape, ['b', 4, 'ceil(h/2)', 'ceil(w/2)']);
  assert.deepEqual(shapes.get('same')?.shape, ['b', 4, 'ceil(h/2)', 'ceil(w/2)']);
  assert.deepEqual(shapes.get('valid')?.shape, ['b', 4, '(ceil(h/2))-2', '(ceil(w/2))-2']);
  assert.deepEqual(shapes.get('y')?.shape, ['b', 4, 'ceil(h/2)', 'ceil(w/2)']);
  // At a static size the same graph resolves to numbers (9 → 5 → 5).
  assert.deepEqual(inferShapes(model, { x: [1, 4, 9, 10] }).get('y')?.shape, [1, 4, 5, 5]);
});
