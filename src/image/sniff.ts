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
