// Element-wise Grad-CAM: L = Σ_k ReLU(∂y/∂A_k ⊙ A_k).

import { channelSumOf } from '../tensor/feature-maps.ts';
import { perLayer } from './per-layer.ts';
import type { Method } from './types.ts';

export const gradcamElementwise: Method = {
  id: 'gradcam-elementwise',
  title: 'Element-wise Grad-CAM',
  summary: 'like HiResCAM with a ReLU on each gradient × activation term before the channel sum',
  paper: {
    title: 'pytorch-grad-cam GradCAMElementWise (after HiResCAM)',
    url: 'https://github.com/jacobgil/pytorch-grad-cam',
    year: 2022,
  },
  output: 'cam',
  needs: { activations: true, gradients: true },
  camGraph: (e, a, g) => e.reduceSum(e.relu(e.mul(g, a)), [1], true),
  compute: (ctx) => perLayer(ctx, (a, g) => channelSumOf(a, g!, (x, y) => Math.max(x * y, 0))),
};
