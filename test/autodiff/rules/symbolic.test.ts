// Rules at symbolic batch, height and width (models exported with dynamic_axes {0: N, 2: H, 3: W}):
// one gradient model per case, compiled from the symbolic shapes, run at two sizes and checked at
// each against finite differences and against the gradient compiled for that size. Rules whose
// geometry depends on the size (Resize's interpolation matrices, AveragePool divisors at uncounted
// pads) must refuse symbolic sizes with a typed error and work once the caller fixes the size.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGradients, type GradRule, standard } from '../../../src/autodiff/index.ts';
import { isGradsightError } from '../../../src/errors.ts';
import { decodeModel } from '../../../src/onnx/index.ts';
import type { InitializerSpec, NodeSpec } from '../../helpers/onnx-builder.ts';
import { seededValues } from '../../helpers/tiny-models.ts';
import { caseBytes, checkSymbolic, type SymbolicCase } from './symbolic-check.ts';

const weights = (name: string, dims: number[], seed: number): InitializerSpec => ({
  name,
  dims,
  values: seededValues(
    dims.reduce((a, b) => a * b, 1),
    seed,
  ).map((v) => v * 0.5),
});
const ints = (name: string, values: number[]): InitializerSpec => ({
  name,
  dtype: 'int64',
  dims: [values.length],
  values,
});
const SIZES = [
  [2, 7, 9],
  [1, 10, 6],
] as const;

/** x → Conv(k3, stride 2, pad 1) → Relu → `tail` → y: most cases end a realistic chain. */
const convRelu = (stride = 2): NodeSpec[] => [
  {
    op: 'Conv',
    inputs: ['x', 'w', 'b'],
    outputs: ['c'],
    attrs: { pads: [1, 1, 1, 1], strides: [stride, stride] },
  },
  { op: 'Relu', inputs: ['c'], outputs: ['r'] },
];
const convWeights = (cin: number, cout: number) => [
  weights('w', [cout, cin, 3, 3], 11),
  weights('b', [cout], 12),
];

const cases: SymbolicCase[] = [
  {
    id: 'GlobalAveragePool after Conv(s2) + Relu, then Flatten',
    channels: 2,
    nodes: [
      ...convRelu(),
      { op: 'GlobalAveragePool', inputs: ['r'], outputs: ['p'] },
      { op: 'Flatten', inputs: ['p'], outputs: ['y'] },
    ],
    initializers: convWeights(2, 3),
    sizes: SIZES,
    seed: 1,
  },
  {
    id: 'Conv with stride 2, asymmetric pads (web profile)',
    channels: 2,
    nodes: [
      { op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { pads: [0, 1, 1, 0], strides: [2, 2] } },
    ],
    initializers: [weights('w', [3, 2, 3, 3], 13)],
    sizes: SIZES,
    profile: 'web',
    seed: 2,
  },
  {
    id: 'Pad of H and W only (batch and channels symbolic or unpadded), negative pad crops',
    channels: 2,
    nodes: [
      { op: 'Pad', inputs: ['x', 'pads', 'zero'], outputs: ['p'], attrs: { mode: 'constant' } },
      { op: 'Conv', inputs: ['p', 'w'], outputs: ['y'], attrs: { strides: [2, 2] } },
    ],
    initializers: [
      ints('pads', [0, 0, 1, -1, 0, 0, 2, 1]),
      { name: 'zero', dims: [], values: [0] },
      weights('w', [2, 2, 3, 3], 14),
    ],
    sizes: SIZES,
    seed: 3,
  },
  {
    id: 'MaxPool k3 s2 p1 (ResNet stem)',
    channels: 2,
    nodes: [
      {
        op: 'MaxPool',
        inputs: ['x'],
        outputs: ['y'],
        attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
      },
    ],
    sizes: SIZES,
    seed: 40,
  },
  {
    id: 'MaxPool k3 s2 ceil_mode (GoogLeNet) after Relu',
    channels: 2,
    nodes: [
      ...convRelu(1),
      {
        op: 'MaxPool',
        inputs: ['r'],
        outputs: ['y'],
        attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 },
      },
    ],
    initializers: convWeights(2, 2),
    sizes: SIZES,
    seed: 5,
  },
  {
    id: 'MaxPool k2 s2 dilated 2x1, pads',
    channels: 1,
    nodes: [
      {
        op: 'MaxPool',
        inputs: ['x'],
        outputs: ['y'],
        attrs: { kernel_shape: [2, 2], strides: [2, 1], dilations: [2, 1], pads: [1, 0, 0, 1] },
      },
    ],
    sizes: SIZES,
    seed: 6,
  },
  {
    id: 'AveragePool k2 s2 (DenseNet transition)',
    channels: 2,
    nodes: [
      { op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    ],
    sizes: SIZES,
    seed: 7,
  },
  {
    id: 'AveragePool k3 s1 p1 count_include_pad (Inception)',
    channels: 2,
    nodes: [
      {
        op: 'AveragePool',
        inputs: ['x'],
        outputs: ['y'],
        attrs: { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], count_include_pad: 1 },
      },
    ],
    sizes: SIZES,
    seed: 8,
  },
  {
    id: 'ReduceMean over H, W (a global pool written as a mean)',
    channels: 3,
    opset: 13,
    nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['y'], attrs: { axes: [2, 3], keepdims: 0 } }],
    sizes: SIZES,
    seed: 9,
  },
  {
    id: 'channel shuffle: Reshape [0, 2, 2, -1] → Transpose → Reshape to Shape(x) (ShuffleNet)',
    channels: 4,
    nodes: [
      ...convRelu(1),
      { op: 'Reshape', inputs: ['r', 'split'], outputs: ['s'] },
      { op: 'Transpose', inputs: ['s'], outputs: ['t'], attrs: { perm: [0, 2, 1, 3] } },
      { op: 'Shape', inputs: ['r'], outputs: ['shape'] },
      { op: 'Reshape', inputs: ['t', 'shape'], outputs: ['y'] },
    ],
    initializers: [...convWeights(4, 4), ints('split', [0, 2, 2, -1])],
    sizes: SIZES,
    seed: 10,
  },
  {
    id: 'Concat along channels (DenseNet) and along W (symbolic lengths)',
    channels: 2,
    nodes: [
      ...convRelu(1),
      { op: 'Concat', inputs: ['x', 'r'], outputs: ['cc'], attrs: { axis: 1 } },
      { op: 'Concat', inputs: ['cc', 'x2'], outputs: ['y'], attrs: { axis: 3 } },
      { op: 'Mul', inputs: ['x', 'x'], outputs: ['xx'] },
      { op: 'Concat', inputs: ['xx', 'xx'], outputs: ['x2'], attrs: { axis: 1 } },
    ].sort((a, b) => (a.outputs[0] === 'y' ? 1 : b.outputs[0] === 'y' ? -1 : 0)),
    initializers: convWeights(2, 2),
    sizes: SIZES,
    seed: 11,
  },
  {
    id: 'Slice and Gather of channels, H and W symbolic',
    channels: 4,
    nodes: [
      { op: 'Slice', inputs: ['x', 'starts', 'ends', 'axes'], outputs: ['s'] },
      { op: 'Gather', inputs: ['x', 'idx'], outputs: ['g'], attrs: { axis: 1 } },
      { op: 'Add', inputs: ['s', 'g'], outputs: ['y'] },
    ],
    initializers: [ints('starts', [1]), ints('ends', [3]), ints('axes', [1]), ints('idx', [3, 0])],
    sizes: SIZES,
    seed: 12,
  },
  {
    // The symbolic batch n is 2 (no broadcast) or 1 (broadcast, the gradient sums both rows): only the
    // run time tells. Found by the ONNX mutant suite (an Expand to a fixed batch gave NaN).
    id: 'Expand and Mul against a fixed batch of 2, the symbolic batch being 2 or 1',
    channels: 2,
    nodes: [
      ...convRelu(),
      { op: 'Expand', inputs: ['r', 'to'], outputs: ['e'] },
      { op: 'Mul', inputs: ['r', 'rows'], outputs: ['m'] },
      { op: 'Add', inputs: ['e', 'm'], outputs: ['y'] },
    ],
    initializers: [...convWeights(2, 3), ints('to', [2, 1, 1, 1]), weights('rows', [2, 1, 1, 1], 13)],
    sizes: SIZES,
    seed: 13,
  },
];

describe('gradient rules at symbolic batch, height and width', () => {
  for (const c of cases) {
    it(c.id, async (t) => {
      const reports = await checkSymbolic(c);
      t.diagnostic(
        reports
          .map(
            (r) =>
              `[${r.dims}]: vs static ${r.vsStatic.toExponential(1)}, vs fd ${r.vsFd.toExponential(1)} (${r.fdChecked} el.)`,
          )
          .join('; '),
      );
      assert.equal(reports.length, 2);
      assert.notDeepEqual(reports[0]!.dims, reports[1]!.dims, 'two different sizes');
      for (const r of reports) {
        assert.ok(r.vsStatic <= 1e-6, `[${r.dims}] differs from the static compile: ${r.vsStatic}`);
        assert.ok(r.vsFd <= 1e-2, `[${r.dims}] differs from finite differences: ${r.vsFd}`);
        assert.ok(r.fdChecked >= 20);
      }
    });
  }

  it('catches a rule that is right at one size only', async () => {
    // GlobalAveragePool's divisor frozen at the first size's H·W (what a rule reading a traced size
    // would do): right at [7, 9]'s 4×5 Conv output, wrong at [10, 6]'s 5×3.
    const frozen: GradRule = (ctx, gY) => [
      ctx.e.expandLike(ctx.e.div(gY[0]!, ctx.e.scalar(20)), ctx.node.inputs[0]!),
    ];
    const set = {
      name: 'frozen',
      description: 'a deliberately wrong rule',
      rules: { ...standard.rules, GlobalAveragePool: frozen },
    };
    const [first, second] = await checkSymbolic(cases[0]!, set);
    assert.ok(first!.vsStatic <= 1e-6 && first!.vsFd <= 1e-2, 'right at the size it was frozen at');
    assert.ok(second!.vsStatic > 0.1, `caught against the static compile: ${second!.vsStatic}`);
    assert.ok(second!.vsFd > 0.1, `caught against finite differences: ${second!.vsFd}`);
  });

  const needsStatic: [string, SymbolicCase][] = [
    [
      'Resize',
      {
        id: 'resize',
        channels: 1,
        nodes: [{ op: 'Resize', inputs: ['x', '', 'scales'], outputs: ['y'], attrs: { mode: 'linear' } }],
        initializers: [{ name: 'scales', dims: [4], values: [1, 1, 2, 2] }],
        sizes: SIZES,
        seed: 20,
      },
    ],
    [
      'AveragePool',
      {
        id: 'avgpool-uncounted-pads',
        channels: 1,
        nodes: [
          {
            op: 'AveragePool',
            inputs: ['x'],
            outputs: ['y'],
            attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
          },
        ],
        sizes: SIZES,
        seed: 21,
      },
    ],
  ];
  for (const [op, c] of needsStatic) {
    it(`${op} with size-dependent geometry: a typed error at symbolic sizes, compiles once sized`, () => {
      const bytes = caseBytes(c);
      assert.throws(
        () =>
          compileGradients(bytes, decodeModel(bytes), { wrt: ['x'], explained: 'y', beforeSoftmax: false }),
        (e: unknown) =>
          isGradsightError(e, 'unsupported-op') &&
          /static spatial sizes/.test(e.message) &&
          e.details.op === op,
      );
      // Sized per run (what GradientRunner does); its values at fixed sizes are the family tests'.
      for (const [n, h, w] of c.sizes) {
        const sized = compileGradients(bytes, decodeModel(bytes), {
          wrt: ['x'],
          explained: 'y',
          beforeSoftmax: false,
          inputShapes: { x: [n, 1, h, w] },
        });
        assert.deepEqual(sized.outputs[0]!.shape, [n, 1, h, w]);
      }
    });
  }
});
