// What an image may cost before it is decoded: a pixel budget (checked from the header, so a small file
// declaring a huge image is refused before any memory is spent on it) and a file-size limit. The CLI's
// --max-pixels and --max-file-mb raise them.

import { GradsightError } from '../errors.ts';

/** About 100 megapixels: a 12 MP photo fits eight times, a 16000×16000 bomb (256 MP, ~1 GB decoded) does not. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Image files above 256 MiB are refused unless the limit is raised. */
export const DEFAULT_MAX_IMAGE_BYTES = 256 * 2 ** 20;

export interface ImageDecodeOptions {
  /** Refuse images with more pixels than this, from their header (default DEFAULT_MAX_PIXELS). */
  readonly maxPixels?: number;
  /**
   * Called with a message when a defect was tolerated (a JPEG missing only its end marker). The CLI
   * prints it as `warning: ...`; without a callback the warning is dropped.
   */
  readonly onWarning?: (message: string) => void;
}

export interface ImageFileOptions extends ImageDecodeOptions {
  /** Refuse files larger than this many bytes before reading them (default DEFAULT_MAX_IMAGE_BYTES). */
  readonly maxFileBytes?: number;
}

/** Throws 'bad-image' when width × height exceeds the budget. */
export function checkPixelBudget(
  width: number,
  height: number,
  source: string,
  maxPixels = DEFAULT_MAX_PIXELS,
): void {
  if (width * height <= maxPixels) return;
  const mp = (n: number) => `${(n / 1e6).toFixed(n < 1e6 ? 4 : 1)} MP`;
  throw new GradsightError(
    'bad-image',
    `${source} is ${width}×${height} (${mp(width * height)}), too large to decode: above the ${mp(maxPixels)} pixel limit (a guard against decompression bombs)`,
    {
      hint: `If the image is trusted, raise the budget with --max-pixels ${width * height} (library: the maxPixels option), or downscale it first.`,
      details: { source, width, height, maxPixels },
    },
  );
}
