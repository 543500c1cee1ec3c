// Shrinks large images for reports and previews. Platform-neutral: Pillow-exact bilinear with
// antialiasing (src/image/resize.ts). Node's report writers shrink with sharp instead (native, a few
// times faster; the same displaySize), since their JPEG encoding changes the pixels anyway.

import { GradsightError } from '../errors.ts';
import { resizeBilinear } from '../image/resize.ts';
import type { RgbImage } from '../image/rgb-image.ts';

export interface Size {
  readonly width: number;
  readonly height: number;
}

/**
 * The size `img` is shown at: its longer side at most `maxSide`, keeping the aspect ratio (each side
 * rounded, at least 1 pixel); never larger than the image.
 */
export function displaySize(img: Size, maxSide: number): Size {
  if (!Number.isInteger(maxSide) || maxSide <= 0) {
    throw new GradsightError('bad-argument', `display size must be a positive integer, got ${maxSide}`, {
      details: { maxSide },
    });
  }
  const longest = Math.max(img.width, img.height);
  if (longest <= maxSide) return { width: img.width, height: img.height };
  const scale = maxSide / longest;
  return {
    width: Math.min(maxSide, Math.max(1, Math.round(img.width * scale))),
    height: Math.min(maxSide, Math.max(1, Math.round(img.height * scale))),
  };
}

/**
 * Downscales `img` to its displaySize. Images that already fit are returned as they are (not copied);
 * never upscales.
 */
export function resizeForDisplay(img: RgbImage, maxSide: number): RgbImage {
  const { width, height } = displaySize(img, maxSide);
  if (width === img.width && height === img.height) return img;
  return resizeBilinear(img, width, height);
}
