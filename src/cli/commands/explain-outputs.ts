// The files `gradsight explain` writes for each image: overlay and heatmap PNGs (or the Guided
// Backprop display for pixel methods), raw maps with --save-raw, and the image's entries in
// results.json and in the report. Overlays are drawn on the image as the model saw it (resized to the
// model's input size), where the maps live.

import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import type { GradsightError } from '../../errors.ts';
import { localize } from '../../eval/localization.ts';
import type { ExplainResult, Explanation } from '../../explain/explainer.ts';
import { resizeBilinear } from '../../image/resize.ts';
import { type RgbImage, rgbImage } from '../../image/rgb-image.ts';
import { methodById } from '../../methods/table.ts';
import type { ImageModel } from '../../model/image-model.ts';
import type { ColormapId } from '../../render/colormaps.ts';
import { deprocessImage } from '../../render/deprocess.ts';
import { heatmapImage, overlay } from '../../render/overlay.ts';
import { encodePng } from '../../render/png-node.ts';
import type { ReportImage, ReportPanel, ReportTarget } from '../../report/types.ts';
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
  /** The input tensor when images were not decoded (--input). */
  readonly tensor?: Float32Tensor;
  /** Output folder names already used (two photos named cat.png in different folders). */
  readonly taken: Set<string>;
}

export async function renderImageOutputs(a: RenderArgs): Promise<ExplainedImage[]> {
  const out: ExplainedImage[] = [];
  const [height, width] = a.model.preprocess.size;
  for (const [i, item] of a.items.entries()) {
    const display = item.image
      ? resizeBilinear(item.image, width, height)
      : fromTensor(a.tensor!, i, a.model);
    const folder = uniqueFolder(a.taken, item.file);
    await mkdir(join(a.out, folder), { recursive: true });
    const explanations = a.result.explanations.filter((e) => e.image === i);
    const prediction = a.result.predictions[i]!;
    const entries: unknown[] = [];
    const targets = new Map<string, { target: ReportTarget; panels: ReportPanel[] }>();
    const slugs = new Set<string>();
    for (const e of explanations) {
      let slug = `${e.method}${e.target.counterfactual ? '-counterfactual' : ''}_${targetSlug(e)}`;
      for (let k = 2; slugs.has(slug); k++) slug = `${slug}-${k}`;
      slugs.add(slug);
      const files: Record<string, string> = {};
      let shown: RgbImage;
      let box: ReturnType<typeof localize>['box'];
      let stats: Record<string, number> = {};
      if (e.map) {
        shown = overlay(display, e.map, { colormap: a.colormap, alpha: a.alpha });
        const heat = heatmapImage({ width, height, data: e.map }, a.colormap);
        files.heatmap = join(folder, `${slug}.heatmap.png`);
        await writeFile(join(a.out, files.heatmap), await encodePng(heat));
        const l = localize(e.map, width, height);
        box = l.box;
        stats = {
          ...mapStats(e.map),
          aboveThreshold: l.abovePixels / e.map.length,
          segmentPixels: l.segmentPixels,
        };
        if (a.saveRaw) {
          files.raw = join(folder, `${slug}.npy`);
          await writeNpy(join(a.out, files.raw), { dtype: 'float32', dims: [height, width], data: e.map });
        }
      } else {
        shown = deprocessImage(e.pixels!, { width, height });
        stats = mapStats(e.pixels!);
        if (a.saveRaw) {
          files.raw = join(folder, `${slug}.npy`);
          await writeNpy(join(a.out, files.raw), {
            dtype: 'float32',
            dims: [3, height, width],
            data: e.pixels!,
          });
        }
      }
      const png = await encodePng(shown);
      files.image = join(folder, `${slug}.png`);
      await writeFile(join(a.out, files.image), png);
      entries.push({
        method: e.method,
        target: e.target,
        layers: e.layers,
        files,
        stats,
        ...(box ? { box } : {}),
        ...(e.diagnostic ? { diagnostic: e.diagnostic } : {}),
      });
      const key = `${e.target.description}|${e.target.counterfactual}`;
      let t = targets.get(key);
      if (!t) {
        const target: ReportTarget = {
          description: e.target.description,
          ...(e.target.probability !== undefined ? { probability: e.target.probability } : {}),
          panels: [],
        };
        t = { target, panels: [] };
        targets.set(key, t);
      }
      t.panels.push({
        method: e.method,
        title: `${methodById(e.method)?.title ?? e.method}${e.target.counterfactual ? ' (counterfactual)' : ''}`,
        image: await dataUrl(shown),
        size: { width, height },
        ...(box ? { box } : {}),
        ...(e.diagnostic ? { note: `${e.diagnostic.message} — ${e.diagnostic.suggestion}` } : {}),
        ...(e.map
          ? { stats: `${((stats.aboveThreshold ?? 0) * 100).toFixed(0)}% of pixels ≥ 15% of max` }
          : {}),
      });
    }
    const thumbnail = await dataUrl(display);
    const predictions = prediction.top.map((c) => ({ label: c.label, index: c.index, score: c.score }));
    out.push({
      file: item.file,
      explanations,
      json: { file: item.file, folder, predictions, explanations: entries },
      report: {
        file: item.file,
        width: item.image?.width ?? width,
        height: item.image?.height ?? height,
        thumbnail,
        predictions,
        predictionKind: prediction.kind,
        targets: [...targets.values()].map((t) => ({ ...t.target, panels: t.panels })),
      },
    });
  }
  return out;
}

/** A failed image's entries in results.json and the report. */
export function failedImage(file: string, error: GradsightError): ExplainedImage {
  const err = { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  return {
    file,
    error,
    json: { file, error: err },
    report: {
      file,
      width: 0,
      height: 0,
      predictions: [],
      predictionKind: 'classification',
      targets: [],
      error: err,
    },
  };
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

function mapStats(m: Float32Array): Record<string, number> {
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
  return { min, max, mean: sum / m.length, argmax };
}

/** A JPEG data URL for the report: photographic overlays are ~10× smaller than as PNG. */
async function dataUrl(img: RgbImage): Promise<string> {
  const jpeg = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

/** The model input of row i turned back into pixels (undoing mean/std and the scale). */
function fromTensor(t: Float32Tensor, i: number, model: ImageModel): RgbImage {
  const p = model.preprocess;
  const [h, w] = p.size;
  const plane = h * w;
  const data = new Uint8Array(plane * 3);
  const base = i * plane * 3;
  const scale = p.scale === '0-1' ? 255 : 1;
  for (let c = 0; c < 3; c++) {
    const dst = p.channelOrder === 'BGR' ? 2 - c : c;
    for (let k = 0; k < plane; k++) {
      const v = p.layout === 'NCHW' ? t.data[base + c * plane + k]! : t.data[base + k * 3 + c]!;
      data[k * 3 + dst] = Math.max(0, Math.min(255, Math.round((v * p.std[c]! + p.mean[c]!) * scale)));
    }
  }
  return rgbImage(w, h, data);
}
