// Guided Backpropagation: ∂y/∂image with every ReLU-like node passing only positive gradient where
// its input is active (the `guided` rule set).

import type { Method } from './types.ts';

export const guidedBackprop: Method = {
  id: 'guided-backprop',
  title: 'Guided Backpropagation',
  summary: 'input gradient through guided ReLUs: fine pixel detail, not class-discriminative',
  paper: {
    title: 'Striving for Simplicity: The All Convolutional Net',
    url: 'https://arxiv.org/abs/1412.6806',
    year: 2015,
  },
  output: 'pixels',
  needs: { inputGradient: 'guided' },
  compute: async (ctx) => ({ kind: 'pixels', pixels: await ctx.inputGradient('guided') }),
};
