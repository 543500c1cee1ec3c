// Guided Grad-CAM: Guided Backprop ⊙ the bilinearly upsampled Grad-CAM map (broadcast over channels),
// as the paper defines it; the Grad-CAM map is the final normalised one, as pytorch-grad-cam uses.

import type { Method } from './types.ts';

export const guidedGradcam: Method = {
  id: 'guided-gradcam',
  title: 'Guided Grad-CAM',
  summary: 'Guided Backprop × upsampled Grad-CAM: high-resolution and class-discriminative',
  paper: {
    title: 'Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization',
    url: 'https://arxiv.org/abs/1610.02391',
    year: 2017,
  },
  output: 'pixels',
  needs: { inputGradient: 'guided', activations: true, gradients: true, finalMapOf: 'gradcam' },
  compute: async (ctx) => {
    const gb = await ctx.inputGradient('guided');
    const cam = await ctx.finalMap('gradcam');
    const [m, ch, h, w] = gb.dims as [number, number, number, number];
    if (cam.dims[1] !== h || cam.dims[2] !== w)
      throw new Error('Guided Grad-CAM needs the map at input resolution');
    const out = new Float32Array(gb.data.length);
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < ch; c++) {
        const base = (r * ch + c) * h * w;
        for (let p = 0; p < h * w; p++) out[base + p] = gb.data[base + p]! * cam.data[r * h * w + p]!;
      }
    }
    return { kind: 'pixels', pixels: { dtype: 'float32', dims: gb.dims, data: out } };
  },
};
