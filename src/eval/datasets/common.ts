// Helpers every reader shares: typed errors naming the file (and line) at fault, image file names,
// box checks, and sample assembly (unique labels in first-seen order).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { GradsightError } from '../../errors.ts';
import type { Box } from '../localization.ts';
import type { LabelledBox } from './types.ts';

/** File extensions read as images (the formats decodeImageFile reads). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.bmp', '.avif'];

export const isImageName = (name: string): boolean =>
  !name.startsWith('.') && IMAGE_EXTENSIONS.some((e) => name.toLowerCase().endsWith(e));

/** Code-unit order: the same on every machine and locale (localeCompare is not). */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function datasetInvalid(message: string, hint: string, details: Record<string, unknown> = {}) {
  return new GradsightError('dataset-invalid', message, { hint, details });
}

/** A malformed annotation; `where` names the file (and line or entry). */
export function annotationInvalid(where: string, what: string, hint?: string, cause?: unknown) {
  return new GradsightError('annotation-invalid', `${where}: ${what}`, {
    hint: hint ?? 'Fix the annotation (or drop the sample from the dataset) and rerun.',
    details: { source: where },
    cause,
  });
}

/** Throws 'dataset-image-missing' unless `path` is an existing file; `where` names who lists it. */
export function checkImageExists(path: string, where: string): void {
  if (existsSync(path) && statSync(path).isFile()) return;
  throw new GradsightError(
    'dataset-image-missing',
    `${where} lists the image ${path}, which does not exist`,
    {
      hint: 'Check the image path (relative paths are relative to the file that lists them), or remove the entry.',
      details: { source: where, image: path },
    },
  );
}

/**
 * Checks an inclusive pixel box: whole numbers, x0 ≤ x1, y0 ≤ y1, and inside a width × height image
 * when the size is known.
 */
export function checkBox(box: Box, where: string, size?: { width: number; height: number }): Box {
  const { x0, y0, x1, y1 } = box;
  const text = `box [${x0}, ${y0}, ${x1}, ${y1}]`;
  if (![x0, y0, x1, y1].every(Number.isSafeInteger)) {
    throw annotationInvalid(where, `${text} has a coordinate that is not a whole number of pixels`);
  }
  if (x1 < x0 || y1 < y0) {
    throw annotationInvalid(where, `${text} is inverted (x1 < x0 or y1 < y0)`, 'A box is x0 ≤ x1, y0 ≤ y1.');
  }
  if (x0 < 0 || y0 < 0 || (size && (x1 >= size.width || y1 >= size.height))) {
    const bounds = size ? `the ${size.width}×${size.height} image` : 'the image (negative coordinate)';
    throw annotationInvalid(
      where,
      `${text} lies outside ${bounds}`,
      'Boxes are inclusive pixel coordinates inside the image: 0 ≤ x0 ≤ x1 < width, 0 ≤ y0 ≤ y1 < height.',
    );
  }
  return box;
}

/** Unique labels: the given ones first, then those of boxes, in first-seen order. */
export function uniqueLabels(labels: readonly string[], boxes: readonly LabelledBox[] = []): string[] {
  return [...new Set([...labels, ...boxes.map((b) => b.label)])];
}

/** Dataset classes in first-seen order over all samples. */
export function collectClasses(perSample: Iterable<readonly string[]>): string[] {
  const seen = new Set<string>();
  for (const labels of perSample) for (const l of labels) seen.add(l);
  return [...seen];
}

/** Parses a JSON file; bad JSON is an 'annotation-invalid' error naming the file. */
export function readJsonFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw annotationInvalid(
      path,
      `is not valid JSON (${e instanceof Error ? e.message : String(e)})`,
      undefined,
      e,
    );
  }
}
