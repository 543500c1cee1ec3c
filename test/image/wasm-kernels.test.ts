// The WebAssembly kernels (src/image/wasm/): each one's committed bytes are what its source assembles
// to; and the SIMD resize: resizeBands gives the same bytes with and without it (the JavaScript passes
// are checked against Pillow in resize.test.ts). The map kernels: wasm-map.test.ts.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assembleWat, KERNELS } from '../../scripts/wasm-assemble.ts';
import { resizeBands } from '../../src/image/resize.ts';
import { resizeRgbSimd, resizeSimdAvailable, setResizeSimd } from '../../src/image/wasm/resize-simd.ts';

const wasmDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'image', 'wasm');
const hasWat2wasm = (() => {
  try {
    execFileSync('wat2wasm', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

/** Deterministic pixels: noise, or a constant (the clip's edges). */
function pixels(w: number, h: number, seed: number, constant?: number): Uint8Array {
  const d = new Uint8Array(w * h * 3);
  let s = seed >>> 0;
  for (let i = 0; i < d.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    d[i] = constant ?? s >>> 24;
  }
  return d;
}

function both(w: number, h: number, ow: number, oh: number, data: Uint8Array) {
  const img = { width: w, height: h, bands: 3, data };
  setResizeSimd(false);
  try {
    const js = resizeBands(img, ow, oh);
    setResizeSimd(true);
    const simd = resizeBands(img, ow, oh);
    return { js, simd };
  } finally {
    setResizeSimd(true);
  }
}

describe('WebAssembly SIMD resize', () => {
  for (const k of KERNELS) {
    test(`the committed bytes are ${k.source} assembled`, {
      skip: !hasWat2wasm && 'wat2wasm (Debian: wabt) not installed',
    }, async () => {
      const bytes = assembleWat(join(wasmDir, k.source));
      const committed = (await import(join(wasmDir, k.module))) as Record<string, string>;
      assert.equal(
        committed[k.name],
        Buffer.from(bytes).toString('base64'),
        'run node --import tsx scripts/build-wasm.ts',
      );
    });
  }

  test('runs in Node', () => assert.equal(resizeSimdAvailable(), true));

  test('equals the JavaScript passes bit for bit', () => {
    const cases: [number, number, number, number][] = [
      [513, 513, 224, 224], // the common preprocessing shrink
      [500, 375, 224, 224],
      [1352, 900, 224, 224],
      [97, 61, 224, 224], // enlarging
      [224, 300, 224, 224], // vertical pass only
      [300, 224, 224, 224], // horizontal pass only
      [1, 1, 5, 3],
      [7, 5, 1, 1],
      [1000, 3, 7, 2], // wide support
      [33, 17, 16, 31],
    ];
    for (const [k, [w, h, ow, oh]] of cases.entries()) {
      for (const data of [pixels(w, h, k + 1), pixels(w, h, 0, 0), pixels(w, h, 0, 255)]) {
        const { js, simd } = both(w, h, ow, oh, data);
        assert.equal(simd.width, ow);
        assert.equal(simd.height, oh);
        assert.ok(Buffer.from(js.data).equals(Buffer.from(simd.data)), `${w}×${h} → ${ow}×${oh}`);
      }
    }
  });

  test('a resize too large for its memory budget falls back to JavaScript, same bytes', () => {
    const [w, h, ow, oh] = [2100, 2000, 2090, 1990];
    const data = pixels(w, h, 7);
    const none = { kk: new Int32Array(0), ksize: 0, bounds: new Int32Array(0) };
    assert.equal(resizeRgbSimd({ width: w, height: h, data }, ow, oh, none, none, 0, h), undefined);
    const { js, simd } = both(w, h, ow, oh, data);
    assert.ok(Buffer.from(js.data).equals(Buffer.from(simd.data)));
  });
});
