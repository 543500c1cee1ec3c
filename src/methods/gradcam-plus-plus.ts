// Grad-CAM++: α_kij = g²/(2g² + Σ_ij A_k · g³ + ε) where g ≠ 0; w_k = Σ_ij ReLU(g) α_kij; L = Σ_k w_k A_k.

import { type MapDims, mapDims, spatialSum, weightedChannelSum } from '../tensor/feature-maps.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';
import { perLayer } from './per-layer.ts';
import type { Method } from './types.ts';

function weights(a: Float32Tensor, g: Float32Tensor): Float64Array {
  const { m, c, h, w }: MapDims = mapDims(a);
  const hw = h * w;
  const sumA = spatialSum(a);
  const out = new Float64Array(m * c);
  for (let i = 0; i < m * c; i++) {
    let s = 0;
    for (let p = i * hw; p < (i + 1) * hw; p++) {
      const gv = g.data[p]!;
      if (gv === 0) continue;
      const g2 = gv * gv;
      const aij = g2 / (2 * g2 + sumA[i]! * g2 * gv + 1e-6);
      s += Math.max(gv, 0) * aij;
    }
    out[i] = s;
  }
  return out;
}

export const gradcamPlusPlus: Method = {
  id: 'gradcam++',
  title: 'Grad-CAM++',
  summary: 'higher-order weighting of positive gradients; better with several object instances',
  paper: {
    title: 'Grad-CAM++: Improved Visual Explanations for Deep Convolutional Networks',
    url: 'https://arxiv.org/abs/1710.11063',
    year: 2018,
  },
  output: 'cam',
  needs: { activations: true, gradients: true },
  compute: (ctx) => perLayer(ctx, (a, g) => weightedChannelSum(a, weights(a, g!))),
};
