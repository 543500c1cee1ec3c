// Static shape inference against ONNX Runtime on one-node (or few-node) models, for ops and attribute
// combinations the shared models lack. Every node output is compared, dims and all.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { decodeModel, inferShapes, probeShapes } from '../../../src/onnx/index.ts';
import { nodeRuntime } from '../../../src/runtime/node.ts';
import type { DType } from '../../../src/tensor/tensor.ts';
import { buildModel, float, type InitializerSpec, type NodeSpec } from '../../helpers/onnx-builder.ts';

interface Case {
  readonly name: string;
  readonly opset?: number;
  /** Float32 graph inputs: name -> dims. */
  readonly inputs: Readonly<Record<string, readonly number[]>>;
  readonly nodes: readonly NodeSpec[];
  readonly initializers?: readonly InitializerSpec[];
  /** Graph outputs and their dtypes (float32 unless given). */
  readonly outputs: Readonly<Record<string, DType>> | readonly string[];
}

const i64 = (name: string, values: readonly number[], dims = [values.length]): InitializerSpec => ({
  name,
  dtype: 'int64',
  dims,
  values,
});
const f32 = (name: string, values: readonly number[], dims = [values.length]): InitializerSpec => ({
  name,
  dims,
  values,
});
const node = (op: string, inputs: string[], outputs: string[], attrs: NodeSpec['attrs'] = {}): NodeSpec => ({
  op,
  inputs,
  outputs,
  attrs,
});
const one = (
  name: string,
  op: string,
  inputs: Record<string, number[]>,
  attrs: NodeSpec['attrs'] = {},
  opset = 17,
): Case => ({
  name,
  opset,
  inputs,
  nodes: [node(op, Object.keys(inputs), ['y'], attrs)],
  outputs: ['y'],
});

const cases: Case[] = [
  one('Gemm transA transB', 'Gemm', { a: [4, 3], b: [5, 4] }, { transA: 1, transB: 1 }),
  one('Gemm transB with bias', 'Gemm', { a: [2, 3], b: [6, 3], c: [6] }, { transB: 1, alpha: float(1) }),
  one('MatMul batch broadcasting', 'MatMul', { a: [2, 1, 3, 4], b: [5, 4, 6] }),
  one('MatMul 1-D lhs', 'MatMul', { a: [4], b: [2, 4, 3] }),
  one('MatMul 1-D rhs', 'MatMul', { a: [2, 3, 4], b: [4] }),
  one(
    'Conv SAME_UPPER stride 2',
    'Conv',
    { x: [1, 2, 9, 8], w: [4, 2, 3, 3] },
    { auto_pad: 'SAME_UPPER', strides: [2, 2] },
  ),
  one(
    'Conv SAME_LOWER stride 3',
    'Conv',
    { x: [1, 2, 10, 7], w: [4, 2, 4, 2] },
    { auto_pad: 'SAME_LOWER', strides: [3, 3] },
  ),
  one(
    'Conv VALID dilated',
    'Conv',
    { x: [2, 2, 11, 9], w: [3, 2, 3, 3] },
    { auto_pad: 'VALID', dilations: [2, 3] },
  ),
  one(
    'Conv grouped, pads, strides',
    'Conv',
    { x: [1, 4, 10, 10], w: [6, 2, 3, 3] },
    { group: 2, pads: [1, 0, 2, 1], strides: [2, 3] },
  ),
  one(
    'ConvTranspose stride, pads, output_padding',
    'ConvTranspose',
    { x: [1, 2, 5, 6], w: [2, 3, 3, 3] },
    { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 0] },
  ),
  one(
    'ConvTranspose grouped dilated',
    'ConvTranspose',
    { x: [1, 4, 4, 4], w: [4, 2, 3, 3] },
    { group: 2, dilations: [2, 1] },
  ),
  one(
    'ConvTranspose output_shape',
    'ConvTranspose',
    { x: [1, 2, 4, 4], w: [2, 3, 3, 3] },
    { strides: [2, 2], output_shape: [10, 9] },
  ),
  one(
    'MaxPool ceil_mode dilation',
    'MaxPool',
    { x: [1, 1, 10, 11] },
    { kernel_shape: [3, 3], strides: [2, 2], dilations: [2, 2], ceil_mode: 1 },
  ),
  one(
    'MaxPool ceil_mode last window in padding',
    'MaxPool',
    { x: [1, 1, 5, 6] },
    { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 },
  ),
  one(
    'AveragePool ceil_mode pads',
    'AveragePool',
    { x: [1, 2, 7, 8] },
    { kernel_shape: [3, 2], strides: [2, 3], pads: [1, 0, 1, 1], ceil_mode: 1 },
  ),
  one(
    'MaxPool SAME_UPPER',
    'MaxPool',
    { x: [1, 1, 7, 8] },
    { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' },
  ),
  one(
    'AveragePool VALID',
    'AveragePool',
    { x: [1, 1, 7, 8] },
    { kernel_shape: [3, 2], strides: [2, 2], auto_pad: 'VALID' },
  ),
  one('GlobalMaxPool', 'GlobalMaxPool', { x: [2, 3, 5, 4] }),
  one('Transpose perm', 'Transpose', { x: [2, 3, 4, 5] }, { perm: [0, 2, 3, 1] }),
  one('Transpose default', 'Transpose', { x: [2, 3, 4] }),
  one('Flatten axis 0', 'Flatten', { x: [2, 3, 4] }, { axis: 0 }),
  one('Flatten axis -1', 'Flatten', { x: [2, 3, 4] }, { axis: -1 }),
  one('Add broadcasting', 'Add', { a: [2, 1, 4], b: [3, 1] }),
  {
    name: 'Less -> Where (bool condition, three-way broadcast)',
    inputs: { a: [3, 1], b: [1, 4], c: [2, 1, 1] },
    nodes: [node('Less', ['a', 'b'], ['cond']), node('Where', ['cond', 'c', 'b'], ['y'])],
    outputs: { cond: 'bool', y: 'float32' },
  },
  one('Softmax', 'Softmax', { x: [2, 5] }, { axis: -1 }),
  one('LayerNormalization', 'LayerNormalization', { x: [2, 3, 4], s: [4] }, { axis: -1 }),
  one(
    'ReduceMean axes attr keepdims 0',
    'ReduceMean',
    { x: [2, 3, 4, 5] },
    { axes: [1, -1], keepdims: 0 },
    13,
  ),
  one('ReduceMax all axes', 'ReduceMax', { x: [2, 3, 4] }, {}, 13),
  one('ReduceSum all axes, keepdims 0', 'ReduceSum', { x: [2, 3, 4] }, { keepdims: 0 }, 13),
  one('Squeeze attr (opset 11)', 'Squeeze', { x: [1, 3, 1, 4] }, { axes: [0, -2] }, 11),
  one('Squeeze all (opset 11)', 'Squeeze', { x: [1, 3, 1, 4] }, {}, 11),
  one('Unsqueeze attr (opset 11)', 'Unsqueeze', { x: [3, 4] }, { axes: [0, 3] }, 11),
  {
    name: 'Split attr (opset 11)',
    opset: 11,
    inputs: { x: [2, 7] },
    nodes: [node('Split', ['x'], ['a', 'b'], { axis: 1, split: [3, 4] })],
    outputs: ['a', 'b'],
  },
  {
    name: 'ArgMax, Cast, Equal',
    inputs: { x: [2, 3, 4] },
    nodes: [
      node('ArgMax', ['x'], ['am'], { axis: 1, keepdims: 1 }),
      node('Cast', ['x'], ['c'], { to: 7 }),
      node('Equal', ['c', 'am'], ['eq']),
    ],
    outputs: { am: 'int64', c: 'int64', eq: 'bool' },
  },
  {
    name: 'Slice with steps, negative steps and clamping',
    inputs: { x: [10, 8, 6] },
    initializers: [
      i64('starts', [8, 1, -100]),
      i64('ends', [1, 100, -1]),
      i64('axes', [0, 1, 2]),
      i64('steps', [-2, 3, 1]),
    ],
    nodes: [node('Slice', ['x', 'starts', 'ends', 'axes', 'steps'], ['y'])],
    outputs: ['y'],
  },
  {
    name: 'Slice without axes and steps',
    inputs: { x: [10, 8] },
    initializers: [i64('starts', [2, -3]), i64('ends', [2 ** 53, -1])],
    nodes: [node('Slice', ['x', 'starts', 'ends'], ['y'])],
    outputs: ['y'],
  },
  {
    name: 'Split input (opset 13) and equal split',
    opset: 13,
    inputs: { x: [2, 5, 6] },
    initializers: [i64('split', [2, 3])],
    nodes: [
      node('Split', ['x', 'split'], ['a', 'b'], { axis: 1 }),
      node('Split', ['x'], ['c', 'd', 'e'], { axis: -1 }),
    ],
    outputs: ['a', 'b', 'c', 'd', 'e'],
  },
  {
    name: 'Split num_outputs (opset 18)',
    opset: 18,
    inputs: { x: [2, 7] },
    nodes: [node('Split', ['x'], ['a', 'b', 'c'], { axis: 1, num_outputs: 3 })],
    outputs: ['a', 'b', 'c'],
  },
  {
    name: 'Squeeze and Unsqueeze with axes inputs (opset 13)',
    opset: 13,
    inputs: { x: [1, 3, 1, 4] },
    initializers: [i64('sq', [0, 2]), i64('unsq', [-1, 1])],
    nodes: [node('Squeeze', ['x', 'sq'], ['s']), node('Unsqueeze', ['s', 'unsq'], ['u'])],
    outputs: ['s', 'u'],
  },
  {
    name: 'Pad (pads input)',
    inputs: { x: [1, 2, 5, 5] },
    initializers: [i64('pads', [0, 0, 1, 2, 0, 1, 3, 4])],
    nodes: [node('Pad', ['x', 'pads'], ['y'], { mode: 'reflect' })],
    outputs: ['y'],
  },
  {
    name: 'Resize scales and sizes',
    opset: 13,
    inputs: { x: [1, 2, 3, 5] },
    initializers: [f32('scales', [1, 1, 2, 1.5]), i64('sizes', [1, 2, 7, 4]), f32('roi', [])],
    nodes: [
      node('Resize', ['x', 'roi', 'scales'], ['a'], { mode: 'nearest' }),
      node('Resize', ['x', '', '', 'sizes'], ['b'], { mode: 'linear' }),
    ],
    outputs: ['a', 'b'],
  },
  {
    name: 'Reductions with axes inputs (ReduceSum 13, ReduceMax 18), noop_with_empty_axes',
    opset: 18,
    inputs: { x: [2, 3, 4, 5] },
    initializers: [i64('axes', [1, 3]), i64('none', [])],
    nodes: [
      node('ReduceSum', ['x', 'axes'], ['s'], { keepdims: 1 }),
      node('ReduceMax', ['x', 'axes'], ['m'], { keepdims: 0 }),
      node('ReduceMean', ['x'], ['all'], { keepdims: 0 }),
      node('ReduceSum', ['x', 'none'], ['noop'], { noop_with_empty_axes: 1 }),
      node('ReduceL2', ['x', 'axes'], ['l2']),
    ],
    outputs: ['s', 'm', 'all', 'noop', 'l2'],
  },
  {
    name: 'Reshape with 0 and -1',
    inputs: { x: [2, 3, 4] },
    initializers: [i64('a', [0, -1]), i64('b', [-1, 6]), i64('c', [2, 0, 2, -1])],
    nodes: [
      node('Reshape', ['x', 'a'], ['ya']),
      node('Reshape', ['x', 'b'], ['yb']),
      node('Reshape', ['x', 'c'], ['yc']),
    ],
    outputs: ['ya', 'yb', 'yc'],
  },
  {
    name: 'torch shape chain: Shape -> Gather -> Unsqueeze -> Concat -> Reshape',
    inputs: { x: [2, 3, 4, 5] },
    initializers: [i64('zero', [0], []), i64('minus1', [-1]), i64('uaxes', [0])],
    nodes: [
      node('Shape', ['x'], ['shape']),
      node('Gather', ['shape', 'zero'], ['n'], { axis: 0 }),
      node('Unsqueeze', ['n', 'uaxes'], ['n1']),
      node('Concat', ['n1', 'minus1'], ['target'], { axis: 0 }),
      node('Reshape', ['x', 'target'], ['y']),
      node('Shape', ['x'], ['tail'], { start: -2 }),
    ],
    outputs: { y: 'float32', shape: 'int64', n: 'int64', n1: 'int64', target: 'int64', tail: 'int64' },
  },
  {
    name: 'Constant, ConstantOfShape, Range, Expand, Tile, Gather axis 1',
    inputs: { x: [3, 1] },
    initializers: [i64('reps', [2, 3]), i64('idx', [0, 2, 1, 0], [2, 2])],
    nodes: [
      node('Constant', [], ['shp'], { value_ints: [3, 4] }),
      node('ConstantOfShape', ['shp'], ['zeros']),
      node('Constant', [], ['start'], { value: { tensor: f32('v0', [1], []) } }),
      node('Constant', [], ['limit'], { value: { tensor: f32('v1', [10], []) } }),
      node('Constant', [], ['delta'], { value: { tensor: f32('v2', [2.5], []) } }),
      node('Range', ['start', 'limit', 'delta'], ['r']),
      node('Expand', ['x', 'shp'], ['e']),
      node('Tile', ['e', 'reps'], ['t']),
      node('Gather', ['t', 'idx'], ['g'], { axis: 1 }),
    ],
    outputs: { zeros: 'float32', r: 'float32', e: 'float32', t: 'float32', g: 'float32', shp: 'int64' },
  },
];

let checked = 0;

describe('static shapes match ONNX Runtime on one-node models', () => {
  after(() => console.log(`# one-node models: ${checked} tensors checked against ONNX Runtime`));
  for (const c of cases) {
    test(c.name, async () => {
      const outputs = Array.isArray(c.outputs)
        ? c.outputs.map((name) => ({ name }))
        : Object.entries(c.outputs).map(([name, dtype]) => ({ name, dtype }));
      const bytes = buildModel({
        opset: c.opset ?? 17,
        inputs: Object.entries(c.inputs).map(([name, shape]) => ({ name, shape })),
        outputs,
        nodes: c.nodes,
        initializers: c.initializers ?? [],
      });
      const model = decodeModel(bytes);
      const shapes = inferShapes(model);
      const ort = await probeShapes(nodeRuntime, model, c.inputs);
      for (const n of model.graph.nodes) {
        for (const out of n.outputs) {
          assert.deepEqual(shapes.get(out)?.shape, ort.get(out), `${n.opType} -> ${out}`);
          checked++;
        }
      }
    });
  }
});
