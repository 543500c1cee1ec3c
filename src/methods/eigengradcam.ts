// Eigen-Grad-CAM: first principal component of ∂y/∂A ⊙ A (class-discriminative Eigen-CAM).

import { firstComponentProjection, zipMaps } from '../tensor/feature-maps.ts';
import { lapackSign } from './eigen-sign.ts';
import { perLayer } from './per-layer.ts';
import type { Method } from './types.ts';

export const eigengradcam: Method = {
  id: 'eigengradcam',
  title: 'Eigen-Grad-CAM',
  summary: 'first principal component of gradient × activation; class-discriminative Eigen-CAM',
  paper: {
    title: 'pytorch-grad-cam EigenGradCAM (after Eigen-CAM)',
    url: 'https://github.com/jacobgil/pytorch-grad-cam',
    year: 2021,
  },
  output: 'cam',
  needs: { activations: true, gradients: true },
  compute: (ctx) =>
    perLayer(ctx, (a, g) =>
      firstComponentProjection(
        zipMaps(a, g!, (x, y) => x * y),
        lapackSign,
      ),
    ),
};
