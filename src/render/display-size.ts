// Shrinks large images for reports and previews. Platform-neutral: Pillow-exact bilinear with
// antialiasing (src/image/resize.ts), so a report looks the same in Node and in the browser.

import { GradsightError } from '../errors.ts';
import { resizeBilinear } from '../image/resize.ts';
import type { RgbImage } from '../image/rgb-image.ts';

/**
 * Downscales `img` so its longer side is at most `maxSide`, keeping the aspect ratio (each side rounded,
 * at least 1 pixel). Images that already fit are returned as they are (not copied); never upscales.
 */
export function resizeForDisplay(img: RgbImage, maxSide: number): RgbImage {
  if (!Number.isInteger(maxSide) || maxSide <= 0) {
    throw new GradsightError('bad-argument', `display size must be a positive integer, got ${maxSide}`, {
      details: { maxSide },
    });
  }
  const longest = Math.max(img.width, img.height);
  if (longest <= maxSide) return img;
  const scale = maxSide / longest;
  const width = Math.max(1, Math.round(img.width * scale));
  const height = Math.max(1, Math.round(img.height * scale));
  return resizeBilinear(img, Math.min(width, maxSide), Math.min(height, maxSide));
}
