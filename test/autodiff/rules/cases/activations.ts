// Cases for rules/activations.ts: smooth ops on random inputs, piecewise ops away from their kinks
// (finite differences apply) and exactly at them (ReLU at 0, ReLU6 at 0 and 6: PyTorch's convention
// only), under the standard, guided and deconvnet rule sets.

import type { GradCase } from '../../../helpers/grad-check.ts';
import { float } from '../../../helpers/onnx-builder.ts';
import { floatConst, input, oneNode, Rng, size, values } from './gen.ts';

const ALL_SETS = ['standard', 'guided', 'deconvnet'] as const;

export function activationCases(): GradCase[] {
  const rng = new Rng(101);
  const cases: GradCase[] = [];
  let seed = 1000;
  const shape = () =>
    rng.pick([
      [2, 3, 4],
      [1, 2, 3, 3],
      [5, 6],
      [2, 2, 2, 5],
    ]);
  const unary = (
    name: string,
    op: string,
    opts: { lo?: number; hi?: number; kinks?: number[] } = {},
    attrs = {},
    opset?: number,
  ) => {
    for (let k = 0; k < 2; k++) {
      const s = shape();
      cases.push(
        oneNode(`activations/${name}-${k}`, seed++, {
          op,
          nodeInputs: ['x'],
          inputs: [input('x', s, values(rng, size(s), opts.lo ?? -2, opts.hi ?? 2, opts.kinks ?? []))],
          attrs,
          ...(opset ? { opset } : {}),
          extra: op === 'Relu' ? { ruleSets: ALL_SETS } : {},
        }),
      );
    }
  };
  unary('relu', 'Relu', { kinks: [0] });
  unary('sigmoid', 'Sigmoid', { lo: -4, hi: 4 });
  unary('tanh', 'Tanh');
  unary('erf', 'Erf');
  unary('exp', 'Exp');
  unary('sqrt', 'Sqrt', { lo: 0.2, hi: 3 });
  unary('neg', 'Neg');
  unary('reciprocal', 'Reciprocal', { lo: 0.5, hi: 2 });
  unary('identity', 'Identity');
  unary('cast', 'Cast', {}, { to: 1 });
  unary('dropout', 'Dropout', {}, {}, 13);
  unary('hardswish', 'HardSwish', { lo: -5, hi: 5, kinks: [-3, 3] }, {}, 14);
  unary('gelu', 'Gelu', { lo: -3, hi: 3 }, {}, 20);
  unary('gelu-tanh', 'Gelu', { lo: -3, hi: 3 }, { approximate: 'tanh' }, 20);
  for (let k = 0; k < 3; k++) {
    const alpha = Math.round(rng.next() * 100) / 200 + 0.05;
    unary(`leakyrelu${k}`, 'LeakyRelu', { kinks: [0] }, { alpha: float(alpha) });
    const a = rng.pick([1 / 6, 0.2, 0.5]);
    const b = rng.pick([0.5, 0.3, 0.6]);
    unary(
      `hardsigmoid${k}`,
      'HardSigmoid',
      { lo: -5, hi: 5, kinks: [-b / a, (1 - b) / a] },
      {
        alpha: float(a),
        beta: float(b),
      },
    );
  }
  for (let k = 0; k < 2; k++) {
    const s = [2, 3, 2, 2];
    cases.push(
      oneNode(`activations/prelu-${k}`, seed++, {
        op: 'PRelu',
        nodeInputs: ['x', 'slope'],
        inputs: [input('x', s, values(rng, size(s), -2, 2, [0]))],
        initializers: [floatConst('slope', k ? [3, 1, 1] : [1], values(rng, k ? 3 : 1, 0.05, 0.5))],
      }),
    );
  }

  // Clip: bounds as inputs (gradsight reads opsets 11+), one-sided, and hardtanh [−1, 1].
  const clip = (
    name: string,
    lo: number | undefined,
    hi: number | undefined,
    opset: number,
    kink: boolean,
  ) => {
    const s = shape();
    const kinks = [lo, hi].filter((v): v is number => v !== undefined);
    const inits = [];
    const nodeInputs = ['x'];
    nodeInputs.push(lo === undefined ? '' : 'lo', hi === undefined ? '' : 'hi');
    if (lo !== undefined) inits.push(floatConst('lo', [], [lo]));
    if (hi !== undefined) inits.push(floatConst('hi', [], [hi]));
    const vals = values(rng, size(s), -2, 8, kink ? [] : kinks);
    if (kink) {
      // Two elements exactly at each bound.
      kinks.forEach((v, i) => {
        vals.splice(3 * i, 2, v, v);
      });
    }
    cases.push(
      oneNode(`activations/clip-${name}`, seed++, {
        op: 'Clip',
        nodeInputs,
        inputs: [input('x', s, vals)],
        initializers: inits,
        opset,
        extra: { ruleSets: ALL_SETS, ...(kink ? { fd: false } : {}) },
      }),
    );
  };
  clip('relu6', 0, 6, 13, false);
  clip('min-only', 0, undefined, 13, false);
  clip('hardtanh', -1, 1, 13, false);
  clip('max-only', undefined, 1, 11, false);
  clip('relu6-at-bounds', 0, 6, 13, true);

  // ReLU at exactly 0: gradient 0 there (PyTorch threshold_backward), every rule set.
  const s = [2, 3, 4];
  const vals = values(rng, size(s), -1, 1, [0]).map((v, i) => (i % 3 === 0 ? 0 : v));
  cases.push(
    oneNode('activations/relu-at-zero', seed++, {
      op: 'Relu',
      nodeInputs: ['x'],
      inputs: [input('x', s, vals)],
      extra: { ruleSets: ALL_SETS, fd: false },
    }),
  );
  // LeakyRelu at 0 takes the negative slope, as PyTorch.
  cases.push(
    oneNode('activations/leakyrelu-at-zero', seed++, {
      op: 'LeakyRelu',
      nodeInputs: ['x'],
      inputs: [input('x', s, vals)],
      attrs: { alpha: float(0.1) },
      extra: { fd: false },
    }),
  );
  // 16 channels (NCHW): the CPU rules' blocked masks (1×1 depthwise Convs with a clipping activation),
  // at the values where a scaled mask could round wrong: 0, denormals, the float32 just below 6, 6,
  // and overflow-sized inputs.
  const edges = [0, 1e-45, 3e-39, 1.2e-38, 5.9999995, 6, 6.0000005, 3e38, -3e38, -1e-45];
  for (const [name, op, hi] of [
    ['relu-blocked', 'Relu', undefined],
    ['relu6-blocked', 'Clip', 6],
  ] as const) {
    const b = [1, 16, 2, 3];
    const bv = values(rng, size(b), -2, 8, [0, 6]).map((v, i) =>
      i % 2 === 0 ? edges[(i / 2) % edges.length]! : v,
    );
    const inits = hi === undefined ? [] : [floatConst('lo', [], [0]), floatConst('hi', [], [hi])];
    cases.push(
      oneNode(`activations/${name}`, seed++, {
        op,
        nodeInputs: hi === undefined ? ['x'] : ['x', 'lo', 'hi'],
        inputs: [input('x', b, bv)],
        initializers: inits,
        opset: 13,
        extra: { ruleSets: ALL_SETS, fd: false },
      }),
    );
  }
  return cases;
}
