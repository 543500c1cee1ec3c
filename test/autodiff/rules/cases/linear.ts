// Cases for rules/linear.ts: Gemm in all four transA/transB combinations, with and without C (C of
// shape [N], [1, N], [M, 1], [M, N] or a scalar), random α/β; MatMul batched with broadcasting and with
// 1-D operands.

import type { GradCase } from '../../../helpers/grad-check.ts';
import { float } from '../../../helpers/onnx-builder.ts';
import { input, oneNode, Rng, size, values } from './gen.ts';

export function linearCases(): GradCase[] {
  const rng = new Rng(404);
  const cases: GradCase[] = [];
  let seed = 4000;
  for (const tA of [0, 1]) {
    for (const tB of [0, 1]) {
      for (const withC of [false, true]) {
        const [m, k, n] = [rng.int(2, 5), rng.int(2, 5), rng.int(2, 5)];
        const sa = tA ? [k, m] : [m, k];
        const sb = tB ? [n, k] : [k, n];
        const sc = rng.pick([[n], [1, n], [m, 1], [m, n], []]);
        const alpha = rng.pick([1, 0.5, 1.5]);
        const beta = rng.pick([1, 0.25, 2]);
        const ins = [input('a', sa, values(rng, size(sa))), input('b', sb, values(rng, size(sb)))];
        if (withC) ins.push(input('c', sc, values(rng, size(sc))));
        cases.push(
          oneNode(`linear/gemm-t${tA}${tB}${withC ? '-c' : ''}`, seed++, {
            op: 'Gemm',
            nodeInputs: withC ? ['a', 'b', 'c'] : ['a', 'b'],
            inputs: ins,
            attrs: { transA: tA, transB: tB, alpha: float(alpha), beta: float(beta) },
          }),
        );
      }
    }
  }
  const matmuls: [string, number[], number[]][] = [
    ['2d', [3, 4], [4, 5]],
    ['batched', [2, 3, 4], [2, 4, 3]],
    ['broadcast-b', [2, 3, 2, 4], [4, 3]],
    ['broadcast-both', [2, 1, 3, 4], [3, 4, 2]],
    ['broadcast-a', [3, 4], [2, 4, 2]],
    ['1d-a', [4], [2, 4, 3]],
    ['1d-b', [2, 3, 4], [4]],
    ['1d-both', [5], [5]],
    ['1d-a-2d', [3], [3, 4]],
  ];
  cases.push(
    oneNode('linear/matmul-const-b', seed++, {
      op: 'MatMul',
      nodeInputs: ['a', 'w'],
      inputs: [input('a', [2, 3, 4], values(rng, 24))],
      initializers: [{ name: 'w', dims: [4, 3], values: values(rng, 12) }],
    }),
  );
  for (const [name, sa, sb] of matmuls) {
    cases.push(
      oneNode(`linear/matmul-${name}`, seed++, {
        op: 'MatMul',
        nodeInputs: ['a', 'b'],
        inputs: [input('a', sa, values(rng, size(sa))), input('b', sb, values(rng, size(sb)))],
      }),
    );
  }
  return cases;
}
