// Decodes image files to RgbImage in Node: sharp (libvips) for PNG/JPEG/WebP/GIF/TIFF/AVIF, gradsight's
// own decoder for BMP. The aim is the pixels PIL's `Image.open(p).convert('RGB')` gives, since models
// and references are prepared with PIL; the deliberate differences are noted where they happen.

import sharp from 'sharp';
import { GradsightError } from '../errors.ts';
import { readFileTyped } from '../io/read-file-node.ts';
import { decodeBmp } from './bmp.ts';
import type { RgbImage } from './rgb-image.ts';
import { describeBytes, SUPPORTED_IMAGE_FORMATS, sniffImageFormat } from './sniff.ts';

export async function decodeImageFile(path: string): Promise<RgbImage> {
  return decodeImage(await readFileTyped(path, 'image'), path);
}

export async function decodeImage(bytes: Uint8Array, source = 'image data'): Promise<RgbImage> {
  const format = sniffImageFormat(bytes);
  if (format === undefined) {
    throw badImage(source, `${source} is not a supported image: it looks like ${describeBytes(bytes)}`);
  }
  if (format === 'bmp') return decodeBmp(bytes, source);
  try {
    const { data, info } = await sharp(bytes, {
      // The default pixel limit (0x3FFF²) is the decompression-bomb guard; its error becomes bad-image.
      limitInputPixels: true,
      // Truncated or corrupt files fail instead of decoding to a half-grey picture.
      failOn: 'warning',
      // PIL ignores embedded ICC profiles, so we do too: pixel values then match PIL-made references.
      ignoreIcc: true,
    })
      // EXIF orientation is applied (PIL's Image.open does not; torchvision/Keras pipelines usually call
      // ImageOps.exif_transpose). A phone photo then reaches the model upright, as the user sees it.
      .autoOrient()
      // Alpha is dropped, not composited over a background: PIL's convert('RGB') does the same.
      .removeAlpha()
      // Greyscale and palette expand to RGB; 16-bit samples become 8-bit (high byte).
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new Error(`decoder produced ${info.channels} channels instead of 3`);
    }
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
  } catch (e) {
    if (e instanceof GradsightError) throw e;
    const why = (e instanceof Error ? e.message : String(e)).trim().split('\n')[0];
    const bomb = /pixel limit/i.test(why ?? '');
    throw badImage(
      source,
      bomb
        ? `${source} is too large to decode safely (${why}); this guards against decompression bombs`
        : `${source} looks like a ${format.toUpperCase()} file but cannot be decoded (truncated or corrupt?): ${why}`,
      e,
    );
  }
}

function badImage(source: string, message: string, cause?: unknown): GradsightError {
  return new GradsightError('bad-image', message, {
    hint: `Supported formats: ${SUPPORTED_IMAGE_FORMATS}. Re-save the image in one of them.`,
    details: { source },
    cause,
  });
}
