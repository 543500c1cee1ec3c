// Deconvnet: ∂y/∂image with ReLU-like nodes passing relu(g), ignoring the forward activation.

import type { Method } from './types.ts';

export const deconvnet: Method = {
  id: 'deconvnet',
  title: 'Deconvnet',
  summary: 'input gradient where ReLUs pass only positive gradient, ignoring the forward pass',
  paper: {
    title: 'Visualizing and Understanding Convolutional Networks',
    url: 'https://arxiv.org/abs/1311.2901',
    year: 2014,
  },
  output: 'pixels',
  needs: { inputGradient: 'deconvnet' },
  compute: async (ctx) => ({ kind: 'pixels', pixels: await ctx.inputGradient('deconvnet') }),
};
