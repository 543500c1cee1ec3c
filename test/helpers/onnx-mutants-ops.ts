// Inserted-op mutants: one node with random (often odd, sometimes invalid) attributes spliced in after
// the feature map of a tiny CNN. Those that load exercise shape inference and the gradient rules
// against the suite's finite-difference oracle; the rest must fail with a typed error.

import { create } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType as A, type AttributeProto, AttributeProtoSchema } from 'onnx-buf';
import { type InitializerSpec, tensor } from './onnx-builder.ts';
import { edit, type MutantCase } from './onnx-mutant-kit.ts';

type Attr = number | readonly number[] | string;

interface Insert {
  readonly op: string;
  readonly attrs?: Readonly<Record<string, Attr>>;
  /** Constant inputs after the feature map (an empty name skips an optional input). */
  readonly consts?: readonly (InitializerSpec | '')[];
}

function attribute(name: string, v: Attr): AttributeProto {
  if (typeof v === 'string')
    return create(AttributeProtoSchema, { name, type: A.STRING, s: new TextEncoder().encode(v) });
  if (typeof v === 'number') {
    return Number.isInteger(v)
      ? create(AttributeProtoSchema, { name, type: A.INT, i: BigInt(v) })
      : create(AttributeProtoSchema, { name, type: A.FLOAT, f: v });
  }
  return create(AttributeProtoSchema, { name, type: A.INTS, ints: v.map(BigInt) });
}

const i64 = (name: string, values: readonly number[]): InitializerSpec => ({
  name,
  dtype: 'int64',
  dims: [values.length],
  values,
});
const f32 = (name: string, dims: readonly number[], values: readonly number[]): InitializerSpec => ({
  name,
  dims,
  values,
});

/** One random op over the [N, 4, H, W] feature map, drawn from `r`. */
function randomInsert(r: () => number): Insert {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const real = (lo: number, hi: number) => Math.round((lo + r() * (hi - lo)) * 64) / 64 + 1 / 128;
  const k = () => [int(1, 3), int(1, 3)];
  const makers: (() => Insert)[] = [
    () => ({
      op: pick(['MaxPool', 'AveragePool']),
      attrs: {
        kernel_shape: k(),
        strides: [int(1, 2), int(1, 2)],
        pads: [int(0, 1), int(0, 1), int(0, 1), int(0, 1)],
        ceil_mode: int(0, 1),
        ...(r() < 0.5 ? { count_include_pad: int(0, 1) } : {}),
      },
    }),
    () => ({
      op: 'Conv',
      attrs: { group: 4, kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [int(1, 2), int(1, 2)] },
      consts: [
        f32(
          'ins.w',
          [4, 1, 3, 3],
          Array.from({ length: 36 }, () => real(-1, 1)),
        ),
      ],
    }),
    () => ({
      op: 'Pad',
      attrs: { mode: pick(['constant', 'reflect', 'edge']) },
      consts: [i64('ins.pads', [0, 0, int(0, 2), int(0, 2), 0, 0, int(0, 2), int(0, 2)])],
    }),
    () => ({
      op: 'Slice',
      consts: [
        i64('ins.starts', [int(-3, 2)]),
        i64('ins.ends', [pick([8, 100, -1, 6])]),
        i64('ins.axes', [int(2, 3)]),
        i64('ins.steps', [pick([1, 2, -1])]),
      ],
    }),
    () => ({
      op: 'Resize',
      attrs: {
        mode: pick(['nearest', 'linear']),
        coordinate_transformation_mode: pick(['asymmetric', 'half_pixel', 'align_corners']),
      },
      consts: ['', f32('ins.scales', [4], [1, 1, pick([0.5, 2, 1.5]), pick([0.5, 2, 3])])],
    }),
    () => ({
      op: 'Transpose',
      attrs: {
        perm: pick([
          [0, 1, 3, 2],
          [0, 1, 2, 3],
          [0, 2, 1, 3],
          [1, 0, 2, 3],
        ]),
      },
    }),
    () => ({ op: pick(['Sigmoid', 'Tanh', 'HardSwish', 'Exp', 'Neg', 'Relu', 'Identity', 'Erf']) }),
    () => ({ op: 'LeakyRelu', attrs: { alpha: real(-0.5, 0.5) } }),
    () => ({ op: 'HardSigmoid', attrs: { alpha: real(0.1, 0.5), beta: real(0, 1) } }),
    () => ({ op: 'Clip', consts: [f32('ins.lo', [], [real(-1, 0)]), f32('ins.hi', [], [real(0, 1)])] }),
    () => ({ op: 'Softmax', attrs: { axis: int(-4, 3) } }),
    () => ({ op: pick(['ReduceMean', 'ReduceSum']), attrs: { axes: [int(1, 3)], keepdims: 1 } }),
    () => ({
      op: pick(['Mul', 'Add', 'Sub', 'Div']),
      consts: [f32('ins.c', [1, 4, 1, 1], [real(0.5, 2), real(0.5, 2), real(-2, -0.5), real(0.5, 2)])],
    }),
    () => ({ op: 'Pow', consts: [f32('ins.e', [], [pick([2, 3])])] }),
    () => ({
      op: 'BatchNormalization',
      attrs: { epsilon: 1e-5 },
      consts: [
        f32('ins.scale', [4], [real(0.5, 2), real(-2, -0.5), real(0.5, 2), real(0.5, 2)]),
        f32('ins.bias', [4], [real(-1, 1), real(-1, 1), real(-1, 1), real(-1, 1)]),
        f32('ins.mean', [4], [real(-1, 1), real(-1, 1), real(-1, 1), real(-1, 1)]),
        f32('ins.var', [4], [real(0.5, 2), real(0.5, 2), real(0.5, 2), real(0.5, 2)]),
      ],
    }),
    () => ({
      op: 'Reshape',
      consts: [
        i64(
          'ins.shape',
          pick([
            [0, 4, -1, 4],
            [0, -1, 8, 8],
            [0, 4, 64, 1],
            [1, 4, 8, 8],
            [0, 2, 16, 8],
          ]),
        ),
      ],
    }),
    () => ({ op: 'Flatten', attrs: { axis: int(0, 4) } }),
    () => ({ op: 'Concat', attrs: { axis: int(-4, 3) }, consts: [] }),
    () => ({
      op: 'Gather',
      attrs: { axis: int(1, 3) },
      consts: [i64('ins.idx', [int(0, 3), int(-4, 3), 1, 0])],
    }),
    () => ({
      op: 'Expand',
      consts: [
        i64(
          'ins.to',
          pick([
            [1, 4, 8, 8],
            [2, 4, 8, 8],
            [4, 1, 1],
          ]),
        ),
      ],
    }),
  ];
  return pick(makers)();
}

/** `count` models, each tinyCnn or dynamicCnn with one random op after its Relu. */
export function insertedOps(r: () => number, count: number): MutantCase[] {
  const out: MutantCase[] = [];
  for (let i = 0; i < count; i++) {
    const base = r() < 0.5 ? 'tinyCnn' : 'dynamicCnn';
    const ins = randomInsert(r);
    const model = edit(base, (_, g) => {
      const relu = g.node.find((n) => n.opType === 'Relu')!;
      const features = relu.output[0]!;
      relu.output[0] = `${features}.pre`;
      // Concat joins the map with itself; every other op reads the map then its constants.
      const inputs = ins.op === 'Concat' ? [relu.output[0], relu.output[0]] : [relu.output[0]];
      for (const c of ins.consts ?? []) {
        inputs.push(c === '' ? '' : c.name);
        if (c !== '') g.initializer.push(tensor(c));
      }
      const node = g.node.indexOf(relu) + 1;
      g.node.splice(node, 0, {
        ...relu,
        name: `inserted_${ins.op}`,
        opType: ins.op,
        input: inputs,
        output: [features],
        attribute: Object.entries(ins.attrs ?? {}).map(([name, v]) => attribute(name, v)),
      });
    });
    out.push({
      name: `inserted-op/${base}/${i}-${ins.op}`,
      family: 'inserted-op',
      model,
      mayLoad: true,
    });
  }
  return out;
}
