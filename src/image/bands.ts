// An image in the channel form a model reads: 1 band (L), 3 (RGB) or 4 (RGBA), 8-bit, interleaved HWC.
// Conversions follow Pillow, since grayscale and RGBA models are trained on `Image.convert('L')` and
// `Image.convert('RGBA')` pixels: L is ITU-R 601-2 luma with Pillow's fixed-point rounding, RGBA keeps
// the file's alpha (255 when it has none), and RGBA is resized premultiplied as Pillow does.

import { type Bands, resizeBands, resizeRgba } from './resize.ts';
import { type RgbImage, rgbImage } from './rgb-image.ts';

export type { Bands } from './resize.ts';

/** The channel counts an image input can have. */
export type ChannelCount = 1 | 3 | 4;
export const CHANNEL_COUNTS: readonly ChannelCount[] = [1, 3, 4];

/**
 * Pillow's `convert('L')`: `L = (R·19595 + G·38470 + B·7471 + 0x8000) >> 16` (libImaging/Convert.c,
 * L24), i.e. 0.299 R + 0.587 G + 0.114 B rounded half up. Grey pixels (R = G = B) map to themselves.
 */
export function luma(img: RgbImage): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  const d = img.data;
  for (let i = 0; i < n; i++) {
    out[i] = (d[3 * i]! * 19595 + d[3 * i + 1]! * 38470 + d[3 * i + 2]! * 7471 + 0x8000) >>> 16;
  }
  return out;
}

/** The image as 1 (L), 3 (RGB, shared, not copied) or 4 (RGBA) bands at its own size. */
export function toBands(img: RgbImage, channels: ChannelCount): Bands {
  const { width, height } = img;
  if (channels === 3) return { width, height, bands: 3, data: img.data };
  if (channels === 1) return { width, height, bands: 1, data: luma(img) };
  const n = width * height;
  const data = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    data[4 * i] = img.data[3 * i]!;
    data[4 * i + 1] = img.data[3 * i + 1]!;
    data[4 * i + 2] = img.data[3 * i + 2]!;
    data[4 * i + 3] = img.alpha ? img.alpha[i]! : 255;
  }
  return { width, height, bands: 4, data };
}

/** Pillow-exact bilinear resize of 1, 3 or 4 bands (4 = RGBA, premultiplied as Pillow does). */
export function resizeToBands(b: Bands, width: number, height: number): Bands {
  return b.bands === 4 ? resizeRgba(b, width, height) : resizeBands(b, width, height);
}

/**
 * Bands drawn as RGB for display: L repeated on R, G and B; RGBA's colour without its alpha (the
 * alpha plane is kept on the result, not composited, so nothing is hidden or invented).
 */
export function bandsToRgb(b: Bands): RgbImage {
  if (b.bands === 3) return rgbImage(b.width, b.height, b.data);
  const n = b.width * b.height;
  const out = new Uint8Array(n * 3);
  if (b.bands === 1) {
    for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = b.data[i]!;
    return rgbImage(b.width, b.height, out);
  }
  if (b.bands !== 4) throw new RangeError(`cannot draw ${b.bands} bands as RGB (1, 3 or 4 expected)`);
  const alpha = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[3 * i] = b.data[4 * i]!;
    out[3 * i + 1] = b.data[4 * i + 1]!;
    out[3 * i + 2] = b.data[4 * i + 2]!;
    alpha[i] = b.data[4 * i + 3]!;
  }
  return rgbImage(b.width, b.height, out, alpha);
}
