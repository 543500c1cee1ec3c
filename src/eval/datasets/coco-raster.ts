// COCO segmentations to pixels, written into a class mask (row-major, width × height).
//
// RLE (COCO's documented format, pycocotools' maskApi.c): `counts` are run lengths over the pixels in
// column-major order (down each column, then the next column), alternating background/object and
// starting with background; `size` is [height, width]. The compressed form packs each count into
// characters of 5 bits ('0' + value, 0x20 = more characters follow, 0x10 of the last = negative), and
// counts from the fourth on (index > 2) are stored as the difference to the count two before.
//
// Polygons: a pixel is inside when its centre (x + 0.5, y + 0.5) is inside the polygon by the even-odd
// rule, COCO coordinates being continuous (pixel x covers [x, x + 1)). pycocotools rasterises polygons
// differently (an upsampled outline), so its masks differ from these on boundary pixels only.

export type RleCounts = readonly number[];

/** Decodes a compressed COCO RLE string to run lengths; throws Error with the reason when malformed. */
export function decodeRleString(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new Error('the string ends inside a count');
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63)
        throw new Error(`character ${JSON.stringify(s[p])} at ${p} is not an RLE character ('0'..'o')`);
      // Arithmetic, not bit shifts: 5·k passes 32 bits for long counts.
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x -= 2 ** (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2]!;
    if (x < 0) throw new Error(`run ${counts.length + 1} has the negative length ${x}`);
    counts.push(x);
  }
  return counts;
}

/**
 * Paints the object runs of `counts` (column-major, height × width) with `value` where `paint(old)`
 * allows. Throws Error when the runs do not cover the image exactly.
 */
export function paintRle(
  mask: Uint8Array,
  width: number,
  height: number,
  counts: RleCounts,
  value: number,
  paint: (old: number) => boolean = () => true,
): void {
  const n = width * height;
  let at = 0;
  for (let i = 0; i < counts.length; i++) {
    const run = counts[i]!;
    if (!Number.isSafeInteger(run) || run < 0)
      throw new Error(`run ${i + 1} is ${run}, not a whole number ≥ 0`);
    if (at + run > n) throw new Error(`the runs cover more than the ${height}×${width} = ${n} pixels`);
    if (i % 2 === 1) {
      for (let j = at; j < at + run; j++) {
        const y = j % height;
        const p = y * width + (j - y) / height;
        if (paint(mask[p]!)) mask[p] = value;
      }
    }
    at += run;
  }
  if (at !== n)
    throw new Error(`the runs cover ${at} pixels, not the ${height}×${width} = ${n} of the image`);
}

/** Fills one polygon [x1, y1, x2, y2, …] by pixel centres and the even-odd rule (scanline). */
export function paintPolygon(
  mask: Uint8Array,
  width: number,
  height: number,
  xy: readonly number[],
  value: number,
  paint: (old: number) => boolean = () => true,
): void {
  const m = xy.length / 2;
  const xs: number[] = [];
  for (let y = 0; y < height; y++) {
    const yc = y + 0.5;
    xs.length = 0;
    for (let i = 0; i < m; i++) {
      const [ax, ay] = [xy[2 * i]!, xy[2 * i + 1]!];
      const j = (i + 1) % m;
      const [bx, by] = [xy[2 * j]!, xy[2 * j + 1]!];
      // Half-open in y so a vertex on the scanline counts once (and horizontal edges never).
      if (ay <= yc !== by <= yc) xs.push(ax + ((yc - ay) * (bx - ax)) / (by - ay));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Centres x + 0.5 in [xa, xb).
      const from = Math.max(0, Math.ceil(xs[k]! - 0.5));
      const to = Math.min(width, Math.ceil(xs[k + 1]! - 0.5));
      for (let x = from; x < to; x++) if (paint(mask[y * width + x]!)) mask[y * width + x] = value;
    }
  }
}
