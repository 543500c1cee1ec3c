// Small multi-node cases: a CNN head (Conv → Relu → MaxPool → Flatten → Gemm) under every rule set and
// both profiles, a residual block whose input fans out to a Conv and the Add, and a Reshape whose
// target shape comes from an integer path (Shape → Gather → Unsqueeze → Concat) that must stop the
// gradient without error.

import type { GradCase } from '../../../helpers/grad-check.ts';
import { floatConst, input, intConst, Rng, size, values } from './gen.ts';

export function chainCases(): GradCase[] {
  const rng = new Rng(909);
  const cases: GradCase[] = [];
  let seed = 9000;
  const xs = [2, 2, 6, 6];
  cases.push({
    id: 'chains/conv-relu-maxpool-flatten-gemm',
    opset: 13,
    nodes: [
      {
        op: 'Conv',
        inputs: ['x', 'w', 'b'],
        outputs: ['c'],
        attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
      },
      { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'MaxPool', inputs: ['r'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'fw', 'fb'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    inputs: [input('x', xs, values(rng, size(xs)))],
    initializers: [
      floatConst('w', [3, 2, 3, 3], values(rng, 54)),
      floatConst('b', [3], values(rng, 3, -0.2, 0.2)),
      floatConst('fw', [4, 27], values(rng, 108)),
      floatConst('fb', [4], values(rng, 4)),
    ],
    output: 'y',
    // The pre-ReLU activation too, as Grad-CAM asks for an inner tensor.
    wrt: ['x', 'c'],
    seed: seed++,
    ruleSets: ['standard', 'guided', 'deconvnet'],
    profiles: ['cpu', 'web'],
    // Finite differences would cross ReLU kinks and MaxPool switches; PyTorch is the reference.
    fd: false,
  });
  cases.push({
    id: 'chains/residual-fan-out',
    opset: 13,
    nodes: [
      { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: 'Sigmoid', inputs: ['c'], outputs: ['s'] },
      { op: 'Add', inputs: ['s', 'x'], outputs: ['a'] },
      { op: 'Mul', inputs: ['a', 'x'], outputs: ['y'] },
    ],
    inputs: [input('x', [1, 2, 4, 4], values(rng, 32))],
    initializers: [floatConst('w', [2, 2, 3, 3], values(rng, 36))],
    output: 'y',
    wrt: ['x'],
    seed: seed++,
  });
  cases.push({
    id: 'chains/shape-integer-path',
    opset: 13,
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['shp'] },
      { op: 'Gather', inputs: ['shp', 'zero'], outputs: ['n'], attrs: { axis: 0 } },
      { op: 'Unsqueeze', inputs: ['n', 'axes0'], outputs: ['n1'] },
      { op: 'Concat', inputs: ['n1', 'minus1'], outputs: ['target'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['x', 'target'], outputs: ['r'] },
      { op: 'Tanh', inputs: ['r'], outputs: ['y'] },
    ],
    inputs: [input('x', [2, 3, 2], values(rng, 12))],
    initializers: [intConst('zero', [0], []), intConst('axes0', [0]), intConst('minus1', [-1])],
    output: 'y',
    wrt: ['x'],
    seed: seed++,
  });
  return cases;
}
