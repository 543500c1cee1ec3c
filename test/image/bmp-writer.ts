// A test-only BMP writer, written straight from the format spec, to produce the variants decodeBmp
// must read (bit depths, header kinds, row orders). Kept independent of src/image/bmp.ts.

export interface BmpOptions {
  bpp: 1 | 4 | 8 | 16 | 24 | 32;
  topDown?: boolean;
  /** 'core' = 12-byte OS/2 header; 'info' = 40 bytes; 'v5' = 124 bytes with bit-field masks. */
  header?: 'core' | 'info' | 'v5';
  /** For palette depths: RGB triples. Pixels are palette indices then. */
  palette?: number[][];
  /** Drop the padding of the last row (some writers do). */
  trimLastRow?: boolean;
}

/** `pixels` holds RGBA per pixel for 16/24/32 bpp, or one palette index per pixel for <= 8 bpp. */
export function writeBmp(width: number, height: number, pixels: number[], o: BmpOptions): Uint8Array {
  const header = o.header ?? 'info';
  const hsize = header === 'core' ? 12 : header === 'info' ? 40 : 124;
  const palEntry = header === 'core' ? 3 : 4;
  const pal = o.palette ?? [];
  const stride = Math.floor((o.bpp * width + 31) / 32) * 4;
  const dataOffset = 14 + hsize + pal.length * palEntry;
  let size = dataOffset + stride * height;
  if (o.trimLastRow) size -= stride - Math.ceil((o.bpp * width) / 8);
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  b[0] = 0x42;
  b[1] = 0x4d;
  v.setUint32(2, size, true);
  v.setUint32(10, dataOffset, true);
  v.setUint32(14, hsize, true);
  if (header === 'core') {
    v.setUint16(18, width, true);
    v.setInt16(20, o.topDown ? -height : height, true);
    v.setUint16(22, 1, true);
    v.setUint16(24, o.bpp, true);
  } else {
    v.setInt32(18, width, true);
    v.setInt32(22, o.topDown ? -height : height, true);
    v.setUint16(26, 1, true);
    v.setUint16(28, o.bpp, true);
    v.setUint32(30, header === 'v5' ? 3 : 0, true); // BI_BITFIELDS for v5
    v.setUint32(46, pal.length, true);
    if (header === 'v5') {
      v.setUint32(54, 0x00ff0000, true);
      v.setUint32(58, 0x0000ff00, true);
      v.setUint32(62, 0x000000ff, true);
      v.setUint32(66, 0xff000000, true);
    }
  }
  pal.forEach((c, i) => {
    const p = 14 + hsize + i * palEntry;
    b[p] = c[2]!;
    b[p + 1] = c[1]!;
    b[p + 2] = c[0]!;
  });
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (o.topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (o.bpp <= 8) {
        const bit = x * o.bpp;
        b[row + (bit >> 3)]! |= pixels[i]! << (8 - o.bpp - (bit & 7));
      } else if (o.bpp === 16) {
        const [r, g, bl] = [pixels[i * 4]!, pixels[i * 4 + 1]!, pixels[i * 4 + 2]!];
        v.setUint16(row + x * 2, ((r >> 3) << 10) | ((g >> 3) << 5) | (bl >> 3), true);
      } else {
        const p = row + x * (o.bpp / 8);
        b[p] = pixels[i * 4 + 2]!;
        b[p + 1] = pixels[i * 4 + 1]!;
        b[p + 2] = pixels[i * 4]!;
        if (o.bpp === 32) b[p + 3] = pixels[i * 4 + 3]!;
      }
    }
  }
  return b;
}
