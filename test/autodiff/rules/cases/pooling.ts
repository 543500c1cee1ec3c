// Cases for rules/pooling.ts. MaxPool with random geometry (ceil_mode, dilation, asymmetric pads) on
// distinct values; the common fixed shapes (k3 s2 p1 overlapping, k2 s2); exact ties (all-zero
// windows after a ReLU, repeated maxima, saturated ReLU6) where the FIRST max in row-major window
// order takes the gradient and overlapping windows add, under every rule set. AveragePool with
// count_include_pad 0/1 and ceil_mode; the global pools.

import type { GradCase } from '../../../helpers/grad-check.ts';
import type { AttrValue } from '../../../helpers/onnx-builder.ts';
import { distinct, floatConst, input, oneNode, Rng, size, values } from './gen.ts';

const ALL_SETS = ['standard', 'guided', 'deconvnet'] as const;

function poolGeometry(rng: Rng, dilate: boolean): Record<string, AttrValue> {
  const k = [rng.int(2, 3), rng.int(1, 3)];
  const d = dilate ? [rng.pick([1, 2]), rng.pick([1, 2])] : [1, 1];
  const pad = (i: number) => rng.int(0, k[i]! - 1);
  const attrs: Record<string, AttrValue> = {
    kernel_shape: k,
    strides: [rng.int(1, 3), rng.int(1, 3)],
    pads: [pad(0), pad(1), pad(0), pad(1)],
    ceil_mode: rng.int(0, 1),
  };
  if (dilate) attrs.dilations = d;
  return attrs;
}

export function poolingCases(): GradCase[] {
  const rng = new Rng(505);
  const cases: GradCase[] = [];
  let seed = 5000;
  const pool = (id: string, op: string, shape: number[], vals: number[], attrs: Record<string, AttrValue>) =>
    cases.push(
      oneNode(`pooling/${id}`, seed++, { op, nodeInputs: ['x'], inputs: [input('x', shape, vals)], attrs }),
    );

  for (let k = 0; k < 20; k++) {
    const shape = [rng.int(1, 2), rng.int(1, 2), rng.int(5, 8), rng.int(4, 8)];
    pool(`maxpool-random-${k}`, 'MaxPool', shape, distinct(rng, size(shape)), poolGeometry(rng, true));
  }
  const fixed: [string, number[], Record<string, AttrValue>][] = [
    ['k3s2p1', [1, 2, 7, 7], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['k3s2p1-even', [1, 2, 8, 8], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['k2s2', [2, 2, 6, 5], { kernel_shape: [2, 2], strides: [2, 2] }],
    ['k3s2-ceil', [1, 2, 8, 7], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }],
    ['k2s1-asym', [1, 1, 6, 6], { kernel_shape: [2, 2], pads: [1, 0, 0, 1] }],
    ['k2s2-dil2', [1, 2, 7, 8], { kernel_shape: [2, 2], strides: [2, 2], dilations: [2, 2], ceil_mode: 1 }],
    ['k3s2-same-upper', [1, 2, 6, 7], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }],
    ['k2s1-same-lower', [1, 1, 5, 6], { kernel_shape: [2, 2], auto_pad: 'SAME_LOWER' }],
  ];
  for (const [name, shape, attrs] of fixed)
    pool(`maxpool-${name}`, 'MaxPool', shape, distinct(rng, size(shape)), attrs);

  // Opset 18: the rule's ReduceMax takes its axes as an input.
  cases.push(
    oneNode('pooling/maxpool-op18-k3s2p1', seed++, {
      op: 'MaxPool',
      opset: 18,
      nodeInputs: ['x'],
      inputs: [input('x', [1, 2, 5, 6], distinct(rng, 60))],
      attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 },
    }),
  );
  // Exact ties: repeated maxima in overlapping windows (first max wins, overlaps add).
  const tieShape = [1, 2, 6, 6];
  const tieVals = values(rng, size(tieShape)).map((v) => Math.round(v * 2) / 2);
  for (const [name, attrs] of [
    ['k3s1', { kernel_shape: [3, 3] }],
    ['k3s2p1', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['k2s2', { kernel_shape: [2, 2], strides: [2, 2] }],
  ] as const) {
    cases.push(
      oneNode(`pooling/maxpool-ties-${name}`, seed++, {
        op: 'MaxPool',
        nodeInputs: ['x'],
        inputs: [input('x', tieShape, tieVals)],
        attrs,
        extra: { fd: false },
      }),
    );
  }
  // ReLU → MaxPool: all-zero windows tie; deconvnet sends relu(g) to the first zero of each window.
  // ReLU6 → MaxPool: saturated windows tie at 6.
  for (const [name, act] of [
    ['relu', { op: 'Relu', inputs: ['x'], outputs: ['a'] }],
    ['relu6', { op: 'Clip', inputs: ['x', 'lo', 'hi'], outputs: ['a'] }],
  ] as const) {
    const vals = values(rng, 2 * 49, -1, 1).map((v) =>
      name === 'relu' ? (v < 0.3 ? -Math.abs(v) : v) : v * 9 - 1,
    );
    cases.push({
      id: `pooling/maxpool-ties-after-${name}`,
      opset: 13,
      nodes: [
        act,
        {
          op: 'MaxPool',
          inputs: ['a'],
          outputs: ['y'],
          attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
        },
      ],
      inputs: [input('x', [1, 2, 7, 7], vals)],
      initializers: name === 'relu6' ? [floatConst('lo', [], [0]), floatConst('hi', [], [6])] : [],
      output: 'y',
      wrt: ['x'],
      seed: seed++,
      ruleSets: ALL_SETS,
      fd: false,
    });
  }

  for (let k = 0; k < 10; k++) {
    const shape = [rng.int(1, 2), rng.int(1, 2), rng.int(4, 7), rng.int(4, 7)];
    const attrs = poolGeometry(rng, false);
    attrs.count_include_pad = rng.int(0, 1);
    pool(`averagepool-random-${k}`, 'AveragePool', shape, values(rng, size(shape)), attrs);
  }
  pool('averagepool-k2s2', 'AveragePool', [1, 2, 6, 6], values(rng, 72), {
    kernel_shape: [2, 2],
    strides: [2, 2],
  });
  pool('averagepool-k3s1p1-incl', 'AveragePool', [1, 2, 5, 5], values(rng, 50), {
    kernel_shape: [3, 3],
    pads: [1, 1, 1, 1],
    count_include_pad: 1,
  });
  pool('averagepool-k3s2-ceil-incl', 'AveragePool', [1, 1, 6, 6], values(rng, 36), {
    kernel_shape: [3, 3],
    strides: [2, 2],
    pads: [1, 1, 1, 1],
    count_include_pad: 1,
    ceil_mode: 1,
  });

  pool('averagepool-same-upper', 'AveragePool', [1, 2, 5, 6], values(rng, 60), {
    kernel_shape: [2, 3],
    strides: [2, 2],
    auto_pad: 'SAME_UPPER',
  });
  for (const [name, shape] of [
    ['a', [2, 3, 4, 5]],
    ['b', [1, 2, 3, 3]],
  ] as const) {
    pool(`globalaveragepool-${name}`, 'GlobalAveragePool', [...shape], values(rng, size(shape)), {});
    pool(`globalmaxpool-${name}`, 'GlobalMaxPool', [...shape], distinct(rng, size(shape)), {});
  }
  pool('globalaveragepool-1d', 'GlobalAveragePool', [2, 3, 5], values(rng, 30), {});
  cases.push(
    oneNode('pooling/globalmaxpool-ties', seed++, {
      op: 'GlobalMaxPool',
      nodeInputs: ['x'],
      inputs: [
        input(
          'x',
          [1, 3, 3, 3],
          [1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 2, -1, 2, 2, 0, 0, 0, 0],
        ),
      ],
      extra: { fd: false },
    }),
  );
  // One window over the whole input (MobileNetV2's 7×7 average pool): the global-mean recipe.
  pool('averagepool-whole', 'AveragePool', [2, 3, 3, 4], values(rng, 72), { kernel_shape: [3, 4] });
  return cases;
}
