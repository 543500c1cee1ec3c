// Cases for rules/resize.ts: linear with align_corners, half_pixel and pytorch_half_pixel, nearest
// (asymmetric/floor as PyTorch 'nearest'), up- and down-sampling to random sizes given as `sizes`.

import type { GradCase } from '../../../helpers/grad-check.ts';
import type { AttrValue } from '../../../helpers/onnx-builder.ts';
import { input, intConst, oneNode, Rng, size, values } from './gen.ts';

export function resizeCases(): GradCase[] {
  const rng = new Rng(707);
  const cases: GradCase[] = [];
  let seed = 7000;
  const modes: [string, Record<string, AttrValue>][] = [
    ['linear-align-corners', { mode: 'linear', coordinate_transformation_mode: 'align_corners' }],
    ['linear-half-pixel', { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }],
    ['linear-pytorch-half-pixel', { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }],
    [
      'nearest-asymmetric',
      { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
    ],
  ];
  for (const [name, attrs] of modes) {
    for (let k = 0; k < 3; k++) {
      const shape = [1, rng.int(1, 2), rng.int(2, 5), rng.int(2, 5)];
      const out = k === 0 ? [shape[2]! * 2, shape[3]! * 2] : [rng.int(2, 9), rng.int(2, 9)];
      cases.push(
        oneNode(`resize/${name}-${k}`, seed++, {
          op: 'Resize',
          opset: 13,
          nodeInputs: ['x', '', '', 'sizes'],
          inputs: [input('x', shape, values(rng, size(shape)))],
          initializers: [intConst('sizes', [shape[0]!, shape[1]!, out[0]!, out[1]!])],
          attrs,
        }),
      );
    }
  }
  cases.push(
    oneNode('resize/linear-half-pixel-scales', seed++, {
      op: 'Resize',
      opset: 13,
      nodeInputs: ['x', '', 'scales'],
      inputs: [input('x', [1, 2, 3, 4], values(rng, 24))],
      initializers: [{ name: 'scales', dims: [4], values: [1, 1, 2, 2] }],
      attrs: { mode: 'linear' },
    }),
  );
  return cases;
}
