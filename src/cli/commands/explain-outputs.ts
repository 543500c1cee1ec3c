// The files `gradsight explain` writes for each image: overlay and heatmap PNGs (or the Guided
// Backprop display for pixel methods), raw maps with --save-raw, and the image's entries in
// results.json and in the report. What is drawn, and the JSON entries, come from the library
// (render/explanation-images.ts, report/panels.ts); this file names and writes the files.

import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import type { GradsightError } from '../../errors.ts';
import type { ExplainResult, Explanation } from '../../explain/explainer.ts';
import type { RgbImage } from '../../image/rgb-image.ts';
import type { ImageModel } from '../../model/image-model.ts';
import type { ColormapId } from '../../render/colormaps.ts';
import {
  imageCanvas,
  type OverlaySize,
  outputSize,
  renderExplanation,
} from '../../render/explanation-images.ts';
import { encodePng } from '../../render/png-node.ts';
import {
  errorEntry,
  failedReportImage,
  predictionEntries,
  reportImage,
  reportPanel,
} from '../../report/panels.ts';
import type { ReportImage, ReportPanel } from '../../report/types.ts';
import { writeNpy } from '../../tensor/npy-node.ts';
import type { Float32Tensor } from '../../tensor/tensor.ts';

export interface ExplainedImage {
  readonly file: string;
  readonly error?: GradsightError;
  readonly explanations?: readonly Explanation[];
  readonly json: unknown;
  readonly report: ReportImage;
}

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
    const canvas = imageCanvas(
      item.image ? { image: item.image } : { tensor: a.tensor!, row: i },
      a.model.preprocess,
      a.overlaySize ?? (item.image ? 'original' : 'model'),
    );
    const folder = uniqueFolder(a.taken, item.file);
    await mkdir(join(a.out, folder), { recursive: true });
    const explanations = a.result.explanations.filter((e) => e.image === i);
    const entries: unknown[] = [];
    const panels: { explanation: Explanation; panel: ReportPanel }[] = [];
    const slugs = new Set<string>();
    for (const e of explanations) {
      let slug = `${e.method}${e.target.counterfactual ? '-counterfactual' : ''}_${targetSlug(e)}`;
      for (let k = 2; slugs.has(slug); k++) slug = `${slug}-${k}`;
      slugs.add(slug);
      const r = renderExplanation(e, canvas, { colormap: a.colormap, alpha: a.alpha });
      const files: Record<string, string> = {};
      if (r.heatmap) {
        files.heatmap = join(folder, `${slug}.heatmap.png`);
        await writeFile(join(a.out, files.heatmap), await encodePng(r.heatmap));
      }
      if (a.saveRaw) {
        // The map as computed, at the model's input resolution.
        const { width, height } = canvas.model;
        const data = (e.map ?? e.pixels)!;
        const dims = e.map ? [height, width] : [data.length / (width * height), height, width];
        files.raw = join(folder, `${slug}.npy`);
        await writeNpy(join(a.out, files.raw), { dtype: 'float32', dims, data });
      }
      files.image = join(folder, `${slug}.png`);
      await writeFile(join(a.out, files.image), await encodePng(r.image));
      const { method, target, layers, ...rest } = r.entry;
      entries.push({ method, target, layers, files, ...rest });
      panels.push({ explanation: e, panel: await reportPanel(e, r, canvas, jpegDataUrl) });
    }
    const prediction = a.result.predictions[i]!;
    out.push({
      file: item.file,
      explanations,
      json: {
        file: item.file,
        folder,
        size: canvas.original,
        modelSize: canvas.model,
        overlaySize: outputSize(canvas),
        predictions: predictionEntries(prediction),
        explanations: entries,
      },
      report: await reportImage(item.file, canvas, prediction, panels, jpegDataUrl),
    });
  }
  return out;
}

/** A failed image's entries in results.json and the report. */
export function failedImage(file: string, error: GradsightError): ExplainedImage {
  return { file, error, json: { file, error: errorEntry(error) }, report: failedReportImage(file, error) };
}

function targetSlug(e: Explanation): string {
  const t = e.target;
  if (t.kind === 'contrast' || t.index === undefined)
    return t.description.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40);
  return `c${t.index}`;
}

function uniqueFolder(taken: Set<string>, file: string): string {
  const stem =
    basename(file, extname(file))
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'image';
  let name = stem;
  for (let k = 2; taken.has(name); k++) name = `${stem}-${k}`;
  taken.add(name);
  return name;
}

/** A JPEG data URL for the report: photographic overlays are ~10× smaller than as PNG. */
async function jpegDataUrl(img: RgbImage): Promise<string> {
  const jpeg = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}
