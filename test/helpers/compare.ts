// Comparing a float32 gradient with a reference, allowing for "decision flips": float32 sums in a
// different order can put a pre-activation that lies within ~1e-7 of a ReLU kink on the other side,
// which changes the gradient in that unit's receptive field only (PyTorch does this between float32
// and float64 too). Such a comparison must still agree to 1e-4 on 95% of the elements with cosine ≥
// 0.9999.

export interface Comparison {
  /** max |Δ| / max |ref|. */
  readonly rel: number;
  /** Elements with |Δ| > 1e-4 · max |ref|. */
  readonly outliers: number;
  readonly cosine: number;
  readonly size: number;
}

export function compareGradients(got: ArrayLike<number>, ref: ArrayLike<number>): Comparison {
  if (got.length !== ref.length) throw new Error(`length ${got.length} vs ${ref.length}`);
  let max = 0;
  let dot = 0;
  let ng = 0;
  let nr = 0;
  for (let i = 0; i < ref.length; i++) {
    max = Math.max(max, Math.abs(ref[i]!));
    dot += got[i]! * ref[i]!;
    ng += got[i]! * got[i]!;
    nr += ref[i]! * ref[i]!;
  }
  let worst = 0;
  let outliers = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i]! - ref[i]!);
    worst = Math.max(worst, d);
    if (d > 1e-4 * max) outliers++;
  }
  return {
    rel: max === 0 ? worst : worst / max,
    outliers,
    cosine: dot / Math.sqrt(ng * nr || 1),
    size: ref.length,
  };
}

/** Exact to 1e-4, or a few isolated decision flips (see the header). */
export function agrees(c: Comparison): boolean {
  return c.rel <= 1e-4 || (c.outliers <= c.size * 0.05 && c.cosine >= 0.9999);
}
