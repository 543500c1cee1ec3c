// A dataset's samples with their indices, and the errors that belong to one image (recorded in its
// place, the run going on) rather than to the run.

import { isGradsightError } from '../errors.ts';
import type { EvalDataset, EvalSample } from './datasets/types.ts';

/** Errors of one image or its annotation: recorded, and the run goes on. */
export const SAMPLE_ERRORS: ReadonlySet<string> = new Set([
  'bad-image',
  'file-not-found',
  'file-unreadable',
  'file-too-large',
  'not-a-regular-file',
  'dataset-image-missing',
  'annotation-invalid',
  'non-finite',
]);

export const isSampleError = (e: unknown): boolean => isGradsightError(e) && SAMPLE_ERRORS.has(e.code);

export interface IndexedSample {
  readonly index: number;
  readonly sample: EvalSample;
}

/**
 * The samples in order with their 0-based index. The readers are generators: a sample that throws when
 * reached (a manifest box outside its image) ends the iteration, and no restart can get past it, so
 * that error ends the run (typed, naming the annotation) rather than leaving the samples after it
 * silently unevaluated. Errors of a sample's image (decoding it) are per image: the runner records
 * those and goes on.
 */
export function* indexedSamples(dataset: EvalDataset): Generator<IndexedSample> {
  let index = 0;
  for (const sample of dataset.samples()) yield { index: index++, sample };
}
