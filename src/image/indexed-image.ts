// An 8-bit palette image: one index per pixel into at most 256 RGB colours. A colour-mapped map is one
// exactly (its pixels are LUT indices), so a heatmap is kept and written in this form: a third of the
// bytes of its RGB expansion, and a PNG of it lossless with the same decoded pixels.

import { type RgbImage, rgbImage } from './rgb-image.ts';

export interface IndexedImage {
  readonly width: number;
  readonly height: number;
  /** One palette index per pixel, row-major: `indices.length === width * height`. */
  readonly indices: Uint8Array;
  /** RGB colours, 3 bytes each; every index is below `palette.length / 3` (at most 256 colours). */
  readonly palette: Uint8Array;
}

/** The RGB pixels of an indexed image. */
export function indexedToRgb(img: IndexedImage): RgbImage {
  const { indices, palette } = img;
  const out = new Uint8Array(indices.length * 3);
  for (let i = 0, o = 0; i < indices.length; i++, o += 3) {
    const k = indices[i]! * 3;
    out[o] = palette[k]!;
    out[o + 1] = palette[k + 1]!;
    out[o + 2] = palette[k + 2]!;
  }
  return rgbImage(img.width, img.height, out);
}
