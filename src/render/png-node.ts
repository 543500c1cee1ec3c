// PNG output in Node via sharp. Writes go to a temp file renamed into place, so an interrupted run never
// leaves a truncated picture where a complete one is expected.

import type { RgbImage } from '../image/rgb-image.ts';
import sharp from '../image/sharp-node.ts';
import { writeAtomicWith } from '../io/write-file-node.ts';

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

/** Encodes an RGB image as a lossless 8-bit RGB PNG. */
export async function encodePng(img: RgbImage): Promise<Uint8Array> {
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png({ compressionLevel: PNG_COMPRESSION_LEVEL })
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Writes `img` to `path` as PNG, atomically; a failure is an 'output-unwritable' error naming the path.
 * The encoder streams to the file: a 12 MP overlay never exists as one encoded buffer in memory.
 * `level` is zlib's (0–9): PHOTO_PNG_LEVEL for photographic pictures.
 */
export async function writePng(path: string, img: RgbImage, level = PNG_COMPRESSION_LEVEL): Promise<void> {
  await writeAtomicWith(path, 'PNG output', (tmp) =>
    sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
      .png({ compressionLevel: level })
      .toFile(tmp),
  );
}
