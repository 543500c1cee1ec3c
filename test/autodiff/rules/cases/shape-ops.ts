// Cases for rules/shape-ops.ts: Slice (steps 2 and 3, negative steps, negative indices, INT64_MAX
// ends, no axes, random), Split with an unused output and with num_outputs, Concat, Pad (positive,
// negative, mixed, opset-18 axes), Expand (incl. bidirectional broadcast), Gather (scalar and 1-D
// indices with duplicates and negative values), Transpose, Reshape, Flatten, Squeeze, Unsqueeze.

import type { GradCase } from '../../../helpers/grad-check.ts';
import { floatConst, input, intConst, oneNode, Rng, size, values } from './gen.ts';

const INT64_MAX = '9223372036854775807';
const INT64_MIN = '-9223372036854775808';

export function shapeOpCases(): GradCase[] {
  const rng = new Rng(808);
  const cases: GradCase[] = [];
  let seed = 8000;
  const x = (shape: number[]) => input('x', shape, values(rng, size(shape)));

  const slices: [string, number[], (number | string)[], (number | string)[], number[], number[]][] = [
    ['step2', [4, 7], [1], [7], [1], [2]],
    ['step3-two-axes', [5, 8], [0, 1], [5, 8], [0, 1], [2, 3]],
    ['neg-step', [3, 6], [-1], [INT64_MIN], [1], [-1]],
    ['neg-step2', [4, 7], [5, 3], [0, INT64_MIN], [1, 0], [-2, -1]],
    ['neg-indices', [3, 8], [-6, -3], [-1, INT64_MAX], [1, 0], [1, 1]],
    ['int64max-end', [2, 3, 5], [1], [INT64_MAX], [2], [1]],
    ['clamped', [4, 5], [-100, 2], [100, 4], [0, 1], [1, 1]],
    ['neg-step3-clamped', [2, 10], [100], [-100], [-1], [-3]],
  ];
  for (const [name, shape, starts, ends, axes, steps] of slices) {
    cases.push(
      oneNode(`shape-ops/slice-${name}`, seed++, {
        op: 'Slice',
        opset: 13,
        nodeInputs: ['x', 'starts', 'ends', 'axes', 'steps'],
        inputs: [x(shape)],
        initializers: [
          intConst('starts', starts),
          intConst('ends', ends),
          intConst('axes', axes),
          intConst('steps', steps),
        ],
      }),
    );
  }
  for (let k = 0; k < 10; k++) {
    const shape = [rng.int(2, 5), rng.int(3, 6), rng.int(2, 4)];
    const axis = rng.int(0, 2);
    const dim = shape[axis]!;
    const step = rng.pick([1, 2, 3, -1, -2]);
    // A non-empty slice, written with negative indices or out-of-range ends at random.
    const s0 = step > 0 ? rng.int(0, dim - 1) : rng.int(0, dim - 1);
    const e0 = step > 0 ? rng.int(s0 + 1, dim) : rng.int(-1, s0 - 1);
    const start: number | string = rng.bool() ? s0 - dim : s0;
    let end: number | string =
      e0 === dim ? rng.pick([dim, dim + 3, INT64_MAX]) : e0 === -1 ? rng.pick([-dim - 1, INT64_MIN]) : e0;
    if (typeof end === 'number' && end >= 0 && end < dim && rng.bool()) end -= dim;
    cases.push(
      oneNode(`shape-ops/slice-random-${k}`, seed++, {
        op: 'Slice',
        opset: 13,
        nodeInputs: ['x', 'starts', 'ends', 'axes', 'steps'],
        inputs: [x(shape)],
        initializers: [
          intConst('starts', [start]),
          intConst('ends', [end]),
          intConst('axes', [axis]),
          intConst('steps', [step]),
        ],
      }),
    );
  }

  cases.push(
    oneNode('shape-ops/slice-no-axes-steps', seed++, {
      op: 'Slice',
      opset: 13,
      nodeInputs: ['x', 'starts', 'ends'],
      inputs: [x([3, 5])],
      initializers: [intConst('starts', [1, -4]), intConst('ends', [3, 4])],
    }),
  );
  // Split: output 1 feeds nothing, so its gradient is zero-filled.
  cases.push({
    id: 'shape-ops/split-unused-output',
    opset: 13,
    nodes: [
      { op: 'Split', inputs: ['x', 'split'], outputs: ['s0', 's1', 's2'], attrs: { axis: 1 } },
      { op: 'Concat', inputs: ['s2', 's0'], outputs: ['y'], attrs: { axis: 1 } },
    ],
    inputs: [x([2, 7, 3])],
    initializers: [intConst('split', [2, 3, 2])],
    output: 'y',
    wrt: ['x'],
    seed: seed++,
  });
  cases.push({
    id: 'shape-ops/split-equal-axis-neg',
    opset: 11,
    nodes: [
      { op: 'Split', inputs: ['x'], outputs: ['s0', 's1'], attrs: { axis: -1 } },
      { op: 'Mul', inputs: ['s0', 's1'], outputs: ['y'] },
    ],
    inputs: [x([3, 2, 6])],
    output: 'y',
    wrt: ['x'],
    seed: seed++,
  });
  cases.push({
    id: 'shape-ops/split-num-outputs-op18',
    opset: 18,
    nodes: [
      { op: 'Split', inputs: ['x'], outputs: ['s0', 's1', 's2'], attrs: { axis: 0, num_outputs: 3 } },
      { op: 'Sub', inputs: ['s2', 's0'], outputs: ['y'] },
    ],
    inputs: [x([6, 2])],
    output: 'y',
    wrt: ['x'],
    seed: seed++,
  });
  cases.push(
    oneNode('shape-ops/concat', seed++, {
      op: 'Concat',
      nodeInputs: ['a', 'k', 'b'],
      inputs: [input('a', [2, 2, 3], values(rng, 12)), input('b', [2, 4, 3], values(rng, 24))],
      initializers: [floatConst('k', [2, 1, 3], values(rng, 6))],
      attrs: { axis: -2 },
    }),
  );
  const pads: [string, number, number[], number[]][] = [
    ['positive', 13, [2, 3, 4], [0, 1, 2, 1, 0, 1]],
    ['negative', 13, [3, 5, 4], [-1, 0, -2, 0, -1, -1]],
    ['mixed', 13, [2, 6, 5], [1, -2, 0, 0, 1, -1]],
    ['two-sided', 11, [3, 4], [1, 0, 2, 1]],
  ];
  for (const [name, opset, shape, p] of pads) {
    cases.push(
      oneNode(`shape-ops/pad-${name}`, seed++, {
        op: 'Pad',
        opset,
        nodeInputs: ['x', 'pads'],
        inputs: [x(shape)],
        initializers: [intConst('pads', p)],
        attrs: { mode: 'constant' },
      }),
    );
  }
  cases.push(
    oneNode('shape-ops/pad-op18-axes-value', seed++, {
      op: 'Pad',
      opset: 18,
      nodeInputs: ['x', 'pads', 'value', 'axes'],
      inputs: [x([2, 3, 4])],
      initializers: [
        intConst('pads', [2, -1, 1, 1]),
        floatConst('value', [], [0.5]),
        intConst('axes', [-1, 1]),
      ],
      attrs: { mode: 'constant' },
    }),
  );
  const expands: [string, number[], number[]][] = [
    ['rank-up', [3, 1], [2, 3, 4]],
    ['bidirectional', [2, 1, 4], [3, 1]],
    ['same', [2, 3], [2, 3]],
  ];
  for (const [name, shape, to] of expands) {
    cases.push(
      oneNode(`shape-ops/expand-${name}`, seed++, {
        op: 'Expand',
        opset: 13,
        nodeInputs: ['x', 'shape'],
        inputs: [x(shape)],
        initializers: [intConst('shape', to)],
      }),
    );
  }
  const gathers: [string, number[], number, number[], number[]][] = [
    ['scalar-axis1', [2, 5, 3], 1, [3], []],
    ['scalar-neg', [4, 3], 0, [-1], []],
    ['dups', [2, 6], 1, [4, 0, 4, -2, 1], [5]],
    ['axis0-dups', [5, 3], 0, [1, 1, 3], [3]],
    ['last-axis', [2, 3, 4], 2, [3, 0, 3], [3]],
  ];
  for (const [name, shape, axis, idx, dims] of gathers) {
    cases.push(
      oneNode(`shape-ops/gather-${name}`, seed++, {
        op: 'Gather',
        nodeInputs: ['x', 'idx'],
        inputs: [x(shape)],
        initializers: [intConst('idx', idx, dims)],
        attrs: { axis },
      }),
    );
  }
  for (let k = 0; k < 3; k++) {
    const shape = Array.from({ length: k + 2 }, () => rng.int(2, 4));
    cases.push(
      oneNode(`shape-ops/transpose-${k}`, seed++, {
        op: 'Transpose',
        nodeInputs: ['x'],
        inputs: [x(shape)],
        attrs: k === 0 ? {} : { perm: rng.shuffle([...shape.keys()]) },
      }),
    );
  }
  cases.push(
    oneNode('shape-ops/reshape', seed++, {
      op: 'Reshape',
      nodeInputs: ['x', 'shape'],
      inputs: [x([2, 3, 4])],
      initializers: [intConst('shape', [0, -1, 2])],
    }),
  );
  for (const axis of [0, 2, -1]) {
    cases.push(
      oneNode(`shape-ops/flatten-${axis}`, seed++, {
        op: 'Flatten',
        nodeInputs: ['x'],
        inputs: [x([2, 3, 2, 2])],
        attrs: { axis },
      }),
    );
  }
  cases.push(
    oneNode('shape-ops/squeeze-op13', seed++, {
      op: 'Squeeze',
      opset: 13,
      nodeInputs: ['x', 'axes'],
      inputs: [x([2, 1, 3, 1])],
      initializers: [intConst('axes', [1, -1])],
    }),
    oneNode('shape-ops/squeeze-all', seed++, {
      op: 'Squeeze',
      opset: 13,
      nodeInputs: ['x'],
      inputs: [x([1, 3, 1, 2])],
    }),
    oneNode('shape-ops/squeeze-op11', seed++, {
      op: 'Squeeze',
      opset: 11,
      nodeInputs: ['x'],
      inputs: [x([1, 3, 1, 2])],
      attrs: { axes: [0, 2] },
    }),
    oneNode('shape-ops/unsqueeze-op13', seed++, {
      op: 'Unsqueeze',
      opset: 13,
      nodeInputs: ['x', 'axes'],
      inputs: [x([3, 2])],
      initializers: [intConst('axes', [0, -1])],
    }),
    oneNode('shape-ops/unsqueeze-op11', seed++, {
      op: 'Unsqueeze',
      opset: 11,
      nodeInputs: ['x'],
      inputs: [x([3, 2])],
      attrs: { axes: [1] },
    }),
  );
  // Gather with indices computed at run time (token ids: Cast of a float input, not differentiated):
  // the gradient to the table is built in-graph; duplicates and negative indices must add up.
  const runtimeGathers: [string, number[], number, number[], number[]][] = [
    ['embedding', [6, 4], 0, [1, 5, 1, 0, 5, 5], [2, 3]],
    ['axis1-negative', [3, 5, 2], 1, [-1, 0, 4, -1], [4]],
    ['scalar', [4, 3], 1, [2], []],
  ];
  for (const [name, shape, axis, idx, dims] of runtimeGathers) {
    cases.push({
      id: `shape-ops/gather-runtime-${name}`,
      opset: 13,
      nodes: [
        { op: 'Cast', name: 'ids', inputs: ['ids'], outputs: ['idx'], attrs: { to: 7 } },
        { op: 'Gather', name: 'gather', inputs: ['x', 'idx'], outputs: ['y'], attrs: { axis } },
      ],
      inputs: [x(shape), input('ids', dims, idx)],
      output: 'y',
      wrt: ['x'],
      seed: seed++,
    });
  }
  return cases;
}
