// A bound on the model input's height × width. A model with free H and W runs at any size it is
// given (--size, preprocess.json, an --input tensor); activations and gradients grow with the pixels,
// so 20000×20000 exhausts memory instead of failing. The bound is checked where the size is decided.

import { GradsightError } from '../errors.ts';

/** 16 MP (4096×4096) per input unless raised (`maxInputPixels`, CLI --max-input-pixels). */
export const DEFAULT_MAX_INPUT_PIXELS = 4096 * 4096;

/** Where the size came from: it decides the error code and the hint. */
export type SizeSource = 'options' | 'file' | 'model' | 'tensor';

export function checkMaxInputPixels(max: unknown): number {
  if (!(Number.isSafeInteger(max) && (max as number) > 0)) {
    throw new GradsightError(
      'bad-argument',
      `maxInputPixels must be a positive whole number, got ${String(max)}`,
      {
        hint: `height × width of the largest input allowed (default ${DEFAULT_MAX_INPUT_PIXELS}, 4096×4096)`,
      },
    );
  }
  return max as number;
}

/** Refuses an input of more than `max` pixels, naming where its size came from and how to raise the bound. */
export function checkInputPixels(
  size: readonly [number, number],
  max: number,
  from: SizeSource,
  source?: string,
): void {
  const [h, w] = size;
  if (h * w <= max) return;
  const where =
    from === 'options'
      ? 'the input size asked for'
      : from === 'file'
        ? `the input size in ${source ?? 'preprocess.json'}`
        : from === 'tensor'
          ? 'the input tensor'
          : 'the model input';
  throw new GradsightError(
    from === 'file' ? 'bad-preprocess' : 'bad-argument',
    `${where} is ${h}×${w} = ${h * w} pixels, more than the limit of ${max}`,
    {
      hint: `give a smaller size (e.g. --size 1024x1024), or raise the limit with --max-input-pixels ${h * w} (library: maxInputPixels); memory grows with the pixels`,
      details: { height: h, width: w, max },
    },
  );
}
