// A map's drawing on WebAssembly SIMD (map.wat): its upsampled colormap indices, the overlay blend by
// table and the heatmap PNG's Sub filter, bit for bit the JavaScript of upsample.ts, colormaps.ts,
// overlay.ts and png-node.ts (tested against it), and their fallback where WebAssembly SIMD is
// missing. Large pictures go through in strips, so the module's memory (which never shrinks) stays
// within WORK_BYTES whatever the photo's size.

import { taps } from '../bilinear-taps.ts';
import type { FloatMap } from '../upsample.ts';
import { ensureMemory, instantiate, Regions } from './instance.ts';
import { MAP_WASM } from './map-bytes.ts';

interface Kernels {
  readonly memory: WebAssembly.Memory;
  horizontal1(
    src: number,
    sw: number,
    sh: number,
    width: number,
    i0: number,
    i1: number,
    a0: number,
    a1: number,
    tmp: number,
  ): void;
  indexRows(
    tmp: number,
    r0: number,
    r1: number,
    b0: number,
    b1: number,
    y0: number,
    y1: number,
    len: number,
    out: number,
  ): void;
  blendRgb(idx: number, data: number, table: number, out: number, n: number): void;
  subFilterRows(src: number, width: number, rows: number, dst: number): void;
}

/**
 * Most bytes of module memory one call may use: strips of a 12 MP picture are as fast as one pass, and
 * the memory stays beside every picture for the rest of the process.
 */
const WORK_BYTES = 4 * 2 ** 20;
/** Spare bytes after each region: the kernels read and write up to 64 bytes past a row's end. */
const SLACK = 64;

let kernels: Kernels | null | undefined;
/** Off only where a test compares these kernels with the JavaScript (setMapSimd). */
let enabled = true;

export function setMapSimd(on: boolean): void {
  enabled = on;
}

function load(): Kernels | null {
  if (!enabled) return null;
  if (kernels === undefined) kernels = instantiate<Kernels>(MAP_WASM);
  return kernels;
}

/** Whether these kernels run here (for tests and benchmarks). */
export function mapSimdAvailable(): boolean {
  return load() !== null;
}

/**
 * upsampledColormapIndices (render/colormaps.ts) of a one-channel map at width × height: its
 * resizeBilinearFloat, each value as floor(255·m) clamped to 0..255 (NaN: 0). The caller has checked
 * the sizes (checkBilinear). Undefined where the kernels do not run or the map itself is too large.
 */
export function upsampledIndicesSimd(map: FloatMap, width: number, height: number): Uint8Array | undefined {
  const k = load();
  if (!k) return undefined;
  const { width: sw, height: sh } = map;
  const tx = taps(sw, width);
  const ty = taps(sh, height);
  const regions = new Regions(SLACK);
  const src = regions.take(4 * sw * sh);
  const i0 = regions.take(4 * width);
  const i1 = regions.take(4 * width);
  const a0 = regions.take(4 * width);
  const a1 = regions.take(4 * width);
  const tmp = regions.take(4 * sh * width);
  const r0 = regions.take(4 * height);
  const r1 = regions.take(4 * height);
  const b0 = regions.take(4 * height);
  const b1 = regions.take(4 * height);
  const strip = Math.min(height, Math.floor((WORK_BYTES - regions.top - SLACK - 16) / width));
  if (strip < 1) return undefined;
  const out = regions.take(strip * width);
  ensureMemory(k.memory, regions.top);
  const buf = k.memory.buffer;
  new Float32Array(buf, src, sw * sh).set(map.data);
  new Int32Array(buf, i0, width).set(tx.i0);
  new Int32Array(buf, i1, width).set(tx.i1);
  new Float32Array(buf, a0, width).set(tx.a0);
  new Float32Array(buf, a1, width).set(tx.a1);
  const rows0 = new Int32Array(buf, r0, height);
  const rows1 = new Int32Array(buf, r1, height);
  for (let y = 0; y < height; y++) {
    rows0[y] = ty.i0[y]! * width;
    rows1[y] = ty.i1[y]! * width;
  }
  new Float32Array(buf, b0, height).set(ty.a0);
  new Float32Array(buf, b1, height).set(ty.a1);
  k.horizontal1(src, sw, sh, width, i0, i1, a0, a1, tmp);
  const indices = new Uint8Array(width * height);
  const m8 = new Uint8Array(buf);
  for (let y0 = 0; y0 < height; y0 += strip) {
    const y1 = Math.min(height, y0 + strip);
    k.indexRows(tmp, r0, r1, b0, b1, y0, y1, width, out);
    indices.set(m8.subarray(out, out + (y1 - y0) * width), y0 * width);
  }
  return indices;
}

/**
 * The overlay's common case (overlay.ts blendFromTable) into `out`: out[3i + c] = table[768·indices[i]
 * + 256·c + data[3i + c]] for RGB `data`. False (nothing written) where the kernels do not run.
 */
export function blendRgbSimd(
  indices: Uint8Array,
  data: Uint8Array,
  table: Uint8Array,
  out: Uint8Array,
): boolean {
  const k = load();
  if (!k) return false;
  const n = indices.length;
  const regions = new Regions(SLACK);
  const t = regions.take(table.length);
  const strip = Math.min(n, Math.floor((WORK_BYTES - regions.top - 3 * (SLACK + 16)) / 7));
  if (strip < 1) return false;
  const idx = regions.take(strip);
  const rgb = regions.take(3 * strip);
  const o = regions.take(3 * strip);
  ensureMemory(k.memory, regions.top);
  const m8 = new Uint8Array(k.memory.buffer);
  m8.set(table, t);
  for (let i = 0; i < n; i += strip) {
    const m = Math.min(strip, n - i);
    m8.set(indices.subarray(i, i + m), idx);
    m8.set(data.subarray(3 * i, 3 * (i + m)), rgb);
    k.blendRgb(idx, rgb, t, o, m);
    out.set(m8.subarray(o, o + 3 * m), 3 * i);
  }
  return true;
}

/**
 * PNG's Sub filter (png-node.ts) of width × height bytes into `dst` ((width + 1) · height bytes, each
 * row its filter type 1 first). False (nothing written) where the kernels do not run.
 */
export function subFilterSimd(src: Uint8Array, width: number, height: number, dst: Uint8Array): boolean {
  if (height === 0) return true;
  const k = load();
  if (!k) return false;
  const strip = Math.min(height, Math.floor((WORK_BYTES - 2 * (SLACK + 16)) / (2 * width + 1)));
  if (strip < 1) return false;
  const regions = new Regions(SLACK);
  const s = regions.take(strip * width);
  const d = regions.take(strip * (width + 1));
  ensureMemory(k.memory, regions.top);
  const m8 = new Uint8Array(k.memory.buffer);
  for (let y = 0; y < height; y += strip) {
    const rows = Math.min(strip, height - y);
    m8.set(src.subarray(y * width, (y + rows) * width), s);
    k.subFilterRows(s, width, rows, d);
    dst.set(m8.subarray(d, d + rows * (width + 1)), y * (width + 1));
  }
  return true;
}
