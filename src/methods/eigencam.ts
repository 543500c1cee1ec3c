// Eigen-CAM: the activations' first principal component, L = (A − mean) · v₁ (no gradients).

import { firstComponentProjection } from '../tensor/feature-maps.ts';
import { lapackSign } from './eigen-sign.ts';
import { perLayer } from './per-layer.ts';
import type { Method } from './types.ts';

export const eigencam: Method = {
  id: 'eigencam',
  title: 'Eigen-CAM',
  summary: 'first principal component of the activations; class-agnostic, no gradients',
  paper: {
    title: 'Eigen-CAM: Class Activation Map using Principal Components',
    url: 'https://arxiv.org/abs/2008.00299',
    year: 2020,
  },
  output: 'cam',
  needs: { activations: true },
  compute: (ctx) => perLayer(ctx, (a) => firstComponentProjection(a, lapackSign), false),
};
