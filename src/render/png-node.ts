// PNG output in Node. gradsight assembles PNGs itself over Node's zlib (RGB with unfiltered rows, the
// palette images of heatmaps with Sub-filtered rows): one pass and one deflate, no per-call pipeline
// (sharp's costs ~0.7 ms of CPU even for an 8×8 picture). Files of large images stream through sharp
// instead, so a 12 MP overlay never exists as one encoded buffer in memory. Writes go to a temp file
// renamed into place, so an interrupted run never leaves a truncated picture where a complete one is
// expected.

import { crc32, deflateSync } from 'node:zlib';
import type { IndexedImage } from '../image/indexed-image.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import sharp from '../image/sharp-node.ts';
import { subFilterSimd } from '../image/wasm/map-simd.ts';
import { writeAtomicWith, writeFileAtomic } from '../io/write-file-node.ts';

/**
 * zlib level 1: on a 512×600 overlay 7.6 ms and 869 KB against 13.4 ms and 787 KB at the default 6
 * (level 3 is no faster); lossless either way, and PNG encoding is a quarter of explain's image work.
 */
const PNG_COMPRESSION_LEVEL = 1;
/**
 * Photographic pictures (overlays on photos, pixel displays) hardly compress without PNG's filters:
 * a 512×341 overlay is 527 KB at level 1 (5.0 ms) and 528 KB stored (level 0, 1.2 ms); with adaptive
 * filtering 377 KB but 8.0 ms. They are written stored; smooth heatmaps keep level 1 (~7× smaller).
 */
export const PHOTO_PNG_LEVEL = 0;
/** Above this many pixels writePng streams through sharp (bounded memory) instead of encoding here. */
const STREAMED_PIXELS = 4_000_000;

/** Encodes an RGB image as a lossless 8-bit RGB PNG (`level`: zlib's, 0–9). */
export async function encodePng(img: RgbImage, level = PNG_COMPRESSION_LEVEL): Promise<Uint8Array> {
  return joined(rgbPng(img, level));
}

/**
 * Writes `img` to `path` as PNG, atomically; a failure is an 'output-unwritable' error naming the path.
 * `level` is zlib's (0–9): PHOTO_PNG_LEVEL for photographic pictures.
 */
export async function writePng(path: string, img: RgbImage, level = PNG_COMPRESSION_LEVEL): Promise<void> {
  if (img.width * img.height <= STREAMED_PIXELS) {
    await writeFileAtomic(path, rgbPng(img, level), 'PNG output');
    return;
  }
  await writeAtomicWith(path, 'PNG output', (tmp) =>
    sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
      .png({ compressionLevel: level })
      .toFile(tmp),
  );
}

/**
 * An indexed image as an 8-bit palette PNG (colour type 3): the palette as PLTE, each row Sub-filtered
 * (a smooth heatmap's neighbouring indices differ little) and deflated at zlib level 1. A 512×418 jet
 * heatmap: 25 KB in ~1 ms, against 100 KB in 2.2 ms for its RGB expansion through sharp at level 1.
 * Decoders give back exactly the palette's colours.
 */
export function encodeIndexedPng(img: IndexedImage): Uint8Array {
  return joined(indexedPng(img));
}

/** Writes `img` to `path` as a palette PNG (encodeIndexedPng), atomically, like writePng. */
export async function writeIndexedPng(path: string, img: IndexedImage): Promise<void> {
  await writeFileAtomic(path, indexedPng(img), 'PNG output');
}

function rgbPng(img: RgbImage, level: number): Uint8Array[] {
  const { width, height, data } = img;
  const len = width * 3;
  // Filter type 0 (None) on every row: the row's bytes after a zero.
  const rows = new Uint8Array((len + 1) * height);
  for (let y = 0; y < height; y++) rows.set(data.subarray(y * len, (y + 1) * len), y * (len + 1) + 1);
  return png(width, height, 2, rows, level);
}

function indexedPng(img: IndexedImage): Uint8Array[] {
  const { width, height, indices, palette } = img;
  const colours = palette.length / 3;
  if (!Number.isInteger(colours) || colours < 1 || colours > 256) {
    throw new RangeError(`a PNG palette holds 1 to 256 RGB colours, got ${palette.length} bytes`);
  }
  if (indices.length !== width * height) {
    throw new RangeError(`${indices.length} indices for a ${width}x${height} image`);
  }
  const rows = new Uint8Array((width + 1) * height);
  // A full palette takes every byte, so no index needs checking: the filter runs on WebAssembly SIMD.
  if (colours < 256 || !subFilterSimd(indices, width, height, rows))
    for (let y = 0; y < height; y++) subFilterRow(indices, y * width, width, rows, y * (width + 1), colours);
  return png(width, height, 3, rows, 1, palette);
}

/** Filter type 1 (Sub): byte x minus byte x − 1, mod 256; every index checked against the palette. */
function subFilterRow(
  src: Uint8Array,
  s: number,
  width: number,
  dst: Uint8Array,
  d: number,
  colours: number,
) {
  dst[d] = 1;
  let prev = 0;
  for (let x = 0; x < width; x++) {
    const v = src[s + x]!;
    if (v >= colours)
      throw new RangeError(`index ${v} at pixel ${s + x} is past the ${colours}-colour palette`);
    dst[d + 1 + x] = (v - prev) & 255;
    prev = v;
  }
}

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** The parts of an 8-bit PNG (colour type 2 RGB or 3 palette) of filtered `rows`, in file order. */
function png(
  width: number,
  height: number,
  colourType: 2 | 3,
  rows: Uint8Array,
  level: number,
  palette?: Uint8Array,
): Uint8Array[] {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, colourType, 0, 0, 0], 8); // 8 bits; deflate, adaptive filtering, no interlace
  return [
    PNG_SIGNATURE,
    ...chunk('IHDR', ihdr),
    ...(palette ? chunk('PLTE', palette) : []),
    ...chunk('IDAT', deflateSync(rows, { level })),
    ...chunk('IEND', new Uint8Array(0)),
  ];
}

/** A PNG chunk as three parts (its data not copied): length and type, data, CRC-32 of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array[] {
  const head = new Uint8Array(8);
  new DataView(head.buffer).setUint32(0, data.length);
  for (let i = 0; i < 4; i++) head[4 + i] = type.charCodeAt(i);
  const crc = new Uint8Array(4);
  new DataView(crc.buffer).setUint32(0, crc32(data, crc32(head.subarray(4))));
  return [head, data, crc];
}

function joined(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
