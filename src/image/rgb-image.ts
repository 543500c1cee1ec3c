// The decoded image every stage works on: 8-bit RGB, row-major HWC, and the alpha plane when the file
// has one. Decoders (sharp, BMP, a browser canvas later) all produce this, so resize and preprocessing
// never see a file format. RGB users ignore `alpha`; 4-channel (RGBA) models read it.

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
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`image size must be non-negative integers, got ${width}x${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new RangeError(
      `RGB image ${width}x${height} needs ${width * height * 3} bytes, got ${data.length}`,
    );
  }
  if (alpha === undefined) return { width, height, data };
  if (alpha.length !== width * height) {
    throw new RangeError(
      `alpha of a ${width}x${height} image needs ${width * height} bytes, got ${alpha.length}`,
    );
  }
  return { width, height, data, alpha };
}
