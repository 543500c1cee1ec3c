// Cases for rules/reduce.ts: ReduceMean/ReduceSum over random axes with keepdims 0/1 (axes as an
// attribute and as an input, reduce-all), Softmax/LogSoftmax with opset 11 2-D coercion and opset 13
// single axis, BatchNormalization (inference) and LayerNormalization.

import type { GradCase } from '../../../helpers/grad-check.ts';
import { float } from '../../../helpers/onnx-builder.ts';
import { floatConst, input, intConst, oneNode, Rng, size, values } from './gen.ts';

export function reduceCases(): GradCase[] {
  const rng = new Rng(606);
  const cases: GradCase[] = [];
  let seed = 6000;
  const randShape = () => Array.from({ length: rng.int(2, 4) }, () => rng.int(2, 4));
  for (const op of ['ReduceMean', 'ReduceSum']) {
    for (let k = 0; k < 5; k++) {
      const shape = randShape();
      const rank = shape.length;
      const axes = rng
        .shuffle([...Array(rank).keys()])
        .slice(0, rng.int(1, rank))
        .map((a) => (rng.bool() ? a - rank : a));
      const keepdims = rng.int(0, 1);
      // ReduceSum takes axes as an input from opset 13, ReduceMean from 18.
      const opset = rng.pick([13, 18]);
      const asInput = op === 'ReduceSum' || opset >= 18;
      cases.push(
        oneNode(`reduce/${op.toLowerCase()}-${k}`, seed++, {
          op,
          opset,
          nodeInputs: asInput ? ['x', 'axes'] : ['x'],
          inputs: [input('x', shape, values(rng, size(shape)))],
          initializers: asInput ? [intConst('axes', axes)] : [],
          attrs: asInput ? { keepdims } : { keepdims, axes },
        }),
      );
    }
    cases.push(
      oneNode(`reduce/${op.toLowerCase()}-all`, seed++, {
        op,
        opset: 13,
        nodeInputs: ['x'],
        inputs: [input('x', [2, 3, 2], values(rng, 12))],
        attrs: { keepdims: 0 },
      }),
    );
  }
  cases.push(
    oneNode('reduce/reducesum-noop-empty', seed++, {
      op: 'ReduceSum',
      opset: 13,
      nodeInputs: ['x'],
      inputs: [input('x', [2, 3], values(rng, 6))],
      attrs: { noop_with_empty_axes: 1 },
    }),
    oneNode('reduce/reducemean-op18-all', seed++, {
      op: 'ReduceMean',
      opset: 18,
      nodeInputs: ['x'],
      inputs: [input('x', [2, 3, 2], values(rng, 12))],
      attrs: { keepdims: 1 },
    }),
  );
  for (const op of ['Softmax', 'LogSoftmax']) {
    for (const opset of [11, 13]) {
      for (let k = 0; k < 2; k++) {
        const shape = [rng.int(1, 3), rng.int(2, 4), rng.int(2, 3), rng.int(2, 3)].slice(0, rng.int(2, 4));
        const axis = rng.int(-shape.length, shape.length - 1);
        cases.push(
          oneNode(`reduce/${op.toLowerCase()}-op${opset}-${k}`, seed++, {
            op,
            opset,
            nodeInputs: ['x'],
            inputs: [input('x', shape, values(rng, size(shape), -2, 2))],
            attrs: { axis },
          }),
        );
      }
    }
  }
  for (let k = 0; k < 3; k++) {
    const shape = [rng.int(1, 2), 3, ...Array.from({ length: k }, () => rng.int(2, 3))];
    const c = 3;
    cases.push(
      oneNode(`reduce/batchnorm-${k}`, seed++, {
        op: 'BatchNormalization',
        opset: 15,
        nodeInputs: ['x', 'scale', 'bias', 'mean', 'var'],
        inputs: [input('x', shape, values(rng, size(shape)))],
        initializers: [
          floatConst('scale', [c], values(rng, c, -2, 2)),
          floatConst('bias', [c], values(rng, c)),
          floatConst('mean', [c], values(rng, c)),
          floatConst('var', [c], values(rng, c, 0.2, 2)),
        ],
        attrs: { epsilon: float(rng.pick([1e-5, 1e-3])) },
      }),
    );
  }
  for (let k = 0; k < 4; k++) {
    const shape = randShape();
    const axis = rng.int(-shape.length + 1, shape.length - 1);
    const norm = shape.slice(axis < 0 ? axis + shape.length : axis);
    cases.push(
      oneNode(`reduce/layernorm-${k}`, seed++, {
        op: 'LayerNormalization',
        nodeInputs: ['x', 'scale', 'bias'],
        inputs: [input('x', shape, values(rng, size(shape), -2, 2))],
        initializers: [
          floatConst('scale', norm, values(rng, size(norm), -2, 2)),
          floatConst('bias', norm, values(rng, size(norm))),
        ],
        attrs: { axis, epsilon: float(1e-5) },
      }),
    );
  }
  return cases;
}
