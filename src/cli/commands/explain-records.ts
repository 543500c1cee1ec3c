// What `gradsight explain` records of an image without drawing it: its folder's name under --out and,
// for an image that failed, its entries in results.json and in the report. Apart from the drawing
// (explain-outputs.ts) so that the main thread, which only names folders and records failures while
// the image worker draws, never loads the image library.

import { basename, extname } from 'node:path';
import type { GradsightError } from '../../errors.ts';
import type { Explanation } from '../../explain/explainer.ts';
import { uniqueName } from '../../io/output-names.ts';
import { errorEntry, failedReportImage } from '../../report/panels.ts';
import type { ReportImage } from '../../report/types.ts';

export interface ExplainedImage {
  readonly file: string;
  readonly error?: GradsightError;
  readonly explanations?: readonly Explanation[];
  readonly json: unknown;
  readonly report: ReportImage;
}

export function failedImage(file: string, error: GradsightError): ExplainedImage {
  return { file, error, json: { file, error: errorEntry(error) }, report: failedReportImage(file, error) };
}

/** Names of the files results.json sits beside: no image folder may take them. */
const TOP_LEVEL_FILES = ['results.json', 'report.html'];

/**
 * A folder name for `file` not yet in `taken` (two photos named cat.png in different folders): one
 * safe path segment under --out whatever the image is called (io/output-names.ts).
 */
export function uniqueFolder(taken: Set<string>, file: string): string {
  return uniqueName(taken, basename(file, extname(file)), 'image', TOP_LEVEL_FILES);
}
