// Decodes images in the browser to RgbImage, with the pixels Node's decoder (decode-node.ts, sharp)
// gives: the browser's own decoders (libpng, libjpeg-turbo, libwebp in Chromium) through
// createImageBitmap, with EXIF orientation applied and embedded colour profiles ignored as in Node,
// alpha kept as its own plane (not composited) where the file has alpha, BMP by gradsight's decoder.
// One difference remains: a canvas stores premultiplied colour, so pixels with 0 < alpha < 255 may
// differ from Node's by rounding (opaque pixels are exact; fully transparent ones read as 0).

import { GradsightError } from '../errors.ts';
import { decodeBmp } from './bmp.ts';
import { readImageHeader } from './header.ts';
import {
  checkPixelBudget,
  DEFAULT_MAX_IMAGE_BYTES,
  DEFAULT_MAX_PIXELS,
  type ImageDecodeOptions,
} from './limits.ts';
import { type RgbImage, rgbImage } from './rgb-image.ts';
import { describeBytes, SUPPORTED_IMAGE_FORMATS, sniffImageFormat } from './sniff.ts';

/** What the page can hand over: a dropped or picked file, fetched bytes, or pixels it already has. */
export type WebImageSource = Blob | ArrayBuffer | Uint8Array | ImageBitmap | ImageData;

export interface WebDecodeOptions extends ImageDecodeOptions {
  /** Refuse files above this many bytes (default 256 MiB, as in Node). */
  readonly maxFileBytes?: number;
  /** Names the image in errors (default: the File's name, else 'the image'). */
  readonly source?: string;
}

/** Decodes an encoded image (Blob/File/bytes) or reads an ImageBitmap/ImageData, to RgbImage. */
export async function decodeWebImage(input: WebImageSource, opts: WebDecodeOptions = {}): Promise<RgbImage> {
  const source = opts.source ?? (isFile(input) ? input.name : 'the image');
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (isImageData(input)) return fromRgba(input.width, input.height, input.data, true);
  if (isBitmap(input)) {
    checkPixelBudget(input.width, input.height, source, maxPixels);
    return fromBitmap(input, undefined);
  }
  const bytes =
    input instanceof Uint8Array
      ? input
      : input instanceof ArrayBuffer
        ? new Uint8Array(input)
        : await readBlob(input, source, opts.maxFileBytes ?? DEFAULT_MAX_IMAGE_BYTES);
  const format = sniffImageFormat(bytes);
  if (format === undefined) {
    throw badImage(source, `${source} is not a supported image: it looks like ${describeBytes(bytes)}`);
  }
  if (format === 'bmp') return decodeBmp(bytes, source, maxPixels);
  const header = readImageHeader(bytes, format);
  if (header) checkPixelBudget(header.width, header.height, source, maxPixels);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as BlobPart]), {
      imageOrientation: 'from-image',
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
  } catch (e) {
    throw badImage(
      source,
      `${source} looks like a ${format.toUpperCase()} file but the browser cannot decode it (truncated, corrupt, or a format this browser lacks): ${e instanceof Error ? e.message : String(e)}`,
      e,
    );
  }
  try {
    checkPixelBudget(bitmap.width, bitmap.height, source, maxPixels);
    return fromBitmap(bitmap, header?.alpha);
  } finally {
    bitmap.close();
  }
}

function fromBitmap(bitmap: ImageBitmap, alpha: boolean | undefined): RgbImage {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' });
  if (!ctx) throw new GradsightError('bad-image', 'this browser gives no 2D canvas to read the pixels from');
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' }).data;
  // The header says whether the file has alpha; where it cannot tell, any pixel below 255 does.
  return fromRgba(width, height, rgba, alpha);
}

function fromRgba(
  width: number,
  height: number,
  rgba: Uint8ClampedArray,
  alpha: boolean | undefined,
): RgbImage {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  const a = new Uint8Array(n);
  let opaque = true;
  for (let i = 0; i < n; i++) {
    data[3 * i] = rgba[4 * i]!;
    data[3 * i + 1] = rgba[4 * i + 1]!;
    data[3 * i + 2] = rgba[4 * i + 2]!;
    a[i] = rgba[4 * i + 3]!;
    if (a[i] !== 255) opaque = false;
  }
  const keep = alpha ?? !opaque;
  return keep ? rgbImage(width, height, data, a) : rgbImage(width, height, data);
}

async function readBlob(blob: Blob, source: string, maxBytes: number): Promise<Uint8Array> {
  if (blob.size > maxBytes) {
    throw new GradsightError(
      'bad-image',
      `${source} is ${(blob.size / 2 ** 20).toFixed(1)} MiB, above the ${(maxBytes / 2 ** 20).toFixed(0)} MiB file limit`,
      { hint: 'raise maxFileBytes if the image is trusted, or downscale it first', details: { source } },
    );
  }
  return new Uint8Array(await blob.arrayBuffer());
}

const isFile = (x: unknown): x is File => typeof File !== 'undefined' && x instanceof File;
const isImageData = (x: unknown): x is ImageData =>
  typeof ImageData !== 'undefined' && x instanceof ImageData;
const isBitmap = (x: unknown): x is ImageBitmap =>
  typeof ImageBitmap !== 'undefined' && x instanceof ImageBitmap;

function badImage(source: string, message: string, cause?: unknown): GradsightError {
  return new GradsightError('bad-image', message, {
    hint: `Supported formats: ${SUPPORTED_IMAGE_FORMATS} (TIFF and AVIF where the browser decodes them). Re-save the image in one of them.`,
    details: { source },
    cause,
  });
}
