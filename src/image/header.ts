// An image file's size (and whether it carries alpha) from its header alone, before any pixel is
// decoded: the browser decoder checks the pixel budget with it (a decompression bomb is refused before
// createImageBitmap allocates it), and knows whether to keep an alpha plane, as sharp does in Node.

import type { ImageFormat } from './sniff.ts';

export interface ImageHeader {
  readonly width: number;
  readonly height: number;
  /** The file has an alpha channel or a transparent colour (undefined: the header does not say). */
  readonly alpha: boolean | undefined;
}

const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32be = (b: Uint8Array, i: number) =>
  ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const tag = (b: Uint8Array, i: number) => String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);

/** The header of a PNG, JPEG, GIF or WebP file; undefined for other formats or a header cut short. */
export function readImageHeader(b: Uint8Array, format: ImageFormat | undefined): ImageHeader | undefined {
  if (format === 'png') return png(b);
  if (format === 'jpeg') return jpeg(b);
  if (format === 'gif' && b.length >= 10)
    return { width: u16le(b, 6), height: u16le(b, 8), alpha: gifAlpha(b) };
  if (format === 'webp') return webp(b);
  return undefined;
}

function png(b: Uint8Array): ImageHeader | undefined {
  if (b.length < 33 || tag(b, 12) !== 'IHDR') return undefined;
  const colorType = b[25]!;
  // Alpha: grey+alpha (4), RGBA (6), or a tRNS chunk (before IDAT) giving a transparent colour.
  let alpha = colorType === 4 || colorType === 6;
  for (let i = 33; !alpha && i + 8 <= b.length; ) {
    const length = u32be(b, i);
    const type = tag(b, i + 4);
    if (type === 'tRNS') alpha = true;
    if (type === 'IDAT' || type === 'IEND') break;
    i += 12 + length;
  }
  return { width: u32be(b, 16), height: u32be(b, 20), alpha };
}

function jpeg(b: Uint8Array): ImageHeader | undefined {
  // Markers until a start-of-frame (SOF0–SOF15 but DHT C4, JPG C8, DAC CC): its height and width.
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const m = b[i + 1]!;
    if (m === 0xff) {
      i++;
      continue;
    }
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { width: u16be(b, i + 7), height: u16be(b, i + 5), alpha: false };
    }
    i += 2 + u16be(b, i + 2);
  }
  return undefined;
}

function gifAlpha(b: Uint8Array): boolean | undefined {
  // A graphic control extension (21 F9) with its transparency flag, looked for in the first bytes.
  for (let i = 13; i + 3 < Math.min(b.length, 1 << 16); i++) {
    if (b[i] === 0x21 && b[i + 1] === 0xf9 && b[i + 2] === 4) return (b[i + 3]! & 1) === 1 ? true : undefined;
  }
  return undefined;
}

function webp(b: Uint8Array): ImageHeader | undefined {
  if (b.length < 30) return undefined;
  const chunk = tag(b, 12);
  if (chunk === 'VP8X') {
    return { width: 1 + u24le(b, 24), height: 1 + u24le(b, 27), alpha: (b[20]! & 0x10) !== 0 };
  }
  if (chunk === 'VP8L') {
    const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
    return {
      width: 1 + (bits & 0x3fff),
      height: 1 + ((bits >>> 14) & 0x3fff),
      alpha: ((bits >>> 28) & 1) === 1,
    };
  }
  if (chunk === 'VP8 ') return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff, alpha: false };
  return undefined;
}
