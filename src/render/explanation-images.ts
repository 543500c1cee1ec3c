// Per-image rendering of explanations, for every surface (the CLI, the web app, an evaluation run):
// the overlay or pixel display, the bare heatmap, map statistics, the paper's localization box and the
// explained detection, at the model's input size or at the original image's. Platform-neutral: it
// returns images and plain JSON values; writing files is the caller's business.
//
// Maps live at the model's input resolution (H×W). For the original size (W0×H0) they are upsampled
// with OpenCV-style bilinear resampling (image/upsample.ts, as pytorch-grad-cam brings CAMs to input
// size) and drawn on the original decoded image. Boxes are computed on the map as computed and scaled
// by (W0/W, H0/H): preprocessing is a plain resize (no crop, no letterbox), so that is the exact map.

import { GradsightError } from '../errors.ts';
import { type Box, localize, scaleBox } from '../eval/localization.ts';
import type { Diagnostic } from '../explain/diagnose.ts';
import type { Explanation, TargetInfo } from '../explain/explainer.ts';
import { type IndexedImage, indexedToRgb } from '../image/indexed-image.ts';
import { modelView, type PreprocessConfig } from '../image/preprocess.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { resizeBilinearPlanes } from '../image/upsample.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';
import {
  type Colormap,
  type ColormapId,
  colormapIndices,
  getColormap,
  upsampledColormapIndices,
} from './colormaps.ts';
import { deprocessImage } from './deprocess.ts';
import { detectionColor, drawLabeledBox } from './draw.ts';
import { tensorToImage } from './input-image.ts';
import { overlayOfIndices } from './overlay.ts';

/** The size overlays and heatmaps are drawn at; the first is the default. */
export const OVERLAY_SIZES = ['original', 'model'] as const;
export type OverlaySize = (typeof OVERLAY_SIZES)[number];

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** One image's drawing surface. */
export interface ImageCanvas {
  /** The maps' size: the model input. */
  readonly model: Size;
  /** The image's own size (for a tensor input, which has no other, the model's). */
  readonly original: Size;
  readonly size: OverlaySize;
  /** What maps are drawn on, at the output size: the decoded image, or the model's view of it. */
  readonly base: RgbImage;
}

/** A decoded image, or row `row` of a ready input tensor (which only has the model's size). */
export type CanvasSource =
  | { readonly image: RgbImage }
  | { readonly tensor: Float32Tensor; readonly row: number };

export function imageCanvas(
  source: CanvasSource,
  preprocess: Pick<PreprocessConfig, 'size' | 'layout' | 'mean' | 'std' | 'scale' | 'channelOrder'> &
    Partial<Pick<PreprocessConfig, 'channels'>>,
  size: OverlaySize = 'original',
): ImageCanvas {
  const [height, width] = preprocess.size;
  const model = { width, height };
  if ('tensor' in source) {
    if (size === 'original') {
      throw new GradsightError(
        'bad-argument',
        'overlay size "original" needs the original image, and a tensor input has none',
        { hint: 'use --overlay-size model with --input (maps are drawn on the input tensor itself)' },
      );
    }
    return { model, original: model, size, base: tensorToImage(source.tensor, source.row, preprocess) };
  }
  const { image } = source;
  const original = { width: image.width, height: image.height };
  // The model's view: the same Pillow-exact resize the preprocessing applies, and its channels (a
  // grayscale model's image is drawn grey, as the model sees it).
  const base = modelView(
    image,
    { size: preprocess.size, channels: preprocess.channels ?? 3 },
    size === 'model',
  );
  return { model, original, size, base };
}

/** The output size of a canvas. */
export const outputSize = (c: ImageCanvas): Size => ({ width: c.base.width, height: c.base.height });

export interface MapStats {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Row-major index of the maximum in the map as computed (model-input resolution; pixels: CHW). */
  readonly argmax: number;
  /** CAM maps: the share of pixels ≥ 15% of the max, and the pixels of the box's segment. */
  readonly aboveThreshold?: number;
  readonly segmentPixels?: number;
}

export interface DetectionEntry {
  /** Continuous pixel edges in the original image. */
  readonly box: Box;
  /** The same in model-input pixels. */
  readonly boxModel: Box;
  readonly classIndex: number;
  readonly label: string;
  readonly score: number;
}

/** One explanation's entry in results.json (the caller adds the files it wrote). */
export interface ExplanationEntry {
  readonly method: string;
  readonly target: TargetInfo;
  readonly layers: readonly string[];
  readonly stats: MapStats;
  /** The paper's localization box in original-image pixels (inclusive, eval/localization.ts). */
  readonly box?: Box;
  /** The same box in model-input pixels, as computed. */
  readonly boxModel?: Box;
  readonly detection?: DetectionEntry;
  readonly diagnostic?: Diagnostic;
}

export interface RenderedExplanation {
  /** The overlay (CAM methods) or the gradient display (pixel methods) at the output size, with the detection's box drawn. */
  readonly image: RgbImage;
  /** The same without the detection's box (the report draws it over the image instead). */
  readonly plain: RgbImage;
  /** CAM methods: the bare colour-mapped map at the output size, as its LUT indices and the colormap. */
  readonly heatmapIndexed?: IndexedImage;
  /** CAM methods: heatmapIndexed's RGB pixels (made when first read; not enumerable). */
  readonly heatmap?: RgbImage;
  readonly entry: ExplanationEntry;
}

export interface RenderOptions {
  readonly colormap: ColormapId | Colormap;
  /** Heatmap weight in the overlay (overlay.ts). */
  readonly alpha: number;
}

export function renderExplanation(
  e: Explanation,
  canvas: ImageCanvas,
  options: RenderOptions,
): RenderedExplanation {
  const { model, original } = canvas;
  const out = outputSize(canvas);
  const resized = out.width !== model.width || out.height !== model.height;
  let plain: RgbImage;
  let heatmap: IndexedImage | undefined;
  let stats: MapStats;
  let boxes: { box: Box; boxModel: Box } | undefined;
  if (e.map) {
    // At the original size the map's LUT indices come straight from its upsampling (no float copy).
    const indices = resized
      ? upsampledColormapIndices({ ...model, data: e.map }, out.width, out.height)
      : colormapIndices(e.map);
    plain = overlayOfIndices(canvas.base, indices, options);
    heatmap = { ...out, indices, palette: getColormap(options.colormap).lut };
    const l = localize(e.map, model.width, model.height);
    stats = {
      ...mapStats(e.map),
      aboveThreshold: l.abovePixels / e.map.length,
      segmentPixels: l.segmentPixels,
    };
    if (l.box) boxes = { box: scaleBox(l.box, model, original), boxModel: l.box };
  } else if (e.pixels) {
    const channels = e.pixels.length / (model.width * model.height);
    const pixels = resized
      ? resizeBilinearPlanes(e.pixels, model.width, model.height, channels, out.width, out.height)
      : e.pixels;
    plain = deprocessImage(pixels, out);
    stats = mapStats(e.pixels);
  } else {
    throw new GradsightError('bad-argument', `the ${e.method} explanation has neither a map nor pixels`, {
      hint: 'pass an Explanation from Explainer.explain',
    });
  }
  let image = plain;
  let detection: DetectionEntry | undefined;
  if (e.detection) {
    const d = e.detection;
    detection = {
      box: scaleEdges(d.box, model, original),
      boxModel: d.box,
      classIndex: d.classIndex,
      label: d.label,
      score: d.score,
    };
    image = drawLabeledBox(plain, {
      box: scaleEdges(d.box, model, out),
      text: detectionText(d),
      color: detectionColor(d.classIndex),
    });
  }
  const entry: ExplanationEntry = {
    method: e.method,
    target: e.target,
    layers: e.layers,
    stats,
    ...(boxes ?? {}),
    ...(detection ? { detection } : {}),
    ...(e.diagnostic ? { diagnostic: e.diagnostic } : {}),
  };
  const rendered: RenderedExplanation = {
    image,
    plain,
    ...(heatmap ? { heatmapIndexed: heatmap } : {}),
    entry,
  };
  if (heatmap) {
    // The RGB heatmap only for a caller that reads it: explain writes the palette form.
    let rgb: RgbImage | undefined;
    const indexed = heatmap;
    Object.defineProperty(rendered, 'heatmap', { get: () => (rgb ??= indexedToRgb(indexed)) });
  }
  return rendered;
}

/** "kite 0.87": a detection's label as drawn. */
export function detectionText(d: { readonly label: string; readonly score: number }): string {
  return `${d.label} ${d.score.toFixed(2)}`;
}

/** A continuous-edge box from one pixel grid to another: x·(W'/W), y·(H'/H). */
export function scaleEdges(b: Box, from: Size, to: Size): Box {
  const sx = to.width / from.width;
  const sy = to.height / from.height;
  return { x0: b.x0 * sx, y0: b.y0 * sy, x1: b.x1 * sx, y1: b.y1 * sy };
}

export function mapStats(m: Float32Array): MapStats {
  const s = new Float64Array(4); // min, max, sum, argmax
  statsInto(m, s);
  return { min: s[0]!, max: s[1]!, mean: s[2]! / m.length, argmax: s[3]! };
}

/** mapStats' one pass (arrays only, so V8 optimizes it once): min, max, sum and argmax into `s`. */
function statsInto(m: Float32Array, s: Float64Array): void {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  let argmax = 0;
  for (let i = 0; i < m.length; i++) {
    const v = m[i]!;
    if (v < min) min = v;
    if (v > max) {
      max = v;
      argmax = i;
    }
    sum += v;
  }
  s[0] = min;
  s[1] = max;
  s[2] = sum;
  s[3] = argmax;
}
