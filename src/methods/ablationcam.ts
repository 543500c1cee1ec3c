// Ablation-CAM: the relative drop of the target score when one channel of the layer is ablated
// weights that channel: w_k = (y − y_k)/y; L = Σ_k w_k A_k. Ablation sets the channel to 0 when the
// layer's minimum is 0, else to min − 1e7 (pytorch-grad-cam's AblationLayer). The rest of the
// network (the tail model) runs on batches of ablated activations, as large as the memory budget
// allows (MethodContext.scoreActivations); channels that are already all zero are skipped (ablating
// them changes nothing, so their weight is 0).

import { mapDims, weightedChannelSum } from '../tensor/feature-maps.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';
import { perLayer } from './per-layer.ts';
import type { Method, MethodContext } from './types.ts';

async function weights(ctx: MethodContext, a: Float32Tensor, layer: string): Promise<Float64Array> {
  const { m, c, h, w } = mapDims(a);
  const hw = h * w;
  const original = await ctx.scores();
  const out = new Float64Array(m * c);
  for (let r = 0; r < m; r++) {
    const row = a.data.subarray(r * c * hw, (r + 1) * c * hw);
    let min = Number.POSITIVE_INFINITY;
    for (const v of row) min = Math.min(min, v);
    const value = min === 0 ? 0 : Math.fround(min - 1e7);
    const live: number[] = [];
    for (let k = 0; k < c; k++) {
      if (value !== 0 || row.subarray(k * hw, (k + 1) * hw).some((v) => v !== 0)) live.push(k);
    }
    const scores = await ctx.scoreActivations(r, layer, live.length, (i, buf) => {
      buf.set(row);
      buf.fill(value, live[i]! * hw, (live[i]! + 1) * hw);
    });
    const y = Math.fround(original[r]!);
    live.forEach((k, i) => {
      out[r * c + k] = Math.fround(Math.fround(y - Math.fround(scores[i]!)) / y);
    });
  }
  return out;
}

export const ablationcam: Method = {
  id: 'ablationcam',
  title: 'Ablation-CAM',
  summary: 'channel weights from the score drop when each channel is removed; gradient-free',
  paper: {
    title: 'Ablation-CAM: Visual Explanations for Deep Convolutional Network via Gradient-free Localization',
    url: 'https://openaccess.thecvf.com/content_WACV_2020/papers/Desai_Ablation-CAM_Visual_Explanations_for_Deep_Convolutional_Network_via_Gradient-free_Localization_WACV_2020_paper.pdf',
    year: 2020,
  },
  output: 'cam',
  needs: { activations: true, forwardBatches: true },
  compute: (ctx) =>
    perLayer(ctx, async (a, _g, layer) => weightedChannelSum(a, await weights(ctx, a, layer)), false),
};
