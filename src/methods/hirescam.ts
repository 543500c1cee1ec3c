// HiResCAM: L = Σ_k (∂y/∂A_k ⊙ A_k), no spatial averaging of the gradient.

import { channelSumOf } from '../tensor/feature-maps.ts';
import { perLayer } from './per-layer.ts';
import type { Method } from './types.ts';

export const hirescam: Method = {
  id: 'hirescam',
  title: 'HiResCAM',
  summary: 'element-wise gradient × activation summed over channels; faithful to the model',
  paper: {
    title: 'Use HiResCAM instead of Grad-CAM for faithful explanations of convolutional neural networks',
    url: 'https://arxiv.org/abs/2011.08891',
    year: 2020,
  },
  output: 'cam',
  needs: { activations: true, gradients: true },
  camGraph: (e, a, g) => e.reduceSum(e.mul(g, a), [1], true),
  compute: (ctx) => perLayer(ctx, (a, g) => channelSumOf(a, g!, (x, y) => x * y)),
};
