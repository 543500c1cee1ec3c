// An image's width and height from its header, read synchronously without decoding (so a manifest's
// boxes can be checked against the image while samples stream). PNG, JPEG, GIF, BMP and WebP; other
// formats give undefined (their boxes are checked only for x0 ≤ x1, y0 ≤ y1, ≥ 0).

import { closeSync, openSync, readSync } from 'node:fs';

export interface Size {
  readonly width: number;
  readonly height: number;
}

export function readImageSize(path: string): Size | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined; // Unreadable: decoding the image reports it with a typed error.
  }
  try {
    const read = (length: number, position: number) => {
      const b = Buffer.alloc(length);
      return b.subarray(0, readSync(fd, b, 0, length, position));
    };
    const head = read(32, 0);
    if (head.length >= 24 && head.readUInt32BE(0) === 0x89504e47) {
      return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
    }
    if (head.length >= 10 && head.toString('latin1', 0, 3) === 'GIF') {
      return { width: head.readUInt16LE(6), height: head.readUInt16LE(8) };
    }
    if (head.length >= 26 && head.toString('latin1', 0, 2) === 'BM') {
      return { width: head.readInt32LE(18), height: Math.abs(head.readInt32LE(22)) };
    }
    if (
      head.length >= 30 &&
      head.toString('latin1', 0, 4) === 'RIFF' &&
      head.toString('latin1', 8, 12) === 'WEBP'
    ) {
      const chunk = head.toString('latin1', 12, 16);
      if (chunk === 'VP8 ')
        return { width: head.readUInt16LE(26) & 0x3fff, height: head.readUInt16LE(28) & 0x3fff };
      if (chunk === 'VP8L') {
        const bits = head.readUInt32LE(21);
        return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
      }
      if (chunk === 'VP8X') return { width: head.readUIntLE(24, 3) + 1, height: head.readUIntLE(27, 3) + 1 };
      return undefined;
    }
    if (head.length >= 4 && head[0] === 0xff && head[1] === 0xd8) {
      // Walk the marker segments to the first start-of-frame (SOFn: C0–CF except C4, C8, CC).
      let at = 2;
      for (;;) {
        const m = read(9, at);
        if (m.length < 4 || m[0] !== 0xff) return undefined;
        const marker = m[1]!;
        if (marker === 0xff) {
          at++;
          continue;
        }
        if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
          return m.length < 9 ? undefined : { width: m.readUInt16BE(7), height: m.readUInt16BE(5) };
        }
        at += 2 + m.readUInt16BE(2);
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}
