// Score-CAM: each activation channel, upsampled (bilinear, align_corners) and min-max normalised,
// masks the input; the target scores of the masked inputs, softmaxed over channels, weight the
// channels: L = Σ_k softmax(s)_k A_k. The masked forwards run in batches; identical masks (e.g. the
// all-zero mask of every dead channel) are scored once.

import { resizeBilinearAlignCorners } from '../image/upsample.ts';
import { mapDims, weightedChannelSum } from '../tensor/feature-maps.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';
import { perLayer } from './per-layer.ts';
import type { Method, MethodContext } from './types.ts';

async function weights(ctx: MethodContext, a: Float32Tensor): Promise<Float64Array> {
  const { m, c, h, w } = mapDims(a);
  const [height, width] = ctx.input.dims.slice(-2) as [number, number];
  const channels = ctx.input.dims[1]!;
  const plane = height * width;
  const out = new Float64Array(m * c);
  for (let r = 0; r < m; r++) {
    // Normalised upsampled masks; a constant channel gives the zero mask (0 / (0 + 1e-8)).
    const masks: (Float32Array | null)[] = [];
    for (let k = 0; k < c; k++) {
      const src = a.data.subarray((r * c + k) * h * w, (r * c + k + 1) * h * w);
      const up = resizeBilinearAlignCorners({ width: w, height: h, data: src }, width, height).data;
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const v of up) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      if (hi === lo) masks.push(null);
      else {
        const d = Math.fround(Math.fround(hi - lo) + 1e-8);
        masks.push(up.map((v) => Math.fround(Math.fround(v - lo) / d)));
      }
    }
    const distinct = masks.map((mk, k) => (mk ? k : -1)).filter((k) => k >= 0);
    const hasZero = masks.some((mk) => mk === null);
    const x = ctx.input.data.subarray(r * channels * plane, (r + 1) * channels * plane);
    const variants = [...distinct, ...(hasZero ? [-1] : [])];
    const scores = await ctx.scoreInputs(r, variants.length, (i, buf) => {
      const mk = masks[variants[i]!];
      if (!mk) {
        buf.fill(0);
        return;
      }
      for (let ch = 0; ch < channels; ch++) {
        for (let p = 0; p < plane; p++) buf[ch * plane + p] = x[ch * plane + p]! * mk[p]!;
      }
    });
    const zeroScore = hasZero ? scores[variants.length - 1]! : 0;
    const s = masks.map((mk, k) => (mk ? scores[distinct.indexOf(k)]! : zeroScore));
    const max = Math.max(...s);
    const e = s.map((v) => Math.exp(v - max));
    const sum = e.reduce((p, q) => p + q, 0);
    for (let k = 0; k < c; k++) out[r * c + k] = e[k]! / sum;
  }
  return out;
}

export const scorecam: Method = {
  id: 'scorecam',
  title: 'Score-CAM',
  summary: 'channel weights from the target score of the input masked by each channel; gradient-free',
  paper: {
    title: 'Score-CAM: Score-Weighted Visual Explanations for Convolutional Neural Networks',
    url: 'https://arxiv.org/abs/1910.01279',
    year: 2020,
  },
  output: 'cam',
  needs: { activations: true, forwardBatches: true },
  compute: (ctx) => perLayer(ctx, async (a) => weightedChannelSum(a, await weights(ctx, a)), false),
};
