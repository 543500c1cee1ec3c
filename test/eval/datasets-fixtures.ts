// Tiny datasets for the datasets-*.test.ts files: a temporary folder, and PNG files written byte by
// byte (greyscale or palette), so masks hold exactly the indices or colours a test chooses.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

export const tempDir = (prefix = 'gradsight-ds-'): string => mkdtempSync(join(tmpdir(), prefix));

export function writeFile(path: string, content: string | Uint8Array): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

export interface PngOptions {
  readonly rgb?: boolean;
  readonly palette?: Uint8Array;
  /** Greyscale bit depth 1, 2, 4 or 8 (values packed from the high bit down); default 8. */
  readonly bits?: number;
}

/**
 * A PNG: greyscale (one value per pixel), RGB (3 bytes), or palette (1 index per pixel, `palette` RGB
 * triples). Rows use filter 0.
 */
export function pngBytes(width: number, height: number, pixels: Uint8Array, opts: PngOptions = {}): Buffer {
  const bits = opts.bits ?? 8;
  const channels = opts.rgb ? 3 : 1;
  const stride = Math.ceil((width * channels * bits) / 8);
  const raw = Buffer.alloc(height * (1 + stride));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width * channels; x++) {
      const v = pixels[y * width * channels + x]!;
      const bit = x * bits;
      raw[y * (1 + stride) + 1 + (bit >> 3)]! |= v << (8 - bits - (bit & 7));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bits;
  ihdr[9] = opts.palette ? 3 : opts.rgb ? 2 : 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(opts.palette ? [chunk('PLTE', opts.palette)] : []),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

export const writePng = (
  path: string,
  width: number,
  height: number,
  pixels: Uint8Array,
  opts: PngOptions = {},
) => writeFile(path, pngBytes(width, height, pixels, opts));

/** A grey RGB image of the size (the pixels do not matter to a dataset reader). */
export const writeImage = (path: string, width: number, height: number) =>
  writePng(path, width, height, new Uint8Array(width * height * 3).fill(128), { rgb: true });

/** Known VOC palette entries (from the VOC devkit's colour map): index -> RGB. */
export const VOC_COLOURS: Record<number, [number, number, number]> = {
  0: [0, 0, 0],
  1: [128, 0, 0],
  3: [128, 128, 0],
  7: [128, 128, 128],
  8: [64, 0, 0],
  12: [64, 0, 128],
  15: [192, 128, 128],
  255: [224, 224, 192],
};

/** The mask's pixels as rows of digits/characters, for readable expectations. */
export const rows = (data: Uint8Array, width: number): string[] =>
  Array.from({ length: data.length / width }, (_, y) =>
    Array.from(data.subarray(y * width, (y + 1) * width), (v) => (v === 255 ? 'v' : v.toString(36))).join(''),
  );
