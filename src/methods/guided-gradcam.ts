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
      for (let c = 0; c < ch; c++) scaleRow(out, gb.data, cam.data, (r * ch + c) * h * w, r * h * w, h * w);
    }
    return { kind: 'pixels', pixels: { dtype: 'float32', dims: gb.dims, data: out } };
  },
};

/**
 * out[o + p] = gb[o + p] · cam[k + p] for p < n: one channel of one image times its map. A small
 * function of arrays and numbers, so V8 compiles the loop once (inside compute's async closure it ran
 * interpreted or on-stack-replaced: ~0.7 ms for a 224×224×3 image).
 */
function scaleRow(
  out: Float32Array,
  gb: Float32Array,
  cam: Float32Array,
  o: number,
  k: number,
  n: number,
): void {
  for (let p = 0; p < n; p++) out[o + p] = gb[o + p]! * cam[k + p]!;
}
