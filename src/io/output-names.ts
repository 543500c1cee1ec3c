// File and folder names derived from untrusted text (image file names, class labels, tensor names).
// A derived name is always one plain path segment that stays inside its folder: no separators, no
// control characters, never `.`, `..` or hidden (no leading dot), bounded length; readable letters of
// any script are kept (`café.png` → `café`), everything else becomes `_`.

/** At most this many UTF-8 bytes (file systems allow 255 per segment; suffixes such as `.heatmap.png` follow). */
export const MAX_NAME_BYTES = 96;

/** Names Windows refuses as files, whatever the extension. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

/** `raw` as a safe path segment, or `fallback` when nothing readable is left. */
export function safeName(raw: string, fallback: string, sep = '_'): string {
  const cleaned = raw
    .normalize('NFC')
    .replace(/[^\p{L}\p{M}\p{N}._-]+/gu, sep)
    .replace(/\.{2,}/g, '.')
    .replace(/^[._-]+|[._-]+$/g, '');
  const name = truncateUtf8(cleaned, MAX_NAME_BYTES).replace(/[._-]+$/, '') || fallback;
  return WINDOWS_RESERVED.test(name.split('.')[0]!) ? `${name}_` : name;
}

/**
 * A name for `raw` not yet in `taken` (compared case-insensitively: two names differing only in case
 * are one file on macOS and Windows); adds it to `taken`. `reserved` names are never given out.
 */
export function uniqueName(
  taken: Set<string>,
  raw: string,
  fallback: string,
  reserved: readonly string[] = [],
): string {
  const stem = safeName(raw, fallback);
  const used = (n: string) => taken.has(n.toLowerCase()) || reserved.includes(n.toLowerCase());
  let name = stem;
  for (let k = 2; used(name); k++) name = `${stem}-${k}`;
  taken.add(name.toLowerCase());
  return name;
}

function truncateUtf8(s: string, maxBytes: number): string {
  const enc = new TextEncoder();
  if (enc.encode(s).length <= maxBytes) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = enc.encode(ch).length;
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}
