// Decodes a class-index mask PNG to a ClassMask. gradsight's image decoder (sharp) expands palette and
// greyscale PNGs to RGB, so the index is read back: a greyscale PNG's grey value is the index; a palette
// (or RGB) PNG's colour is looked up in the standard PASCAL VOC palette (VOC's SegmentationClass PNGs
// use it), and a colour outside it is an error, never a guess.

import type { Metadata } from 'sharp';
import { decodeImage } from '../../image/decode-node.ts';
import sharp from '../../image/sharp-node.ts';
import { readFileTyped } from '../../io/read-file-node.ts';
import { annotationInvalid } from './common.ts';
import type { ClassMask } from './types.ts';

export const VOID = 255;

/** The PASCAL VOC colour map: index i's colour spreads i's bits over R, G, B from the top bit down. */
export function vocPalette(): Uint8Array {
  const p = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    let [c, r, g, b] = [i, 0, 0, 0];
    for (let j = 7; j >= 0; j--) {
      r |= (c & 1) << j;
      g |= ((c >> 1) & 1) << j;
      b |= ((c >> 2) & 1) << j;
      c >>= 3;
    }
    p.set([r, g, b], 3 * i);
  }
  return p;
}

let colourToIndex: Map<number, number> | undefined;

function paletteLookup(): Map<number, number> {
  if (colourToIndex) return colourToIndex;
  const p = vocPalette();
  colourToIndex = new Map();
  for (let i = 0; i < 256; i++)
    colourToIndex.set((p[3 * i]! << 16) | (p[3 * i + 1]! << 8) | p[3 * i + 2]!, i);
  return colourToIndex;
}

export interface MaskSource {
  readonly path: string;
  /** Index -> class name (index 0 'background'); a pixel index beyond it (other than void) is an error. */
  readonly classes: readonly string[];
  /** The image's size when known: the mask must match it. */
  readonly size?: { readonly width: number; readonly height: number };
}

export async function decodeMaskFile(src: MaskSource): Promise<ClassMask> {
  const { path, classes } = src;
  const bytes = await readFileTyped(path, 'mask');
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (e) {
    throw annotationInvalid(path, 'is not a readable mask image', 'A mask is a PNG of class indices.', e);
  }
  if (meta.depth !== 'uchar') {
    throw annotationInvalid(path, `has ${meta.depth} samples; a class mask has 8-bit (or fewer) samples`);
  }
  const rgb = await decodeImage(bytes, path);
  const n = rgb.width * rgb.height;
  const data = new Uint8Array(n);
  if (meta.isPalette || (meta.channels ?? 3) >= 3) {
    const lookup = paletteLookup();
    for (let i = 0; i < n; i++) {
      const key = (rgb.data[3 * i]! << 16) | (rgb.data[3 * i + 1]! << 8) | rgb.data[3 * i + 2]!;
      const index = lookup.get(key);
      if (index === undefined) {
        const [x, y] = [i % rgb.width, Math.floor(i / rgb.width)];
        const colour = `(${rgb.data[3 * i]}, ${rgb.data[3 * i + 1]}, ${rgb.data[3 * i + 2]})`;
        throw annotationInvalid(
          path,
          `pixel (${x}, ${y}) has the colour ${colour}, which is not in the PASCAL VOC palette`,
          'A colour mask must use the VOC palette; otherwise save the mask as an 8-bit greyscale PNG of class indices.',
        );
      }
      data[i] = index;
    }
  } else {
    // Greyscale below 8 bits is scaled to 0..255 by the decoder: undo it (a 1-bit mask is 0/1).
    const bits = meta.bitsPerSample ?? 8;
    const scale = bits < 8 ? (2 ** bits - 1) / 255 : 1;
    for (let i = 0; i < n; i++) data[i] = Math.round(rgb.data[3 * i]! * scale);
  }
  if (src.size && (src.size.width !== rgb.width || src.size.height !== rgb.height)) {
    throw annotationInvalid(
      path,
      `is ${rgb.width}×${rgb.height} but its image is ${src.size.width}×${src.size.height}`,
      'A mask has the size of its image.',
    );
  }
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    if (v !== VOID && v >= classes.length) {
      const [x, y] = [i % rgb.width, Math.floor(i / rgb.width)];
      throw annotationInvalid(
        path,
        `pixel (${x}, ${y}) has class index ${v}, but the mask has ${classes.length} classes (0..${classes.length - 1}, ${VOID} = void)`,
      );
    }
  }
  return { width: rgb.width, height: rgb.height, data, classes, void: VOID };
}
