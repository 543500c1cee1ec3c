// LayerCAM: L = Σ_k ReLU(∂y/∂A_k) ⊙ A_k, spatially weighted; good at shallow layers.

import { channelSumOf } from '../tensor/feature-maps.ts';
import { perLayer } from './per-layer.ts';
import type { Method } from './types.ts';

export const layercam: Method = {
  id: 'layercam',
  title: 'LayerCAM',
  summary: 'positive gradients weight each activation in place; fine detail from early layers',
  paper: {
    title: 'LayerCAM: Exploring Hierarchical Class Activation Maps for Localization',
    url: 'https://ieeexplore.ieee.org/document/9462463',
    year: 2021,
  },
  output: 'cam',
  needs: { activations: true, gradients: true },
  camGraph: (e, a, g) => e.reduceSum(e.mul(e.relu(g), a), [1], true),
  compute: (ctx) => perLayer(ctx, (a, g) => channelSumOf(a, g!, (x, y) => Math.max(y, 0) * x)),
};
