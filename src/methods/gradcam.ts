// Grad-CAM: α_k = mean_ij ∂y/∂A_k,ij; L = Σ_k α_k A_k (ReLU and normalisation in the pipeline).

import { spatialMean, weightedChannelSum } from '../tensor/feature-maps.ts';
import { perLayer } from './per-layer.ts';
import type { Method } from './types.ts';

export const gradcam: Method = {
  id: 'gradcam',
  title: 'Grad-CAM',
  summary: 'channel weights = spatial mean of the gradients; the paper’s method',
  paper: {
    title: 'Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization',
    url: 'https://arxiv.org/abs/1610.02391',
    year: 2017,
  },
  output: 'cam',
  needs: { activations: true, gradients: true },
  // α = mean_ij G; L = Σ_k α_k A_k.
  camGraph: (e, a, g) => e.reduceSum(e.mul(e.reduceMean(g, [2, 3], true), a), [1], true),
  compute: (ctx) => perLayer(ctx, (a, g) => weightedChannelSum(a, spatialMean(g!))),
};
