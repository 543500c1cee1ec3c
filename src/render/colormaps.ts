// Colormaps for heatmaps: exact 256-entry RGB lookup tables (generated from OpenCV and matplotlib by
// scripts/gen-colormaps.py) and the one quantisation rule every overlay uses, that of pytorch-grad-cam's
// `cv2.applyColorMap(np.uint8(255 * mask), ...)`: the LUT index is floor(255·m), computed in float32.

import { GradsightError } from '../errors.ts';
import { checkBilinear } from '../image/bilinear-taps.ts';
import { indexedToRgb } from '../image/indexed-image.ts';
import { type BilinearPlan, bilinearPlan, type FloatMap } from '../image/upsample.ts';
import { upsampledIndicesSimd } from '../image/wasm/map-simd.ts';
import { COLORMAP_TABLES } from './colormap-tables.ts';

export type ColormapId = keyof typeof COLORMAP_TABLES;

export interface Colormap {
  readonly id: ColormapId;
  /** One line for `--help`, the web app's menu and the docs. */
  readonly description: string;
  /** 256 RGB entries, 768 bytes, entry 0 first. Shared: do not write to it. */
  readonly lut: Uint8Array;
}

const DESCRIPTIONS: Readonly<Record<ColormapId, string>> = {
  jet: "OpenCV's COLORMAP_JET, blue to red; pytorch-grad-cam's default (the same pixels as show_cam_on_image)",
  turbo: "Google's turbo (matplotlib), a jet-like rainbow with smoother, more even brightness",
  viridis: "matplotlib's viridis, dark purple to yellow; perceptually uniform and colour-blind safe",
  inferno: "matplotlib's inferno, black to pale yellow; perceptually uniform, good on dark backgrounds",
};

function decodeHex(lines: readonly string[]): Uint8Array {
  const hex = lines.join('');
  const lut = new Uint8Array(hex.length / 2);
  for (let i = 0; i < lut.length; i++) lut[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return lut;
}

/** Every colormap by id, in menu order (jet first: the default, for parity with pytorch-grad-cam). */
export const COLORMAPS: Readonly<Record<ColormapId, Colormap>> = Object.freeze(
  Object.fromEntries(
    (Object.keys(COLORMAP_TABLES) as ColormapId[]).map((id) => [
      id,
      Object.freeze({ id, description: DESCRIPTIONS[id], lut: decodeHex(COLORMAP_TABLES[id]) }),
    ]),
  ) as Record<ColormapId, Colormap>,
);

export const COLORMAP_IDS: readonly ColormapId[] = Object.freeze(Object.keys(COLORMAPS) as ColormapId[]);

export const DEFAULT_COLORMAP: ColormapId = 'jet';

export function isColormapId(id: string): id is ColormapId {
  return Object.hasOwn(COLORMAPS, id);
}

/** Looks a colormap up by id (as typed on a command line); an unknown id is a 'bad-argument' error. */
export function getColormap(colormap: ColormapId | Colormap | string): Colormap {
  if (typeof colormap !== 'string') return colormap;
  if (isColormapId(colormap)) return COLORMAPS[colormap];
  throw new GradsightError('bad-argument', `unknown colormap '${colormap}'`, {
    hint: `Use one of: ${COLORMAP_IDS.join(', ')}.`,
    details: { colormap },
  });
}

/**
 * The LUT index of a map value: floor(255·clamp(m, 0, 1)), as `np.uint8(255 * mask)` on a float32 mask
 * (truncation, not rounding: 0.5 → 127). The product is rounded to float32 like NumPy's; for float32
 * inputs that never moves the floor, but it keeps the rule literal. NaN maps to 0.
 */
export function colormapIndex(m: number): number {
  if (!(m > 0)) return 0; // also NaN
  if (m >= 1) return 255;
  return Math.floor(Math.fround(255 * m));
}

/** colormapIndex of every value of a map. */
export function colormapIndices(map: Float32Array): Uint8Array {
  const out = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) out[i] = colormapIndex(map[i]!);
  return out;
}

/**
 * colormapIndices of the map upsampled to width × height (resizeBilinearFloat), bit for bit, without
 * the upsampled float map: each row's values become indices as they are made. On WebAssembly SIMD
 * where it runs (image/wasm/map-simd.ts): a 224² map onto 512×430 in 0.42 against 2.7 ms.
 */
export function upsampledColormapIndices(map: FloatMap, width: number, height: number): Uint8Array {
  checkBilinear(map, width, height, 1);
  const simd = upsampledIndicesSimd(map, width, height);
  if (simd) return simd;
  const out = new Uint8Array(width * height);
  const plan = bilinearPlan(map, width, height, 1);
  for (let y = 0; y < height; y++) indexRow(plan, y, out, y * width);
  return out;
}

/** colormapIndex of the values of the plan's row y (blendRow's arithmetic), written to `out` from `o`. */
function indexRow(p: BilinearPlan, y: number, out: Uint8Array, o: number): void {
  const { tmp, rowLength } = p;
  const r0 = p.r0[y]!;
  const r1 = p.r1[y]!;
  const b0 = p.b0[y]!;
  const b1 = p.b1[y]!;
  for (let x = 0; x < rowLength; x++) {
    out[o + x] = colormapIndex(Math.fround(Math.fround(tmp[r0 + x]! * b0) + Math.fround(tmp[r1 + x]! * b1)));
  }
}

/** Colours a map with values in [0, 1] (HW, any length): returns RGB bytes, 3 per value. */
export function applyColormap(map: Float32Array, colormap: ColormapId | Colormap | string): Uint8Array {
  return colorIndices(colormapIndices(map), colormap);
}

/** The colours of LUT indices (colormapIndices): RGB bytes, 3 per index. */
export function colorIndices(indices: Uint8Array, colormap: ColormapId | Colormap | string): Uint8Array {
  const { lut } = getColormap(colormap);
  if (indices.length === 0) return new Uint8Array(0);
  return indexedToRgb({ width: indices.length, height: 1, indices, palette: lut }).data;
}
