// The language demos' scene generator: pinned bytes (SHA-256), and ground truth checked against the
// pixels themselves (boxes from masks, colours from the painted pixels, positions from mask centroids).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  AXIS_RATIO,
  type Box,
  COLORS,
  generateScene,
  SCENE_SIZE,
  SCENE_SPLITS,
  type Scene,
  splitScene,
} from '../../src/demo/scenes.ts';

const W = SCENE_SIZE;

/** SHA-256 of the image bytes, then every mask: catches any change to the generator's output. */
function sha256(s: Scene): string {
  const h = createHash('sha256');
  h.update(s.image.data);
  for (const o of s.objects) h.update(o.mask);
  return h.digest('hex');
}

function maskBox(mask: Uint8Array): Box | null {
  let [x0, y0, x1, y1] = [W, W, -1, -1];
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) continue;
    const x = i % W;
    const y = (i - x) / W;
    [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}

/** Mean position of the mask's pixel centres. */
function centroid(mask: Uint8Array): [number, number] {
  let [sx, sy, n] = [0, 0, 0];
  mask.forEach((v, i) => {
    if (v === 0) return;
    sx += (i % W) + 0.5;
    sy += Math.floor(i / W) + 0.5;
    n++;
  });
  return [sx / n, sy / n];
}

/** The colour name of the mask's mean painted pixel, by which channels dominate (not the palette). */
function seenColor(s: Scene, mask: Uint8Array): string {
  const sum = [0, 0, 0];
  let n = 0;
  mask.forEach((v, i) => {
    if (v === 0) return;
    for (let c = 0; c < 3; c++) sum[c]! += s.image.data[i * 3 + c]!;
    n++;
  });
  const [r, g, b] = sum.map((v) => v / n) as [number, number, number];
  if (r > 150 && g > 150 && b < 100) return 'yellow';
  if (r > 150 && g < 100 && b < 100) return 'red';
  if (g > 120 && r < 100 && b < 100) return 'green';
  if (b > 150 && r < 100 && g < 120) return 'blue';
  return `unclear (${r.toFixed(0)}, ${g.toFixed(0)}, ${b.toFixed(0)})`;
}

const area = (mask: Uint8Array) => mask.reduce((a, v) => a + v, 0);

describe('generateScene', () => {
  test('is a pure function of (seed, index) with pinned bytes', () => {
    const pinned: [number, number, string][] = [
      [SCENE_SPLITS.train.seed, 0, 'fdcd7bc3ae89e9cd978b9536618ef68efaa7964a4f9ad5fca7c8129fc8d5d91c'],
      [SCENE_SPLITS.train.seed, 5, '359335ffa1605433e69e1d6af8c9e5e8876b6ba36de68213ea677990a8f15c04'],
      [SCENE_SPLITS.test.seed, 3, '7609523413622767b40086560853ead11f7f24d0dc7544f9fd4005e1cc86cb4c'],
      [42, 123456, 'eeeb68dcf71ea8b9f9172b7f13500035f976b0a7339e3cbe83d8f25f4e1c73b5'],
    ];
    for (const [seed, index, sum] of pinned) {
      const a = generateScene(seed, index);
      assert.deepEqual(a.image.data, generateScene(seed, index).image.data);
      assert.equal(sha256(a), sum, `SHA-256 of scene (${seed}, ${index})`);
    }
    assert.notDeepEqual(generateScene(1, 0).image.data, generateScene(1, 1).image.data);
    assert.notDeepEqual(generateScene(1, 0).image.data, generateScene(2, 0).image.data);
    assert.throws(() => generateScene(1, -1), RangeError);
  });

  test('ground truth agrees with the pixels: boxes, disjoint masks, colours, sizes, clear layouts', () => {
    const scenes = Array.from({ length: 400 }, (_, i) => splitScene(SCENE_SPLITS.train, i));
    const areas: [number[], number[]] = [[], []];
    let three = 0;
    for (const s of scenes) {
      assert.equal(s.image.width, W);
      assert.equal(s.image.height, W);
      assert.ok(s.objects.length === 2 || s.objects.length === 3);
      if (s.objects.length === 3) three++;
      for (const o of s.objects) {
        assert.deepEqual(maskBox(o.mask), o.box);
        assert.ok(o.box.x0 >= 1 && o.box.y0 >= 1 && o.box.x1 <= W - 2 && o.box.y1 <= W - 2, 'not cut off');
        assert.equal(seenColor(s, o.mask), COLORS[o.color]);
        const [mx, my] = centroid(o.mask);
        assert.ok(Math.abs(mx - o.cx) < 0.75 && Math.abs(my - o.cy) < 0.75, 'centre is the mask centroid');
        areas[o.size].push(area(o.mask));
      }
      s.objects.forEach((a, i) => {
        for (const b of s.objects.slice(i + 1)) {
          assert.ok(
            a.mask.every((v, p) => v === 0 || b.mask[p] === 0),
            'masks are disjoint',
          );
          // Seen from the masks, one axis clearly dominates every pair's offset.
          const [ax, ay] = centroid(a.mask);
          const [bx, by] = centroid(b.mask);
          const [dx, dy] = [Math.abs(ax - bx), Math.abs(ay - by)];
          assert.ok(Math.max(dx, dy) >= 0.9 * AXIS_RATIO * Math.min(dx, dy), `offset ${dx}, ${dy}`);
          assert.ok(dx >= 3, 'left-to-right order is clear');
        }
      });
    }
    assert.ok(three >= 120 && three <= 280, `three-object scenes: ${three}/400 (≈ half)`);
    const [small, large] = areas;
    assert.ok(Math.min(...large) > 1.5 * Math.max(...small), 'the two sizes never meet');
    assert.ok(Math.min(...small) >= 40, 'small objects are at least ~6×6 pixels');
  });

  test('splits are independent: no training scene reappears in the held-out split', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) seen.add(sha256(splitScene(SCENE_SPLITS.train, i)));
    for (let i = 0; i < 300; i++) assert.ok(!seen.has(sha256(splitScene(SCENE_SPLITS.test, i))));
    const seeds = Object.values(SCENE_SPLITS).map((s) => s.seed);
    assert.equal(new Set(seeds).size, seeds.length);
  });
});
