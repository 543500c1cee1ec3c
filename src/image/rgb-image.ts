// The decoded image every stage works on: 8-bit RGB, row-major HWC, and the alpha plane when the file
// has one. Decoders (sharp, BMP, a browser canvas later) all produce this, so resize and preprocessing
// never see a file format. RGB users ignore `alpha`; 4-channel (RGBA) models read it.

import { GradsightError } from '../errors.ts';

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** RGB bytes, HWC, 3 per pixel: `data.length === width * height * 3`. */
  readonly data: Uint8Array;
  /** Alpha, one byte per pixel (row-major), when the source has transparency; absent means opaque. */
  readonly alpha?: Uint8Array;
}

/** Builds an RgbImage, checking that `data` holds exactly `width * height` RGB pixels (and alpha). */
export function rgbImage(width: number, height: number, data: Uint8Array, alpha?: Uint8Array): RgbImage {
  return checkRgbImage(alpha === undefined ? { width, height, data } : { width, height, data, alpha });
}

/**
 * Checks an image given to the library (a 'bad-image' error naming `which` otherwise): a positive
 * whole size, `width * height * 3` RGB bytes and, when present, `width * height` alpha bytes.
 */
export function checkRgbImage(image: unknown, which = 'the image'): RgbImage {
  const hint =
    'an RgbImage is { width, height, data: Uint8Array of width·height·3 RGB bytes, alpha?: Uint8Array of width·height }; decodeImageFile makes one';
  const fail = (why: string) => new GradsightError('bad-image', `${which} ${why}`, { hint });
  if (typeof image !== 'object' || image === null) throw fail(`is not an image (${String(image)})`);
  const { width, height, data, alpha } = image as { [K in keyof RgbImage]?: unknown };
  if (
    !Number.isSafeInteger(width) ||
    !Number.isSafeInteger(height) ||
    (width as number) < 1 ||
    (height as number) < 1
  ) {
    throw fail(`has size ${String(width)}×${String(height)}; width and height must be whole numbers ≥ 1`);
  }
  const pixels = (width as number) * (height as number);
  if (!(data instanceof Uint8Array) && !(data instanceof Uint8ClampedArray)) {
    throw fail('has no Uint8Array of RGB bytes as its data');
  }
  if (data.length !== pixels * 3) {
    throw fail(`is ${width}×${height} and needs ${pixels * 3} RGB bytes, but its data has ${data.length}`);
  }
  if (alpha !== undefined && (!(alpha instanceof Uint8Array) || alpha.length !== pixels)) {
    throw fail(
      `is ${width}×${height} and its alpha plane needs ${pixels} bytes, got ${alpha instanceof Uint8Array ? alpha.length : 'none'}`,
    );
  }
  return image as RgbImage;
}
