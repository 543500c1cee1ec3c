// Score-CAM: each activation channel, upsampled (bilinear, align_corners) and min-max normalised,
// masks the input; the target scores of the masked inputs, softmaxed over channels, weight the
// channels: L = Σ_k softmax(s)_k A_k. The context builds and scores the masked inputs in the runtime,
// in batches (MethodContext.scoreMasked); identical channels (e.g. every dead, all-zero channel) are
// scored once.

import { mapDims, weightedChannelSum } from '../tensor/feature-maps.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';
import { perLayer } from './per-layer.ts';
import type { Method, MethodContext } from './types.ts';

/** For each channel of one row [c, h·w], the index of the first channel with the same values. */
function firstEqual(row: Float32Array, c: number, hw: number): Int32Array {
  const first = new Int32Array(c);
  const seen = new Map<string, number[]>();
  for (let k = 0; k < c; k++) {
    const map = row.subarray(k * hw, (k + 1) * hw);
    // Bucket by a cheap key (sum, first value), then compare the values themselves.
    let sum = 0;
    for (const v of map) sum += v;
    const key = `${sum}:${map[0]}`;
    const bucket = seen.get(key) ?? [];
    const same = bucket.find((j) => {
      const other = row.subarray(j * hw, (j + 1) * hw);
      return map.every((v, i) => Object.is(v, other[i]));
    });
    first[k] = same ?? k;
    if (same === undefined) seen.set(key, [...bucket, k]);
  }
  return first;
}

async function weights(ctx: MethodContext, a: Float32Tensor): Promise<Float64Array> {
  const { m, c, h, w } = mapDims(a);
  const hw = h * w;
  const out = new Float64Array(m * c);
  for (let r = 0; r < m; r++) {
    const row = a.data.subarray(r * c * hw, (r + 1) * c * hw);
    const first = firstEqual(row, c, hw);
    const distinct = [...first.keys()].filter((k) => first[k] === k);
    const maps = new Float32Array(distinct.length * hw);
    distinct.forEach((k, i) => {
      maps.set(row.subarray(k * hw, (k + 1) * hw), i * hw);
    });
    const scores = await ctx.scoreMasked(r, { dtype: 'float32', dims: [distinct.length, h, w], data: maps });
    const scoreOf = new Map(distinct.map((k, i) => [k, scores[i]!]));
    const s = Array.from(first, (j) => scoreOf.get(j)!);
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
