// Decodes image files to RgbImage in Node: sharp (libvips) for PNG/JPEG/WebP/GIF/TIFF/AVIF, gradsight's
// own decoder for BMP (its alpha, if any, is not kept). The aim is the pixels PIL's `Image.open(p).convert('RGB')` gives, since models
// and references are prepared with PIL; the deliberate differences are noted where they happen.

import { GradsightError } from '../errors.ts';
import { readFileTyped } from '../io/read-file-node.ts';
import { decodeBmp } from './bmp.ts';
import {
  checkPixelBudget,
  DEFAULT_MAX_IMAGE_BYTES,
  DEFAULT_MAX_PIXELS,
  type ImageDecodeOptions,
  type ImageFileOptions,
} from './limits.ts';
import { type RgbImage, rgbImage } from './rgb-image.ts';
import sharp from './sharp-node.ts';
import {
  describeBytes,
  headerSize,
  type ImageFormat,
  SUPPORTED_IMAGE_FORMATS,
  sniffImageFormat,
} from './sniff.ts';

export type { ImageDecodeOptions, ImageFileOptions } from './limits.ts';

/** Reads and decodes an image file: a regular file within `maxFileBytes`, decoded within `maxPixels`. */
export async function decodeImageFile(path: string, opts: ImageFileOptions = {}): Promise<RgbImage> {
  return decodeImage(await readImageFile(path, opts), path, opts);
}

/** An image file's bytes, as decodeImageFile reads them (a regular file within `maxFileBytes`). */
export function readImageFile(path: string, opts: ImageFileOptions = {}): Promise<Uint8Array> {
  return readFileTyped(path, 'image', {
    maxBytes: opts.maxFileBytes ?? DEFAULT_MAX_IMAGE_BYTES,
    flag: '--max-file-mb',
  });
}

export async function decodeImage(
  bytes: Uint8Array,
  source = 'image data',
  opts: ImageDecodeOptions = {},
): Promise<RgbImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const format = sniffImageFormat(bytes);
  if (format === undefined) {
    throw badImage(source, `${source} is not a supported image: it looks like ${describeBytes(bytes)}`);
  }
  if (format === 'bmp') return decodeBmp(bytes, source, maxPixels);
  let input = bytes;
  if (format === 'jpeg' && !endsWithEoi(bytes)) {
    // A JPEG missing only its end marker (FFD9) is complete otherwise: decode it with the marker put
    // back, strictly, so one cut in the middle of its data still fails below.
    input = new Uint8Array(bytes.length + 2);
    input.set(bytes);
    input.set([0xff, 0xd9], bytes.length);
  }
  try {
    // The header alone: a bomb is refused before decoding.
    const { width, height } = await headerImageSize(input, format);
    if (width !== undefined && height !== undefined) checkPixelBudget(width, height, source, maxPixels);
    const { data, info } = await sharp(input, {
      // The budget again, inside libvips, for formats whose metadata gives no size.
      limitInputPixels: maxPixels,
      // Truncated or corrupt files fail instead of decoding to a half-grey picture.
      failOn: 'warning',
      // PIL ignores embedded ICC profiles, so we do too: pixel values then match PIL-made references.
      ignoreIcc: true,
    })
      // EXIF orientation is applied (PIL's Image.open does not; torchvision/Keras pipelines usually call
      // ImageOps.exif_transpose). A phone photo then reaches the model upright, as the user sees it.
      .autoOrient()
      // Greyscale and palette expand to RGB; 16-bit samples become 8-bit (high byte).
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (input !== bytes)
      opts.onWarning?.(`${source}: the JPEG end marker is missing; decoded the complete image data`);
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (info.channels === 3) return { width: info.width, height: info.height, data: pixels };
    if (info.channels !== 4) {
      throw new Error(`decoder produced ${info.channels} channels instead of 3 or 4`);
    }
    // Alpha is split off, not composited over a background: the colour is what PIL's convert('RGB')
    // gives, and the alpha plane what convert('RGBA') adds (for 4-channel models).
    return splitAlpha(info.width, info.height, pixels);
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
      bomb ? `If the image is trusted, raise the budget with --max-pixels (library: maxPixels).` : undefined,
    );
  }
}

/**
 * An image's size from its header alone: gradsight's reading of it (PNG, JPEG, GIF, WebP) or sharp's
 * metadata, which reads no pixel data, for the other formats (fields absent when it finds none).
 */
export async function headerImageSize(
  bytes: Uint8Array,
  format: ImageFormat,
): Promise<{ readonly width?: number; readonly height?: number }> {
  return headerSize(bytes, format) ?? (await sharp(bytes, { limitInputPixels: false }).metadata());
}

function endsWithEoi(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[bytes.length - 2] === 0xff && bytes[bytes.length - 1] === 0xd9;
}

function splitAlpha(width: number, height: number, rgba: Uint8Array): RgbImage {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  const alpha = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    data[3 * i] = rgba[4 * i]!;
    data[3 * i + 1] = rgba[4 * i + 1]!;
    data[3 * i + 2] = rgba[4 * i + 2]!;
    alpha[i] = rgba[4 * i + 3]!;
  }
  return rgbImage(width, height, data, alpha);
}

function badImage(source: string, message: string, cause?: unknown, hint?: string): GradsightError {
  return new GradsightError('bad-image', message, {
    hint: hint ?? `Supported formats: ${SUPPORTED_IMAGE_FORMATS}. Re-save the image in one of them.`,
    details: { source },
    cause,
  });
}
