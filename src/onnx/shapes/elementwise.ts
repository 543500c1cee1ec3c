// Same-shape unary ops, numpy-broadcasting binary/variadic ops, comparisons (bool), Where, Cast and
// the normalizations. Add/Sub/Mul/Div/Cast/Identity also fold small int values (shape arithmetic).

import { getInt } from '../attributes.ts';
import { dtypeFromOnnx } from '../dtype.ts';
import type { Dim } from '../ir.ts';
import { axis, broadcastShapes, known } from './dims.ts';
import type { RuleContext, RuleTable, ShapeRule, TensorInfo } from './types.ts';

const sameAsInput: ShapeRule = (ctx) => {
  const x = ctx.input(0);
  return [{ dtype: x?.dtype, shape: x?.shape }];
};

const unary = [
  'Abs', 'Acos', 'Asin', 'Atan', 'Ceil', 'Celu', 'Clip', 'Cos', 'Cosh', 'CumSum', 'Elu', 'Erf', 'Exp', 'Floor',
  'Gelu', 'HardSigmoid', 'HardSwish', 'Hardmax', 'InstanceNormalization', 'LeakyRelu', 'Log', 'LogSoftmax', 'LRN',
  'MeanVarianceNormalization', 'Mish', 'Neg', 'Reciprocal', 'Relu', 'Round', 'Selu', 'Shrink', 'Sigmoid', 'Sign',
  'Sin', 'Sinh', 'Softmax', 'Softplus', 'Softsign', 'Sqrt', 'Tan', 'Tanh', 'ThresholdedRelu', 'Trilu', 'Not',
] as const; // biome-ignore format: a table reads better packed

const binary = [
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Mod',
  'PRelu',
  'BitShift',
  'Sum',
  'Max',
  'Min',
  'Mean',
] as const;
const comparisons = [
  'Equal',
  'Greater',
  'Less',
  'GreaterOrEqual',
  'LessOrEqual',
  'And',
  'Or',
  'Xor',
] as const;

function broadcastInputs(ctx: RuleContext, from = 0): TensorInfo['shape'] {
  const shapes = [];
  for (let i = from; i < ctx.inputCount; i++) shapes.push(ctx.input(i)?.shape);
  return broadcastShapes(shapes);
}

const arithmetic: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  // ONNX integer Div truncates toward zero.
  Div: (a, b) => Math.trunc(a / b),
};

/** Folds int shape arithmetic (torch exports compute reshape targets with Mul/Div on Shape outputs). */
function foldBinary(ctx: RuleContext): readonly Dim[] | undefined {
  const op = ctx.node.opType;
  const f = arithmetic[op];
  const a = ctx.value(0);
  const b = ctx.value(1);
  const dtype = ctx.input(0)?.dtype;
  if (!f || !a || !b || (dtype !== 'int64' && dtype !== 'int32')) return undefined;
  if (a.length !== b.length && a.length !== 1 && b.length !== 1) return undefined;
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length === 1 ? 0 : i]!;
    const y = b[b.length === 1 ? 0 : i]!;
    if (known(x) && known(y)) return f(x, y);
    // batch + 0, batch * 1, 1 * batch keep the symbol; any other arithmetic on a symbol is unknown.
    const neutral = op === 'Mul' || op === 'Div' ? 1 : 0;
    if (y === neutral) return x;
    if (x === neutral && (op === 'Add' || op === 'Mul')) return y;
    return null;
  });
}

const binaryRule: ShapeRule = (ctx) => [
  { dtype: ctx.input(0)?.dtype, shape: broadcastInputs(ctx), value: foldBinary(ctx) },
];

export const elementwiseRules: RuleTable = {
  ...Object.fromEntries(unary.map((op) => [op, sameAsInput])),
  ...Object.fromEntries(binary.map((op) => [op, binaryRule])),
  ...Object.fromEntries(
    comparisons.map((op) => [
      op,
      (ctx: RuleContext) => [{ dtype: 'bool' as const, shape: broadcastInputs(ctx) }],
    ]),
  ),
  IsNaN: (ctx) => [{ dtype: 'bool', shape: ctx.input(0)?.shape }],
  IsInf: (ctx) => [{ dtype: 'bool', shape: ctx.input(0)?.shape }],
  Where: (ctx) => [{ dtype: ctx.input(1)?.dtype, shape: broadcastInputs(ctx) }],
  Identity: (ctx) => [{ ...sameAsInput(ctx)[0]!, value: ctx.value(0) }],
  Cast: (ctx) => [
    { dtype: dtypeFromOnnx(getInt(ctx.node, 'to')), shape: ctx.input(0)?.shape, value: ctx.value(0) },
  ],
  CastLike: (ctx) => [{ dtype: ctx.input(1)?.dtype, shape: ctx.input(0)?.shape, value: ctx.value(0) }],
  Dropout: (ctx) => {
    const x = ctx.input(0);
    return [
      { dtype: x?.dtype, shape: x?.shape },
      { dtype: 'bool', shape: x?.shape },
    ];
  },
  BatchNormalization: (ctx) => {
    const x = ctx.input(0);
    const stat = { dtype: ctx.input(3)?.dtype, shape: ctx.input(3)?.shape };
    return [{ dtype: x?.dtype, shape: x?.shape }, stat, stat];
  },
  LayerNormalization: (ctx) => {
    const x = ctx.input(0);
    const s = x?.shape;
    const a = s ? axis(getInt(ctx.node, 'axis', -1), s.length) : 0;
    const stat = s?.map((d, i) => (i < a ? d : 1));
    return [
      { dtype: x?.dtype, shape: s },
      { dtype: 'float32', shape: stat },
      { dtype: 'float32', shape: stat },
    ];
  },
};
