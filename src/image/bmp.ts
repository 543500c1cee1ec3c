// A small BMP decoder, because libvips (and so sharp) has no BMP loader. Handles what cameras, Paint and
// PIL write: uncompressed 1/4/8-bit palette, 16-bit (5-5-5 or bit fields), 24-bit and 32-bit (alpha or
// padding byte dropped, as PIL's `.convert('RGB')` does), bottom-up or top-down. RLE and embedded
// JPEG/PNG are rejected. Every read is bounds-checked against the buffer; nothing trusts the header.

import { GradsightError } from '../errors.ts';
import { checkPixelBudget, DEFAULT_MAX_PIXELS } from './limits.ts';
import { type RgbImage, rgbImage } from './rgb-image.ts';

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

/** `maxPixels`: the pixel budget, checked against the header before anything is allocated. */
export function decodeBmp(bytes: Uint8Array, source = 'BMP data', maxPixels = DEFAULT_MAX_PIXELS): RgbImage {
  const bad = (why: string) =>
    new GradsightError('bad-image', `${source}: unsupported or corrupt BMP: ${why}`, {
      hint: 'Re-save the image as PNG or as an uncompressed 24-bit BMP.',
      details: { source, format: 'bmp' },
    });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (end: number, what: string) => {
    if (end > bytes.length) throw bad(`truncated (${what} needs ${end} bytes, file has ${bytes.length})`);
  };
  need(18, 'the headers');
  if (bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw bad('missing "BM" signature');
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  need(14 + headerSize, 'the info header');

  let width: number;
  let height: number;
  let bpp: number;
  let compression = BI_RGB;
  let colorsUsed = 0;
  let paletteEntrySize = 4;
  if (headerSize === 12) {
    // OS/2 BITMAPCOREHEADER: 16-bit sizes, 3-byte palette entries.
    width = view.getUint16(18, true);
    height = view.getInt16(20, true);
    bpp = view.getUint16(24, true);
    paletteEntrySize = 3;
  } else if (headerSize >= 40) {
    width = view.getInt32(18, true);
    height = view.getInt32(22, true);
    bpp = view.getUint16(28, true);
    compression = view.getUint32(30, true);
    colorsUsed = view.getUint32(46, true);
  } else {
    throw bad(`unknown info header size ${headerSize}`);
  }
  const topDown = height < 0;
  height = Math.abs(height);
  if (width <= 0 || height <= 0) throw bad(`invalid size ${width}x${height}`);
  checkPixelBudget(width, height, source, maxPixels);

  // Channel masks for 16/32-bit; BI_RGB defaults are 5-5-5 and 8-8-8(-x).
  let masks = bpp === 16 ? [0x7c00, 0x03e0, 0x001f] : [0xff0000, 0x00ff00, 0x0000ff];
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    if (bpp !== 16 && bpp !== 32) throw bad(`bit-field compression with ${bpp} bits per pixel`);
    // Masks follow a 40-byte header; V4/V5 headers hold them at the same offset.
    need(14 + 40 + 12, 'the colour masks');
    masks = [view.getUint32(54, true), view.getUint32(58, true), view.getUint32(62, true)];
  } else if (compression !== BI_RGB) {
    throw bad(`compression type ${compression} (RLE/JPEG/PNG inside BMP) is not supported`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw bad(`${bpp} bits per pixel`);

  let palette: Uint8Array | undefined;
  if (bpp <= 8) {
    const start = 14 + headerSize;
    // Writers often store fewer entries than 2^bpp; the palette ends where the pixel data begins.
    const room = Math.floor((dataOffset - start) / paletteEntrySize);
    const count = Math.min(colorsUsed > 0 ? colorsUsed : 1 << bpp, 1 << bpp, Math.max(room, 0));
    need(start + count * paletteEntrySize, 'the palette');
    // Indices past the palette's end read as black, as in PIL (its palette is zero-padded).
    palette = new Uint8Array(256 * 3);
    for (let i = 0; i < count; i++) {
      const p = start + i * paletteEntrySize;
      palette[i * 3] = bytes[p + 2]!;
      palette[i * 3 + 1] = bytes[p + 1]!;
      palette[i * 3 + 2] = bytes[p]!;
    }
  }

  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  // The last row need not carry its padding; some writers drop it.
  need(dataOffset + stride * (height - 1) + Math.ceil((bpp * width) / 8), 'the pixel data');
  const out = new Uint8Array(width * height * 3);
  const channel = masks.map(maskReader);
  for (let y = 0; y < height; y++) {
    const src = dataOffset + (topDown ? y : height - 1 - y) * stride;
    let o = y * width * 3;
    for (let x = 0; x < width; x++, o += 3) {
      if (palette) {
        const bit = x * bpp;
        const idx = (bytes[src + (bit >> 3)]! >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        out[o] = palette[idx * 3]!;
        out[o + 1] = palette[idx * 3 + 1]!;
        out[o + 2] = palette[idx * 3 + 2]!;
      } else if (bpp === 24) {
        const p = src + x * 3;
        out[o] = bytes[p + 2]!;
        out[o + 1] = bytes[p + 1]!;
        out[o + 2] = bytes[p]!;
      } else {
        const v = bpp === 16 ? view.getUint16(src + x * 2, true) : view.getUint32(src + x * 4, true);
        out[o] = channel[0]!(v);
        out[o + 1] = channel[1]!(v);
        out[o + 2] = channel[2]!(v);
      }
    }
  }
  return rgbImage(width, height, out);
}

/** Extracts a masked channel and scales it to 0-255 with floor division, as PIL unpacks BGR;15/16. */
function maskReader(mask: number): (v: number) => number {
  if (mask === 0) return () => 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  return (v) => Math.floor((((v & mask) >>> shift) * 255) / max);
}
