// Report entries from rendered explanations (render/explanation-images.ts): one panel per explanation,
// grouped by target, and the image's card. Platform-neutral: images become data URLs through the
// caller's encoder (JPEG through sharp in Node, a canvas in the browser), which also shrinks them to
// their display size (at most PANEL_MAX_SIDE pixels on the long side, render/display-size.ts); every
// box is given in the panel's own pixels.

import type { GradsightError } from '../errors.ts';
import { scaleBox } from '../eval/localization.ts';
import type { Explanation } from '../explain/explainer.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { methodById } from '../methods/table.ts';
import type { Prediction } from '../model/predict.ts';
import { displaySize, type Size } from '../render/display-size.ts';
import { detectionColor } from '../render/draw.ts';
import {
  detectionText,
  type ImageCanvas,
  type RenderedExplanation,
  scaleEdges,
} from '../render/explanation-images.ts';
import type { ReportImage, ReportPanel, ReportTarget } from './types.ts';

/** Long side of a panel image: twice the report's widest panel column, sharp on high-DPI screens. */
export const PANEL_MAX_SIDE = 460;

/**
 * Encodes `img` shrunk to `size` (its displaySize: the same aspect, never larger) as a data URL;
 * `resizeForDisplay` is the platform-neutral way to shrink it.
 */
export type ToDataUrl = (img: RgbImage, size: Size) => Promise<string>;

export async function reportPanel(
  e: Explanation,
  r: RenderedExplanation,
  canvas: ImageCanvas,
  toDataUrl: ToDataUrl,
  maxSide = PANEL_MAX_SIDE,
): Promise<ReportPanel> {
  const size = displaySize(r.plain, maxSide);
  const { stats, boxModel } = r.entry;
  return {
    method: e.method,
    title: `${methodById(e.method)?.title ?? e.method}${e.target.counterfactual ? ' (counterfactual)' : ''}`,
    image: await toDataUrl(r.plain, size),
    size,
    ...(boxModel ? { box: scaleBox(boxModel, canvas.model, size) } : {}),
    ...(e.detection
      ? {
          detection: {
            box: scaleEdges(e.detection.box, canvas.model, size),
            text: detectionText(e.detection),
            color: detectionColor(e.detection.classIndex),
          },
        }
      : {}),
    ...(e.diagnostic ? { note: `${e.diagnostic.message} — ${e.diagnostic.suggestion}` } : {}),
    ...(e.map ? { stats: `${((stats.aboveThreshold ?? 0) * 100).toFixed(0)}% of pixels ≥ 15% of max` } : {}),
  };
}

/**
 * An image's card: its thumbnail (the canvas's base image, or `thumbnail`: that image's data URL made
 * beforehand, e.g. while the model ran), predictions, and panels grouped by target.
 */
export async function reportImage(
  file: string,
  canvas: ImageCanvas,
  prediction: Prediction,
  panels: readonly { readonly explanation: Explanation; readonly panel: ReportPanel }[],
  toDataUrl: ToDataUrl,
  maxSide = PANEL_MAX_SIDE,
  thumbnail?: string,
): Promise<ReportImage> {
  const targets = new Map<string, { target: Omit<ReportTarget, 'panels'>; panels: ReportPanel[] }>();
  for (const { explanation: e, panel } of panels) {
    const key = `${e.target.description}|${e.target.counterfactual}`;
    let t = targets.get(key);
    if (!t) {
      const word = e.target.word;
      const target = {
        description: e.target.description,
        ...(e.target.probability !== undefined ? { probability: e.target.probability } : {}),
        ...(word
          ? { word: { position: word.position, text: word.words[word.position - 1] ?? e.target.label } }
          : {}),
      };
      t = { target, panels: [] };
      targets.set(key, t);
    }
    t.panels.push(panel);
  }
  const first = panels[0]?.explanation.target;
  const language = {
    ...(first?.word ? { caption: first.word.words.join(' ') } : {}),
    ...(first?.question !== undefined
      ? { question: first.question, ...(prediction.top[0] ? { answer: prediction.top[0].label } : {}) }
      : {}),
  };
  return {
    file,
    ...language,
    ...canvas.original,
    thumbnail: thumbnail ?? (await toDataUrl(canvas.base, displaySize(canvas.base, maxSide))),
    predictions: predictionEntries(prediction),
    ...(prediction.diagnostic
      ? { predictionNote: `${prediction.diagnostic.message} — ${prediction.diagnostic.suggestion}` }
      : {}),
    predictionKind: prediction.kind,
    targets: [...targets.values()].map((t) => ({ ...t.target, panels: t.panels })),
  };
}

/** A failed image's card: the error instead of predictions and panels. */
export function failedReportImage(file: string, error: GradsightError): ReportImage {
  return {
    file,
    width: 0,
    height: 0,
    predictions: [],
    predictionKind: 'classification',
    targets: [],
    error: errorEntry(error),
  };
}

export function predictionEntries(p: Prediction): { label: string; index: number; score: number }[] {
  return p.top.map((c) => ({ label: c.label, index: c.index, score: c.score }));
}

export function errorEntry(error: GradsightError): { code: string; message: string; hint?: string } {
  return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
}
