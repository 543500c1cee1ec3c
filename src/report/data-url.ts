// Image data URLs in a report: only inline raster images are let through (so a report can never make a
// request), and a PNG's size is read from its header, because panel boxes are drawn in the panel image's
// pixel coordinates and the report data does not carry that size separately.

const IMAGE_DATA_URL = /^data:image\/(?:png|jpeg|webp|gif|avif|bmp);base64,[A-Za-z0-9+/]+={0,2}$/;
const PNG_PREFIX = 'data:image/png;base64,';

/** True for a base64 data URL of a raster image (not SVG, which can hold scripts and links). */
export function isImageDataUrl(url: string | undefined): url is string {
  return url !== undefined && IMAGE_DATA_URL.test(url);
}

/** Width and height from a PNG data URL's IHDR chunk, or undefined for anything else. */
export function pngDataUrlSize(url: string): { width: number; height: number } | undefined {
  if (!url.startsWith(PNG_PREFIX)) return undefined;
  // Signature (8 bytes), IHDR length and type (8), width and height (4 + 4): 24 bytes = 32 base64 chars.
  let head: string;
  try {
    head = atob(url.slice(PNG_PREFIX.length, PNG_PREFIX.length + 32));
  } catch {
    return undefined;
  }
  if (head.length < 24 || head.slice(1, 4) !== 'PNG' || head.slice(12, 16) !== 'IHDR') return undefined;
  const u32 = (o: number) =>
    ((head.charCodeAt(o) << 24) |
      (head.charCodeAt(o + 1) << 16) |
      (head.charCodeAt(o + 2) << 8) |
      head.charCodeAt(o + 3)) >>>
    0;
  const width = u32(16);
  const height = u32(20);
  return width > 0 && height > 0 ? { width, height } : undefined;
}
