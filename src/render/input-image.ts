// The inverse preprocessing: a model input tensor turned back into pixels, to draw maps on when no
// decoded image exists (`explain --input x.npy`). Undoes `(pixel/255 − mean)/std` per channel and the
// channel order; a grayscale input is shown grey, a 4-channel input without its alpha.

import type { PreprocessConfig } from '../image/preprocess.ts';
import { type RgbImage, rgbImage } from '../image/rgb-image.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';

/** Row `row` of an image batch (NCHW or NHWC as `preprocess.layout` says) as an RGB image. */
export function tensorToImage(
  t: Float32Tensor,
  row: number,
  preprocess: Pick<PreprocessConfig, 'layout' | 'mean' | 'std' | 'scale' | 'channelOrder'>,
): RgbImage {
  const nchw = preprocess.layout === 'NCHW';
  const [, d1, d2, d3] = t.dims as [number, number, number, number];
  const [channels, h, w] = nchw ? [d1, d2, d3] : [d3, d1, d2];
  const plane = h * w;
  const base = row * plane * channels;
  const scale = preprocess.scale === '0-1' ? 255 : 1;
  const data = new Uint8Array(plane * 3);
  for (let c = 0; c < Math.min(channels, 3); c++) {
    // mean/std are in RGB(A) order; model channel c holds band 2 − c under BGR.
    const band = preprocess.channelOrder === 'BGR' && channels >= 3 ? 2 - c : c;
    const mean = preprocess.mean[band] ?? 0;
    const std = preprocess.std[band] ?? 1;
    for (let k = 0; k < plane; k++) {
      const v = nchw ? t.data[base + c * plane + k]! : t.data[base + k * channels + c]!;
      const byte = Math.max(0, Math.min(255, Math.round((v * std + mean) * scale)));
      if (channels === 1) data.fill(byte, k * 3, k * 3 + 3);
      else data[k * 3 + band] = byte;
    }
  }
  return rgbImage(w, h, data);
}
