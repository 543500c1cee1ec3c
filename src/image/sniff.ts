// Recognises an image container from its first bytes, so decoders can pick a path and errors can say
// what a rejected file looks like ("a text file", "a truncated PNG") instead of a library's internals.

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff' | 'bmp' | 'avif';

/** What users may pass; BMP is decoded by gradsight itself because libvips (sharp) cannot. */
export const SUPPORTED_IMAGE_FORMATS = 'PNG, JPEG, WebP, GIF, TIFF, AVIF, BMP';

const ascii = (bytes: Uint8Array, from: number, to: number) =>
  String.fromCharCode(...bytes.subarray(from, Math.min(to, bytes.length)));

export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 4) === 'PNG') return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return 'webp';
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 4 && (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*')) return 'tiff';
  if (b.length >= 2 && ascii(b, 0, 2) === 'BM') return 'bmp';
  if (b.length >= 12 && ascii(b, 4, 8) === 'ftyp' && /^avi[fs]$/.test(ascii(b, 8, 12))) return 'avif';
  return undefined;
}

/** A short description of bytes that are not a supported image, for error messages. */
export function describeBytes(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const head = bytes.subarray(0, 512);
  const text = ascii(head, 0, head.length);
  if (/^\s*<(\?xml|svg)/i.test(text) && /<svg/i.test(text)) return 'an SVG (vector) file';
  if (/^\s*<(!doctype|html)/i.test(text)) return 'an HTML page';
  if (/^\s*[{[]/.test(text)) return 'a JSON/text file';
  if (ascii(head, 0, 4) === '\x93NUM') return 'a NumPy .npy file';
  if (ascii(head, 0, 4) === 'PK\x03\x04') return 'a ZIP archive';
  if (ascii(head, 0, 4) === '%PDF') return 'a PDF document';
  // Mostly printable ASCII/UTF-8 and no NUL bytes: call it text.
  let printable = 0;
  for (const c of head) if (c === 9 || c === 10 || c === 13 || (c >= 32 && c !== 127)) printable++;
  if (!head.includes(0) && printable / head.length > 0.95) return 'a text file';
  const hex = Array.from(bytes.subarray(0, 8), (c) => c.toString(16).padStart(2, '0')).join(' ');
  return `unrecognised data (first bytes ${hex})`;
}

/**
 * An image's width and height from its header alone, for PNG, JPEG, GIF and WebP (undefined for other
 * formats or a header that does not parse: ask the decoder then). Cheap enough to run before every
 * decode: a pixel budget is checked on it before a byte is inflated. JPEG's size is before any EXIF
 * rotation, which keeps the pixel count.
 */
export function headerSize(
  bytes: Uint8Array,
  format: ImageFormat,
): { width: number; height: number } | undefined {
  const b = bytes;
  const be16 = (i: number) => (b[i]! << 8) | b[i + 1]!;
  const be32 = (i: number) => be16(i) * 65536 + be16(i + 2);
  const le16 = (i: number) => b[i]! | (b[i + 1]! << 8);
  const le24 = (i: number) => le16(i) + b[i + 2]! * 65536;
  const size = (width: number, height: number) => (width > 0 && height > 0 ? { width, height } : undefined);
  if (format === 'png') {
    return b.length >= 24 && ascii(b, 12, 16) === 'IHDR' ? size(be32(16), be32(20)) : undefined;
  }
  if (format === 'gif') return b.length >= 10 ? size(le16(6), le16(8)) : undefined;
  if (format === 'webp') {
    const kind = ascii(b, 12, 16);
    if (kind === 'VP8 ' && b.length >= 30 && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
      return size(le16(26) & 0x3fff, le16(28) & 0x3fff);
    }
    if (kind === 'VP8L' && b.length >= 25 && b[20] === 0x2f) {
      const bits = le16(21) + le16(23) * 65536;
      return size((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
    }
    if (kind === 'VP8X' && b.length >= 30) return size(le24(24) + 1, le24(27) + 1);
    return undefined;
  }
  if (format === 'jpeg') {
    // Markers from SOI on: the first start-of-frame (SOF0–SOF15 but DHT, JPG and DAC) holds the size.
    let i = 2;
    while (i + 4 <= b.length) {
      if (b[i] !== 0xff) return undefined;
      const m = b[i + 1]!;
      if (m === 0xff) {
        i++; // fill byte
        continue;
      }
      if (m === 0x01 || (m >= 0xd0 && m <= 0xd8)) {
        i += 2; // no length
        continue;
      }
      if (m === 0xda || m === 0xd9) return undefined; // scan data or end before any frame header
      const len = be16(i + 2);
      if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
        return i + 9 <= b.length ? size(be16(i + 7), be16(i + 5)) : undefined;
      }
      i += 2 + len;
    }
  }
  return undefined;
}
