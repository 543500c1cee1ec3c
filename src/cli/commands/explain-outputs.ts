// The files `gradsight explain` writes for each image: overlay and heatmap PNGs (or the Guided
// Backprop display for pixel methods), raw maps with --save-raw, and the image's entries in
// results.json and in the report. What is drawn, and the JSON entries, come from the library
// (render/explanation-images.ts, report/panels.ts); this file names and writes the files.

import { join } from 'node:path';
import type { ExplainResult, Explanation } from '../../explain/explainer.ts';
import type { PreprocessConfig } from '../../image/preprocess.ts';
import type { RgbImage } from '../../image/rgb-image.ts';
import { safeName } from '../../io/output-names.ts';
import { recordWrites } from '../../io/output-run-node.ts';
import { ensureSubfolder } from '../../io/write-file-node.ts';
import type { ImageModel } from '../../model/image-model.ts';
import type { Prediction } from '../../model/predict.ts';
import type { ColormapId } from '../../render/colormaps.ts';
import { jpegDataUrl } from '../../render/data-url-node.ts';
import { displaySize } from '../../render/display-size.ts';
import {
  type CanvasSource,
  type ImageCanvas,
  imageCanvas,
  type OverlaySize,
  outputSize,
  renderExplanation,
} from '../../render/explanation-images.ts';
import { PHOTO_PNG_LEVEL, writeIndexedPng, writePng } from '../../render/png-node.ts';
import { PANEL_MAX_SIDE, predictionEntries, reportImage, reportPanel } from '../../report/panels.ts';
import type { ReportImage } from '../../report/types.ts';
import { writeNpy } from '../../tensor/npy-node.ts';
import type { Float32Tensor } from '../../tensor/tensor.ts';
import { type ExplainedImage, uniqueFolder } from './explain-records.ts';

export interface RenderArgs {
  readonly out: string;
  readonly items: readonly { readonly file: string; readonly image?: RgbImage }[];
  readonly result: ExplainResult;
  readonly model: ImageModel;
  readonly colormap: ColormapId;
  readonly alpha: number;
  readonly saveRaw: boolean;
  /** Overlays and heatmaps at the original image's size (default) or the model input's. */
  readonly overlaySize?: OverlaySize;
  /** The input tensor when images were not decoded (--input). */
  readonly tensor?: Float32Tensor;
  /** Output folder names already used (two photos named cat.png in different folders). */
  readonly taken: Set<string>;
}

export async function renderImageOutputs(a: RenderArgs): Promise<ExplainedImage[]> {
  const out: ExplainedImage[] = [];
  for (const [i, item] of a.items.entries()) {
    const explanations = a.result.explanations.filter((e) => e.image === i);
    const rendered = await renderImage({
      out: a.out,
      folder: uniqueFolder(a.taken, item.file),
      file: item.file,
      source: item.image ? { image: item.image } : { tensor: a.tensor!, row: i },
      preprocess: a.model.preprocess,
      overlaySize: a.overlaySize ?? (item.image ? 'original' : 'model'),
      explanations,
      prediction: a.result.predictions[i]!,
      colormap: a.colormap,
      alpha: a.alpha,
      saveRaw: a.saveRaw,
    });
    out.push({ file: item.file, explanations, ...rendered });
  }
  return out;
}

/** One image to render: what renderImage needs, all of it plain data (it crosses to a worker thread). */
export interface ImageJob {
  readonly out: string;
  /** Its folder under `out` (uniqueFolder). */
  readonly folder: string;
  readonly file: string;
  readonly source: CanvasSource;
  readonly preprocess: PreprocessConfig;
  readonly overlaySize: OverlaySize;
  /** This image's explanations. */
  readonly explanations: readonly Explanation[];
  readonly prediction: Prediction;
  readonly colormap: ColormapId;
  readonly alpha: number;
  readonly saveRaw: boolean;
  /** The report's thumbnail of the source image, when made beforehand (reportThumbnail). */
  readonly thumbnail?: string;
}

/**
 * The report's thumbnail of a decoded image whose overlays are drawn at the original size: what
 * renderImage would make (its canvas's base: the image, grey for a one-channel model).
 */
export function reportThumbnail(image: RgbImage, preprocess: PreprocessConfig): Promise<string> {
  const base = imageCanvas({ image }, preprocess, 'original').base;
  return jpegDataUrl(base, displaySize(base, PANEL_MAX_SIDE));
}

/** Renders and writes one image's files; returns its results.json entry and its report card. */
export async function renderImage(a: ImageJob): Promise<{ json: unknown; report: ReportImage }> {
  const canvas = imageCanvas(a.source, a.preprocess, a.overlaySize);
  const { folder } = a;
  await recordWrites(a.out, [`${folder}/`]); // a folder entry: an interrupted run removes it if empty
  await ensureSubfolder(a.out, folder);
  const slugs = new Set<string>();
  const slugOf = (e: Explanation) => {
    let slug = `${e.method}${e.target.counterfactual ? '-counterfactual' : ''}_${targetSlug(e)}`;
    for (let k = 2; slugs.has(slug); k++) slug = `${slug}-${k}`;
    slugs.add(slug);
    return slug;
  };
  // The files of one image are encoded and written concurrently (sharp encodes on libuv threads),
  // except for large outputs: each explanation's full-size rasters are then made and written in
  // turn, so a 12 MP photo with five targets holds one set of them, not five.
  const { width, height } = outputSize(canvas);
  const large = width * height > CONCURRENT_PIXELS;
  const rendered: Awaited<ReturnType<typeof renderOne>>[] = [];
  if (large) for (const e of a.explanations) rendered.push(await renderOne(a, e, canvas, slugOf(e), true));
  else rendered.push(...(await Promise.all(a.explanations.map((e) => renderOne(a, e, canvas, slugOf(e))))));
  return {
    json: {
      file: a.file,
      folder,
      size: canvas.original,
      modelSize: canvas.model,
      overlaySize: outputSize(canvas),
      predictions: predictionEntries(a.prediction),
      ...(a.prediction.diagnostic ? { predictionDiagnostic: a.prediction.diagnostic } : {}),
      explanations: rendered.map((r) => r.entry),
    },
    report: await reportImage(
      a.file,
      canvas,
      a.prediction,
      rendered,
      jpegDataUrl,
      PANEL_MAX_SIDE,
      a.overlaySize === 'original' ? a.thumbnail : undefined,
    ),
  };
}

/** Output pixels above which an image's explanations and files are rendered one at a time. */
const CONCURRENT_PIXELS = 4_000_000;

async function renderOne(a: ImageJob, e: Explanation, canvas: ImageCanvas, slug: string, inTurn = false) {
  const { folder } = a;
  const r = renderExplanation(e, canvas, { colormap: a.colormap, alpha: a.alpha });
  // Paths relative to `out`, with `/` whatever the platform (results.json and the run's manifest).
  const files: Record<string, string> = {
    ...(r.heatmapIndexed ? { heatmap: `${folder}/${slug}.heatmap.png` } : {}),
    ...(a.saveRaw ? { raw: `${folder}/${slug}.npy` } : {}),
    image: `${folder}/${slug}.png`,
  };
  // Journaled before they exist, so an interrupted run knows what it may have left (output-run-node.ts).
  await recordWrites(a.out, Object.values(files));
  const writes: Promise<unknown>[] = [];
  if (r.heatmapIndexed) writes.push(writeIndexedPng(join(a.out, files.heatmap!), r.heatmapIndexed));
  if (inTurn) await writes.at(-1);
  if (a.saveRaw) {
    // The map as computed, at the model's input resolution.
    const { width, height } = canvas.model;
    const data = (e.map ?? e.pixels)!;
    const dims = e.map ? [height, width] : [data.length / (width * height), height, width];
    writes.push(writeNpy(join(a.out, files.raw!), { dtype: 'float32', dims, data }));
  }
  writes.push(writePng(join(a.out, files.image!), r.image, PHOTO_PNG_LEVEL));
  const panel = reportPanel(e, r, canvas, jpegDataUrl);
  await Promise.all(writes);
  const { method, target, layers, ...rest } = r.entry;
  return { explanation: e, panel: await panel, entry: { method, target, layers, files, ...rest } };
}

/** A failed image's entries in results.json and the report. */
function targetSlug(e: Explanation): string {
  const t = e.target;
  if (t.kind === 'contrast' || t.index === undefined)
    return safeName(t.description.replace(/[._]+/g, '-'), 'target', '-').slice(0, 40);
  return `c${t.index}`;
}
