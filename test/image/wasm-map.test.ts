// The map kernels on WebAssembly SIMD (src/image/wasm/map-simd.ts) against the JavaScript they
// replace, byte for byte: a map's upsampled colormap indices, the overlay blend and the PNG Sub
// filter, at sizes that leave partial vectors and that need several strips, and on the values where
// the index rule has its edges (NaN, ±∞, negatives, 0, just below and at 1). The JavaScript itself is
// checked against pytorch-grad-cam and OpenCV in test/render/ (colormaps, overlay, png-node).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { mapSimdAvailable, setMapSimd, upsampledIndicesSimd } from '../../src/image/wasm/map-simd.ts';
import { getColormap, upsampledColormapIndices } from '../../src/render/colormaps.ts';
import { overlayOfIndices } from '../../src/render/overlay.ts';
import { encodeIndexedPng } from '../../src/render/png-node.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Map values in [lo, hi) with every edge case sprinkled in. */
function mapOf(w: number, h: number, seed: number, lo = -0.1, hi = 1.1): Float32Array {
  const r = rng(seed);
  const edges = [Number.NaN, Infinity, -Infinity, -0, 0, 1, 1 - 2 ** -24, 2 ** -24, 1 / 255, 2, -1e-30];
  return Float32Array.from({ length: w * h }, () =>
    r() < 0.05 ? edges[Math.floor(r() * edges.length)]! : lo + (hi - lo) * r(),
  );
}

function bytes(w: number, h: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: w * h * 3 }, () => Math.floor(r() * 256));
}

/** f() with the kernels off, then on. */
function both<T>(f: () => T): { js: T; simd: T } {
  setMapSimd(false);
  try {
    const js = f();
    setMapSimd(true);
    return { js, simd: f() };
  } finally {
    setMapSimd(true);
  }
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));

describe('map kernels on WebAssembly SIMD', () => {
  test('run in Node', () => assert.equal(mapSimdAvailable(), true));

  test('upsampled colormap indices equal the JavaScript, edge values included', () => {
    const cases: [number, number, number, number][] = [
      [224, 224, 512, 430], // a Grad-CAM map onto a photo
      [224, 224, 224, 224], // same size
      [7, 7, 224, 224],
      [14, 14, 1000, 667],
      [224, 224, 100, 75], // shrinking
      [1, 1, 17, 3],
      [5, 3, 1, 1],
      [13, 11, 15, 33], // widths that are no multiple of 16
      [224, 224, 31, 1],
    ];
    for (const [k, [w, h, ow, oh]] of cases.entries()) {
      for (const [lo, hi] of [
        [-0.1, 1.1],
        [0, 1],
        [0.999, 1.001],
      ] as const) {
        const map = { width: w, height: h, data: mapOf(w, h, k + 1, lo, hi) };
        const { js, simd } = both(() => upsampledColormapIndices(map, ow, oh));
        assert.ok(same(js, simd), `${w}×${h} → ${ow}×${oh} in [${lo}, ${hi})`);
      }
    }
  });

  test('indices of a picture larger than the kernels memory go through in strips, same bytes', () => {
    // 4,200 × 4,100 indices: 17 MB, more than the module's 4 MB of work memory.
    const map = { width: 7, height: 7, data: mapOf(7, 7, 3) };
    const { js, simd } = both(() => upsampledColormapIndices(map, 4200, 4100));
    assert.ok(same(js, simd));
    assert.ok(upsampledIndicesSimd(map, 4200, 4100), 'the kernels ran');
    // A map whose own rows do not fit (1,100² floats: 4.8 MB) stays in JavaScript, same bytes.
    const big = { width: 1100, height: 1100, data: mapOf(1100, 1100, 4) };
    assert.equal(upsampledIndicesSimd(big, 300, 200), undefined);
    const b = both(() => upsampledColormapIndices(big, 300, 200));
    assert.ok(same(b.js, b.simd));
  });

  test('the overlay blend equals the JavaScript, for several colormaps and weights, and in strips', () => {
    const sizes: [number, number][] = [
      [512, 430],
      [1, 1],
      [17, 5],
      [1700, 1500], // 2.55 M pixels: 7 bytes each is more than one strip
    ];
    for (const [k, [w, h]] of sizes.entries()) {
      const image = { width: w, height: h, data: bytes(w, h, k + 10) };
      const indices = Uint8Array.from(bytes(w, h, k + 20).subarray(0, w * h));
      for (const [colormap, alpha] of [
        ['jet', 0.5],
        ['viridis', 0.3],
        ['inferno', 1],
        ['turbo', 0],
      ] as const) {
        const { js, simd } = both(() => overlayOfIndices(image, indices, { colormap, alpha }).data);
        assert.ok(same(js, simd), `${w}×${h} ${colormap} ${alpha}`);
      }
    }
  });

  test('the heatmap PNG Sub filter equals the JavaScript (the decoded rows too), and in strips', () => {
    for (const [k, [w, h]] of (
      [
        [512, 430],
        [1, 1],
        [15, 2],
        [16, 3],
        [4000, 2300], // two strips
      ] as [number, number][]
    ).entries()) {
      const indices = bytes(w, h, k + 30).subarray(0, w * h);
      const img = { width: w, height: h, indices, palette: getColormap('jet').lut };
      const { js, simd } = both(() => encodeIndexedPng(img));
      assert.ok(same(js, simd), `${w}×${h}`);
      // Undoing the filter on the IDAT's rows gives the indices back.
      const idat = simd.subarray(8 + 25 + 12 + 768 + 8, simd.length - 12 - 4);
      const rows = inflateSync(idat);
      for (let y = 0; y < Math.min(h, 3); y++) {
        let prev = 0;
        for (let x = 0; x < w; x++) {
          prev = (prev + rows[y * (w + 1) + 1 + x]!) & 255;
          assert.equal(prev, indices[y * w + x], `${w}×${h} at ${x},${y}`);
        }
      }
    }
  });
});
