// CAM (Zhou et al.): for a network ending in global average pooling + a linear layer, the class map is
// Σ_k W[c, k] A_k with W read from the graph. With a general seed s (a row of target weights over the
// outputs) the channel weights are sᵀW, which is the same for a one-hot seed.

import { weightedChannelSum } from '../tensor/feature-maps.ts';
import { perLayer } from './per-layer.ts';
import type { Method } from './types.ts';

export const cam: Method = {
  id: 'cam',
  title: 'CAM',
  summary: 'class activation map from the weights of a global-average-pooling + linear head; no gradients',
  paper: {
    title: 'Learning Deep Features for Discriminative Localization',
    url: 'https://arxiv.org/abs/1512.04150',
    year: 2016,
  },
  output: 'cam',
  needs: { activations: true, gapHead: true },
  compute: (ctx) =>
    perLayer(
      ctx,
      (a, _g, layer) => {
        const { weights, classes, channels } = ctx.gapHeadWeights(layer);
        const rows = ctx.rows;
        const seeds = ctx.seeds.data; // read once: the context builds the seeds tensor per read
        const w = new Float64Array(rows * channels);
        for (let r = 0; r < rows; r++) {
          for (let k = 0; k < classes; k++) {
            const s = seeds[r * classes + k]!;
            if (s === 0) continue;
            for (let c = 0; c < channels; c++) w[r * channels + c]! += s * weights[k * channels + c]!;
          }
        }
        return weightedChannelSum(a, w);
      },
      false,
    ),
};
