// The pictures of the eval report's galleries (Node): the few images the aggregation picked (best,
// worst, misclassified) explained again with every method, drawn small and encoded as JPEG data URLs;
// a misclassified image shows its predicted class, its true class and their contrast (failures.ts).
// Only these images are revisited, one at a time, so a run of any size keeps no pictures in memory.

import type { Explainer } from '../../explain/explainer.ts';
import { decodeImageFile } from '../../image/decode-node.ts';
import type { ImageFileOptions } from '../../image/limits.ts';
import type { RgbImage } from '../../image/rgb-image.ts';
import { methodById } from '../../methods/table.ts';
import type { MethodId } from '../../methods/types.ts';
import { jpegDataUrl } from '../../render/data-url-node.ts';
import { displaySize } from '../../render/display-size.ts';
import { imageCanvas, renderExplanation } from '../../render/explanation-images.ts';
import type { EvalResults } from '../aggregate.ts';
import type { EvalDataset } from '../datasets/types.ts';
import { explainFailures } from '../metrics/failures.ts';
import { classesOf } from '../run-image.ts';
import { indexedSamples } from '../samples.ts';
import type { GalleryImage } from './html.ts';

/** Long side of a gallery picture (twice its displayed 96 px, sharp on high-DPI screens). */
export const GALLERY_SIDE = 192;
/** Misclassified images shown with pictures (the list names up to 100). */
export const MISCLASSIFIED_PICTURES = 12;

export interface GalleryOptions {
  readonly methods: readonly MethodId[];
  readonly layers?: readonly string[];
  readonly classes: ReadonlyMap<string, readonly number[]>;
  readonly datasetOf: ReadonlyMap<number, string>;
  readonly decode?: ImageFileOptions;
}

export interface GalleryPictures {
  /** The best and worst images, each method's map of its (first) true class. */
  readonly gallery: Map<number, GalleryImage>;
  /** Misclassified images: predicted, true and their contrast per method. */
  readonly failures: Map<number, GalleryImage>;
}

/** The gallery pictures of `results`, by sample index; an image that fails now is left out. */
export async function galleryImages(
  explainer: Explainer,
  dataset: EvalDataset,
  results: EvalResults,
  o: GalleryOptions,
): Promise<GalleryPictures> {
  const best = new Set(
    [...(results.gallery?.best ?? []), ...(results.gallery?.worst ?? [])].map((e) => e.index),
  );
  const failed = new Set(results.misclassified.slice(0, MISCLASSIFIED_PICTURES).map((m) => m.index));
  const out: GalleryPictures = { gallery: new Map(), failures: new Map() };
  if (!best.size && !failed.size) return out;
  const last = Math.max(...best, ...failed);
  for (const { index, sample } of indexedSamples(dataset)) {
    if (index > last) break;
    if (!best.has(index) && !failed.has(index)) continue;
    try {
      const image = await decodeImageFile(sample.image, o.decode ?? {});
      if (failed.has(index)) {
        const pictured = await failurePictures(explainer, image, sample.labels, o);
        if (pictured) out.failures.set(index, pictured);
      }
      if (!best.has(index)) continue;
      const { explained } = await classesOf(explainer, image, sample, o.classes, o.datasetOf);
      const c = explained.find((x) => x.truth) ?? explained[0];
      if (c) out.gallery.set(index, await pictures(explainer, image, c.classIndex, o));
    } catch {
      // The record already says what this image gave; a picture that cannot be made now is skipped.
    }
  }
  return out;
}

async function pictures(
  explainer: Explainer,
  image: RgbImage,
  classIndex: number,
  o: GalleryOptions,
): Promise<GalleryImage> {
  const canvas = imageCanvas({ image }, explainer.model.preprocess, 'model');
  const overlays: { method: string; title: string; image: string }[] = [];
  for (const method of o.methods) {
    try {
      const r = await explainer.explain(image, {
        method,
        // A segmentation model explains a class as its region, as the run did (run.ts).
        target:
          explainer.model.description.task.kind === 'segmentation' ? `region:${classIndex}` : classIndex,
        ...(o.layers?.length ? { layers: o.layers } : {}),
      });
      const e = r.explanations[0];
      if (!e) continue;
      const drawn = renderExplanation(e, canvas, { colormap: 'jet', alpha: 0.5 });
      overlays.push({
        method,
        title: methodById(method)?.title ?? method,
        image: await galleryUrl(drawn.plain),
      });
    } catch {
      // A method that does not apply (CAM without a GAP head) has no picture, as it has no values.
    }
  }
  return { thumbnail: await galleryUrl(canvas.base), overlays };
}

/**
 * A misclassified image as the Grad-CAM paper's failure analysis shows it (metrics/failures.ts): per
 * method, the predicted class, the true class and their contrast `predicted-vs-true`, side by side.
 */
async function failurePictures(
  explainer: Explainer,
  image: RgbImage,
  labels: readonly string[],
  o: GalleryOptions,
): Promise<GalleryImage | undefined> {
  const trueClasses = [...new Set(labels.flatMap((l) => o.classes.get(l) ?? []))];
  if (!trueClasses.length) return undefined;
  const [failure] = await explainFailures(explainer, [image], [trueClasses], {
    methods: o.methods,
    ...(o.layers?.length ? { explain: { layers: o.layers } } : {}),
  });
  if (!failure) return undefined;
  const canvas = imageCanvas({ image }, explainer.model.preprocess, 'model');
  const overlays: { method: string; title: string; image: string }[] = [];
  for (const p of failure.panels) {
    const drawn = renderExplanation(p.explanation, canvas, { colormap: 'jet', alpha: 0.5 });
    // The first synonym of a label ("hog, pig, grunter" -> "hog") keeps the caption short.
    const short = (l: string) => l.split(',')[0]!.trim();
    const role =
      p.role === 'contrast'
        ? `${short(failure.predictedLabel)}-vs-${short(failure.trueLabel)}`
        : `${p.role}: ${short(p.label)}`;
    overlays.push({
      method: p.method,
      title: `${methodById(p.method)?.title ?? p.method}, ${role}`,
      image: await galleryUrl(drawn.plain),
    });
  }
  return { thumbnail: await galleryUrl(canvas.base), overlays };
}

/** A gallery image: shrunk to GALLERY_SIDE, JPEG at quality 80. */
const galleryUrl = (img: RgbImage) => jpegDataUrl(img, displaySize(img, GALLERY_SIDE), 80);
