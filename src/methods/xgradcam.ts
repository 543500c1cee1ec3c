// XGrad-CAM: w_k = Σ_ij g_kij · A_kij / (Σ_ij A_k + ε); L = Σ_k w_k A_k.

import { mapDims, spatialSum, weightedChannelSum } from '../tensor/feature-maps.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';
import { perLayer } from './per-layer.ts';
import type { Method } from './types.ts';

function weights(a: Float32Tensor, g: Float32Tensor): Float64Array {
  const { m, c, h, w } = mapDims(a);
  const hw = h * w;
  const sumA = spatialSum(a);
  const out = new Float64Array(m * c);
  for (let i = 0; i < m * c; i++) {
    let s = 0;
    for (let p = i * hw; p < (i + 1) * hw; p++) s += g.data[p]! * a.data[p]!;
    out[i] = s / (sumA[i]! + 1e-7);
  }
  return out;
}

export const xgradcam: Method = {
  id: 'xgradcam',
  title: 'XGrad-CAM',
  summary: 'gradient × activation weights normalised by the activation sum (axiom-based)',
  paper: {
    title: 'Axiom-based Grad-CAM: Towards Accurate Visualization and Explanation of CNNs',
    url: 'https://arxiv.org/abs/2008.02312',
    year: 2020,
  },
  output: 'cam',
  needs: { activations: true, gradients: true },
  camGraph: (e, a, g) => {
    const w = e.div(
      e.reduceSum(e.mul(g, a), [2, 3], true),
      e.add(e.reduceSum(a, [2, 3], true), e.scalar(1e-7)),
    );
    return e.reduceSum(e.mul(w, a), [1], true);
  },
  compute: (ctx) => perLayer(ctx, (a, g) => weightedChannelSum(a, weights(a, g!))),
};
