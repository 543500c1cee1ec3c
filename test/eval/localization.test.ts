// Localization boxes computed by hand: threshold at 15% of the max, largest 8-connected segment.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { iou, localize, scaleBox } from '../../src/eval/localization.ts';

const grid = (rows: string[]) =>
  Float32Array.from(rows.join('').split(''), (c) => (c === '.' ? 0 : Number(c) / 9));

test('largest 8-connected segment above 15% of the max', () => {
  // Two segments: a 3-pixel diagonal (8-connected) and a 2-pixel pair; values 1/9 are below 0.15·max.
  const map = grid(['9....', '.9..5', '..9.5', '1....']);
  const l = localize(map, 5, 4);
  assert.deepEqual(l.box, { x0: 0, y0: 0, x1: 2, y1: 2 });
  assert.equal(l.segmentPixels, 3);
  assert.equal(l.abovePixels, 5);
  assert.ok(Math.abs(l.threshold - 0.15) < 1e-7);
});

test('an empty or non-positive map has no box', () => {
  assert.equal(localize(new Float32Array(6), 3, 2).box, undefined);
  assert.equal(localize(Float32Array.of(-1, -2), 2, 1).box, undefined);
});

test('iou and box scaling', () => {
  assert.equal(iou({ x0: 0, y0: 0, x1: 1, y1: 1 }, { x0: 1, y0: 1, x1: 2, y1: 2 }), 1 / 7);
  assert.equal(iou({ x0: 0, y0: 0, x1: 3, y1: 3 }, { x0: 0, y0: 0, x1: 3, y1: 3 }), 1);
  assert.deepEqual(
    scaleBox({ x0: 1, y0: 0, x1: 1, y1: 1 }, { width: 2, height: 2 }, { width: 8, height: 4 }),
    {
      x0: 4,
      y0: 0,
      x1: 7,
      y1: 3,
    },
  );
});

/** The definition, spelled out: label 8-connected segments of {m ≥ 0.15·max} by breadth-first search. */
function reference(map: Float32Array, width: number, height: number) {
  const max = Math.max(...map);
  const threshold = 0.15 * max;
  if (!(max > 0)) return { box: undefined, segmentPixels: 0, abovePixels: 0 };
  const on = (x: number, y: number) =>
    x >= 0 && y >= 0 && x < width && y < height && map[y * width + x]! >= threshold;
  const seen = new Set<number>();
  let best: { n: number; box: { x0: number; y0: number; x1: number; y1: number } } | undefined;
  let above = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!on(x, y)) continue;
      above++;
      if (seen.has(y * width + x)) continue;
      const queue = [[x, y]];
      seen.add(y * width + x);
      const box = { x0: x, y0: y, x1: x, y1: y };
      for (let q = 0; q < queue.length; q++) {
        const [px, py] = queue[q]!;
        box.x0 = Math.min(box.x0, px!);
        box.x1 = Math.max(box.x1, px!);
        box.y0 = Math.min(box.y0, py!);
        box.y1 = Math.max(box.y1, py!);
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const nx = px! + dx;
            const ny = py! + dy;
            if (on(nx, ny) && !seen.has(ny * width + nx)) {
              seen.add(ny * width + nx);
              queue.push([nx, ny]);
            }
          }
        }
      }
      if (!best || queue.length > best.n) best = { n: queue.length, box };
    }
  }
  return { box: best?.box, segmentPixels: best?.n ?? 0, abovePixels: above };
}

/** A deterministic generator in [0, 1) (a linear congruential one). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/** localize(map) agrees with the breadth-first definition on the box and both pixel counts. */
function assertLikeReference(map: Float32Array, w: number, h: number, message: string): void {
  const got = localize(map, w, h);
  assert.deepEqual(
    { box: got.box, segmentPixels: got.segmentPixels, abovePixels: got.abovePixels },
    reference(map, w, h),
    message,
  );
}

test('equals a breadth-first labelling on 500 random maps (sizes 1–30, many segments, ties)', () => {
  const rnd = lcg(7);
  for (let k = 0; k < 500; k++) {
    const w = 1 + Math.floor(rnd() * 30);
    const h = 1 + Math.floor(rnd() * 30);
    const sparsity = 1 + 4 * rnd();
    const map = Float32Array.from({ length: w * h }, () => (rnd() < 0.1 ? -rnd() : rnd() ** sparsity));
    assertLikeReference(map, w, h, `map ${k} (${w}×${h})`);
  }
  // The scratch buffers are reused: a small map after a large one sees none of it.
  localize(new Float32Array(64 * 64).fill(1), 64, 64);
  assert.deepEqual(localize(Float32Array.of(0, 1, 0, 0), 2, 2).box, { x0: 1, y0: 0, x1: 1, y1: 0 });
});

test('equals the breadth-first labelling on shapes that join late: combs, a spiral, diagonal chains', () => {
  const shapes: { name: string; w: number; h: number; on: (x: number, y: number) => boolean }[] = [
    // Teeth joined only by the last row: every run of a row meets its segment's root late.
    { name: 'comb', w: 41, h: 30, on: (x, y) => x % 2 === 0 || y === 29 },
    // The same upside down, and teeth of a second comb interleaved that never touch the first.
    { name: 'inverted comb', w: 41, h: 30, on: (x, y) => (x % 4 === 0 && y > 0) || (y === 0 && x < 39) },
    // Pixels touching only at corners (8-connectivity, not 4).
    { name: 'diagonals', w: 37, h: 23, on: (x, y) => (x + y) % 5 === 0 || (x - y + 50) % 7 === 0 },
    {
      name: 'spiral',
      w: 45,
      h: 45,
      on: (x, y) => {
        const d = Math.min(x, y, 44 - x, 44 - y);
        return d % 2 === 0 && !(x === d + 1 && y === d && d % 4 === 0);
      },
    },
  ];
  for (const { name, w, h, on } of shapes) {
    const map = Float32Array.from({ length: w * h }, (_, i) => (on(i % w, Math.floor(i / w)) ? 1 : 0));
    assertLikeReference(map, w, h, name);
  }
});

test('equals the breadth-first labelling on 20 smooth 224×224 maps with blobs (Grad-CAM sized)', () => {
  const rnd = lcg(11);
  for (let k = 0; k < 20; k++) {
    const blobs = Array.from({ length: 2 + Math.floor(rnd() * 6) }, () => [
      rnd() * 224,
      rnd() * 224,
      10 + rnd() * 40,
      rnd(),
    ]);
    const map = new Float32Array(224 * 224);
    for (let i = 0; i < map.length; i++) {
      const x = i % 224;
      const y = Math.floor(i / 224);
      let v = 0.05 * (rnd() - 0.5);
      for (const [bx, by, r, a] of blobs) v += a! * Math.exp(-((x - bx!) ** 2 + (y - by!) ** 2) / r! ** 2);
      map[i] = v;
    }
    assertLikeReference(map, 224, 224, `map ${k}`);
  }
});

test('a tie goes to the segment met first in row-major order, whichever ends first', () => {
  // A: a column at x = 0 over rows 0–9; B: a row at y = 1 over x = 3–12. Both have 10 pixels; A's
  // first pixel comes first, B's last one does.
  const w = 14;
  const map = new Float32Array(w * 10);
  for (let y = 0; y < 10; y++) map[y * w] = 1;
  for (let x = 3; x <= 12; x++) map[w + x] = 1;
  assert.deepEqual(localize(map, w, 10).box, { x0: 0, y0: 0, x1: 0, y1: 9 });
  assert.deepEqual(reference(map, w, 10).box, { x0: 0, y0: 0, x1: 0, y1: 9 });
});
