// Reading small constant tensors as Dim lists, the form shape inference folds.

import type { Dim, Initializer } from '../ir.ts';

/** Tensors larger than this are weights, not shape vectors; their values are never read. */
export const MAX_FOLDED_ELEMENTS = 64;

export function smallValue(t: Initializer): Dim[] | undefined {
  if (t.external || t.dtype === 'string' || t.dtype === 'float16' || t.dtype === 'bfloat16') return undefined;
  if (t.dims.reduce((a, b) => a * b, 1) > MAX_FOLDED_ELEMENTS) return undefined;
  return Array.from(t.values() as ArrayLike<number | bigint>, (v) => Number(v));
}
