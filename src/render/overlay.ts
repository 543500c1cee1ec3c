// Heatmap over image. One formula, every transform explicit (no squaring of the map, always RGB):
//
//   heat = LUT[floor(255·m)] / 255,  img = pixel / 255,  out = alpha·heat + (1 − alpha)·img
//   restretch: out = out / max(out)   (global max over all pixels and channels)
//   byte = floor(255·out)
//
// With `restretch: true` this is pytorch-grad-cam's `show_cam_on_image(img / 255, mask, use_rgb=True,
// colormap=cv2.COLORMAP_JET, image_weight=w)` byte for byte, where **their image_weight = 1 − our alpha**
// (their default image_weight 0.5 is alpha 0.5). Arithmetic is float32 at each step, like NumPy on their
// float32 arrays. The image may have the model's channels (image/bands.ts): a grayscale (1-band) image
// is blended as the RGB image with that grey on R, G and B; an RGBA image's alpha is not used.

import { GradsightError } from '../errors.ts';
import type { Bands } from '../image/bands.ts';
import { type RgbImage, rgbImage } from '../image/rgb-image.ts';
import type { FloatMap } from '../image/upsample.ts';
import { blendRgbSimd } from '../image/wasm/map-simd.ts';
import {
  applyColormap,
  type Colormap,
  type ColormapId,
  colorIndices,
  colormapIndices,
  getColormap,
} from './colormaps.ts';

export interface OverlayOptions {
  readonly colormap: ColormapId | Colormap;
  /** Weight of the heatmap in [0, 1]; the image gets 1 − alpha. pytorch-grad-cam's image_weight = 1 − alpha. */
  readonly alpha: number;
  /** Divide the blend by its global maximum before quantising (pytorch-grad-cam does). Default false. */
  readonly restretch?: boolean;
}

const f = Math.fround;

/**
 * Blends the colour-mapped `map` (H×W values in [0, 1], the image's size; a plain Float32Array or a
 * FloatMap with the image's width and height) over `image` (RGB, or 1, 3 or 4 bands).
 */
export function overlay(
  image: RgbImage | Bands,
  map: Float32Array | FloatMap,
  options: OverlayOptions,
): RgbImage {
  const values = mapValues(map, image.width, image.height, 'overlay');
  return blend(image, colormapIndices(values), options);
}

/**
 * The overlay and the bare heatmap of one map (same size as `image`), sharing the map's LUT indices:
 * `overlay(image, map, options)` and `heatmapImage(map, options.colormap)` in one pass over the map.
 */
export function overlayAndHeatmap(
  image: RgbImage | Bands,
  map: FloatMap,
  options: OverlayOptions,
): { readonly overlay: RgbImage; readonly heatmap: RgbImage } {
  const values = mapValues(map, image.width, image.height, 'overlay');
  return overlayAndHeatmapOfIndices(image, colormapIndices(values), options);
}

/**
 * overlayAndHeatmap from the map's LUT indices (colormapIndices, or upsampledColormapIndices for a map
 * drawn larger than it was computed), one per pixel of `image`.
 */
export function overlayAndHeatmapOfIndices(
  image: RgbImage | Bands,
  indices: Uint8Array,
  options: OverlayOptions,
): { readonly overlay: RgbImage; readonly heatmap: RgbImage } {
  return {
    overlay: overlayOfIndices(image, indices, options),
    heatmap: rgbImage(image.width, image.height, colorIndices(indices, options.colormap)),
  };
}

/** overlay() from the map's LUT indices, one per pixel of `image` (as overlayAndHeatmapOfIndices). */
export function overlayOfIndices(
  image: RgbImage | Bands,
  indices: Uint8Array,
  options: OverlayOptions,
): RgbImage {
  if (indices.length !== image.width * image.height) {
    throw new GradsightError(
      'bad-argument',
      `overlay: ${indices.length} map indices for the ${image.width}x${image.height} image`,
      { hint: 'give one LUT index per image pixel (colormapIndices of the map at the image size)' },
    );
  }
  return blend(image, indices, options);
}

function blend(image: RgbImage | Bands, indices: Uint8Array, options: OverlayOptions): RgbImage {
  const { alpha, restretch = false } = options;
  if (!(alpha >= 0 && alpha <= 1)) {
    throw new GradsightError('bad-argument', `overlay alpha must be in [0, 1], got ${alpha}`, {
      hint: 'alpha is the weight of the heatmap: 0 shows only the image, 1 only the heatmap.',
      details: { alpha },
    });
  }
  const { lut } = getColormap(options.colormap);
  const wHeat = f(alpha);
  const wImg = f(1 - alpha);
  const n = indices.length;
  // Byte of colour c of pixel i: R, G, B of an RGB(A) image; the one grey of an L image.
  const stride = 'bands' in image ? image.bands : 3;
  if (stride !== 1 && stride !== 3 && stride !== 4) {
    throw new GradsightError('bad-argument', `overlay: cannot draw on a ${stride}-band image`, {
      hint: 'Pass an RGB image, or 1 (grey), 3 (RGB) or 4 (RGBA) bands.',
      details: { bands: stride },
    });
  }
  // The two float32 terms take 256 values each (a colormap entry, an image byte): tabulate them
  // once, so each pixel is one float32 add, bit for bit the arithmetic of the formula.
  const heatTerm = new Float32Array(lut.length);
  for (let j = 0; j < lut.length; j++) heatTerm[j] = f(wHeat * f(lut[j]! / 255));
  const imageTerm = new Float32Array(256);
  for (let b = 0; b < 256; b++) imageTerm[b] = f(wImg * f(b / 255));
  const data = image.data;
  const out = new Uint8Array(n * 3);
  if (!restretch && stride === 3) {
    // The common case (an RGB photo, no rescale): each output byte depends only on the LUT entry and
    // the image byte, so it is read from a table of the formula's bytes (blendTable), on WebAssembly
    // where it runs (image/wasm/map-simd.ts).
    const table = blendTable(lut, alpha, heatTerm, imageTerm);
    if (!blendRgbSimd(indices, data, table, out)) blendFromTable(indices, data, table, out, n);
    return rgbImage(image.width, image.height, out);
  }
  // The blend is recomputed in the second pass rather than kept: a float copy of a 12 MP photo would
  // be 144 MB. max is 0 only for a black image under a colormap whose entry is black: no rescale then.
  let max = 0;
  if (restretch) {
    for (let i = 0; i < n; i++) {
      const k = indices[i]! * 3;
      const p = stride * i;
      for (let c = 0; c < 3; c++) {
        const v = f(heatTerm[k + c]! + imageTerm[data[stride === 1 ? p : p + c]!]!);
        if (v > max) max = v;
      }
    }
  }
  const scale = restretch && max > 0;
  for (let i = 0; i < n; i++) {
    const k = indices[i]! * 3;
    const p = stride * i;
    for (let c = 0; c < 3; c++) {
      const b = f(heatTerm[k + c]! + imageTerm[data[stride === 1 ? p : p + c]!]!);
      out[3 * i + c] = Math.min(255, Math.floor(f(255 * (scale ? f(b / max) : b))));
    }
  }
  return rgbImage(image.width, image.height, out);
}

/** The common case's pixels: out byte = table[768·index + 256·c + image byte] (arrays and numbers only). */
function blendFromTable(
  indices: Uint8Array,
  data: Uint8Array,
  table: Uint8Array,
  out: Uint8Array,
  n: number,
): void {
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    const k = indices[i]! * 768;
    out[p] = table[k + data[p]!]!;
    out[p + 1] = table[k + 256 + data[p + 1]!]!;
    out[p + 2] = table[k + 512 + data[p + 2]!]!;
  }
}

/**
 * The last blend table made (a run draws every overlay with one colormap and alpha), with a copy of
 * its LUT: a caller's colormap changed in place gets a new table.
 */
let lastTable: { readonly lut: Uint8Array; readonly alpha: number; readonly table: Uint8Array } | undefined;

/**
 * byte(k, c, b) = min(255, floor(255·(heatTerm[3k + c] + imageTerm[b]))) at [768k + 256c + b], for
 * the 256 LUT entries k, colours c and image bytes b: 196,608 bytes, made once per colormap and alpha.
 */
function blendTable(
  lut: Uint8Array,
  alpha: number,
  heatTerm: Float32Array,
  imageTerm: Float32Array,
): Uint8Array {
  const last = lastTable;
  if (
    last &&
    last.alpha === alpha &&
    last.lut.length === lut.length &&
    last.lut.every((v, j) => v === lut[j])
  )
    return last.table;
  const entries = lut.length / 3;
  const table = new Uint8Array(entries * 768);
  for (let k = 0; k < entries; k++) {
    for (let c = 0; c < 3; c++) {
      const h = heatTerm[3 * k + c]!;
      const row = 768 * k + 256 * c;
      for (let b = 0; b < 256; b++) table[row + b] = Math.min(255, Math.floor(f(255 * f(h + imageTerm[b]!))));
    }
  }
  lastTable = { lut: lut.slice(), alpha, table };
  return table;
}

/** The bare colour-mapped heatmap as an image (`applyColormap` with the map's size attached). */
export function heatmapImage(map: FloatMap, colormap: ColormapId | Colormap): RgbImage {
  const values = mapValues(map, map.width, map.height, 'heatmap');
  return rgbImage(map.width, map.height, applyColormap(values, colormap));
}

function mapValues(map: Float32Array | FloatMap, width: number, height: number, what: string): Float32Array {
  const values = map instanceof Float32Array ? map : map.data;
  const dimsOk = map instanceof Float32Array || (map.width === width && map.height === height);
  if (!dimsOk || values.length !== width * height) {
    const got = map instanceof Float32Array ? `${values.length} values` : `${map.width}x${map.height}`;
    throw new GradsightError(
      'bad-argument',
      `${what}: the map (${got}) does not match the ${width}x${height} image`,
      {
        hint: 'Upsample the map to the image size first (resizeBilinearFloat), as pytorch-grad-cam does.',
        details: { width, height, mapLength: values.length },
      },
    );
  }
  return values;
}
