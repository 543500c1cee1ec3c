// The walker's contract with the rules: one gradient per input, and a gradient for every input that
// needs one. A rule set with a deliberately broken rule must fail compilation with a typed internal
// error naming the node and op, never drop that gradient silently.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGradients, type GradRule, type RuleSet, standard } from '../../src/autodiff/index.ts';
import { isGradsightError } from '../../src/errors.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { runGradients } from '../helpers/grad-run.ts';
import { buildModel } from '../helpers/onnx-builder.ts';

// y = relu(a) · b + a: `a` is read twice (fan-out), Mul has two inputs that need a gradient.
const bytes = buildModel({
  inputs: [
    { name: 'a', shape: [1, 3] },
    { name: 'b', shape: [1, 3] },
  ],
  outputs: [{ name: 'y' }],
  nodes: [
    { op: 'Relu', name: 'the_relu', inputs: ['a'], outputs: ['r'] },
    { op: 'Mul', name: 'the_mul', inputs: ['r', 'b'], outputs: ['m'] },
    { op: 'Add', name: 'the_add', inputs: ['m', 'a'], outputs: ['y'] },
  ],
});

const withRule = (op: string, rule: GradRule): RuleSet => ({
  name: `broken-${op}`,
  description: 'a deliberately broken rule',
  rules: { ...standard.rules, [op]: rule },
});

function compileError(set: RuleSet): unknown {
  try {
    compileGradients(bytes, decodeModel(bytes), { wrt: ['a', 'b'], explained: 'y', ruleSet: set });
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('the strict walker', () => {
  it('computes the right gradients with the real rules (fan-out added once)', async () => {
    const a = Float32Array.of(-1, 2, 3);
    const b = Float32Array.of(5, -6, 7);
    const seed = Float32Array.of(1, 10, 100);
    const run = await runGradients(
      bytes,
      { wrt: ['a', 'b'], explained: 'y' },
      { a: { dtype: 'float32', dims: [1, 3], data: a }, b: { dtype: 'float32', dims: [1, 3], data: b } },
      { dtype: 'float32', dims: [1, 3], data: seed },
    );
    // dy/da = 1[a > 0]·b + 1, dy/db = relu(a), each times the seed.
    assert.deepEqual([...(run.grads.a!.data as Float32Array)], [1, -50, 800]);
    assert.deepEqual([...(run.grads.b!.data as Float32Array)], [0, 20, 300]);
  });

  const cases: [string, string, GradRule, RegExp][] = [
    ['returns no gradients at all', 'Relu', () => [], /returned 0 gradients for 1 inputs/],
    [
      'returns fewer gradients than inputs',
      'Mul',
      (_ctx, gY) => [gY[0]],
      /returned 1 gradients for 2 inputs/,
    ],
    [
      'returns undefined for an input that needs a gradient',
      'Mul',
      (ctx, gY) => [ctx.e.mul(gY[0]!, ctx.node.inputs[1]!), undefined],
      /returned no gradient for b, which needs one/,
    ],
    [
      'returns something that is not a tensor name',
      'Add',
      (_ctx, gY) => [gY[0], null as unknown as string],
      /returned no gradient for a, which needs one/,
    ],
  ];
  for (const [what, op, rule, message] of cases) {
    it(`refuses a rule that ${what}`, () => {
      const e = compileError(withRule(op, rule));
      assert.ok(isGradsightError(e, 'internal-error'), String(e));
      assert.match(e.message, message);
      const node = { Relu: 'the_relu', Mul: 'the_mul', Add: 'the_add' }[op]!;
      assert.match(e.message, new RegExp(`${op} node '${node}'`));
      assert.deepEqual(e.details, { node, op });
      assert.ok(e.hint);
    });
  }

  it('accepts undefined for an input that needs no gradient', () => {
    // Only `a` requested: b needs none, so Mul may return undefined for it.
    const set = withRule('Mul', (ctx, gY) => [ctx.e.mul(gY[0]!, ctx.node.inputs[1]!), undefined]);
    const m = compileGradients(bytes, decodeModel(bytes), { wrt: ['a'], explained: 'y', ruleSet: set });
    assert.equal(m.outputs.length, 1);
  });
});

describe('parameters computed from the requested tensor', () => {
  // The image feeds a Conv's weight, a Clip's bound, a PRelu's slope: the standard rules differentiate
  // these ops through their data input only, so compiling must say so (unsupported-op naming the
  // node and the input), never report a bug in the rule.
  const x = { name: 'x', shape: [1, 1, 3, 3] };
  const models: [string, Parameters<typeof buildModel>[0], string][] = [
    [
      'a Conv weight',
      {
        inputs: [x],
        outputs: [{ name: 'y' }],
        nodes: [
          { op: 'Relu', inputs: ['x'], outputs: ['w'] },
          { op: 'Conv', name: 'the_conv', inputs: ['x', 'w'], outputs: ['y'] },
        ],
      },
      'the_conv',
    ],
    [
      'a Clip bound',
      {
        inputs: [x],
        outputs: [{ name: 'y' }],
        initializers: [{ name: 'axes', dtype: 'int64', dims: [4], values: [0, 1, 2, 3] }],
        nodes: [
          { op: 'ReduceMean', inputs: ['x'], outputs: ['lo'], attrs: { keepdims: 0 } },
          { op: 'Clip', name: 'the_clip', inputs: ['x', 'lo'], outputs: ['y'] },
        ],
      },
      'the_clip',
    ],
    [
      'a PRelu slope',
      {
        inputs: [x],
        outputs: [{ name: 'y' }],
        nodes: [
          { op: 'Sigmoid', inputs: ['x'], outputs: ['s'] },
          { op: 'PRelu', name: 'the_prelu', inputs: ['x', 's'], outputs: ['y'] },
        ],
      },
      'the_prelu',
    ],
  ];
  for (const [what, spec, node] of models) {
    it(`${what}: unsupported-op naming the node and the input`, () => {
      const b = buildModel(spec);
      assert.throws(
        () => compileGradients(b, decodeModel(b), { wrt: ['x'], explained: 'y' }),
        (e: unknown) => {
          assert.ok(isGradsightError(e, 'unsupported-op'), String(e));
          assert.match(e.message, new RegExp(`'${node}'`));
          assert.match(e.message, /input 1 \('[a-z]+'\)/);
          assert.equal(e.details.node, node);
          assert.ok(e.hint);
          return true;
        },
      );
    });
  }
});
