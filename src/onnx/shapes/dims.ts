// Dimension arithmetic shared by the rule tables. A Dim is a number, a symbol ('batch') or null; any
// arithmetic on a symbol gives null unless the symbol passes through unchanged.

import type { Dim, Shape } from '../ir.ts';

export const known = (d: Dim | undefined): d is number => typeof d === 'number';

export function allKnown(s: Shape | undefined): s is readonly number[] {
  return s?.every(known) === true;
}

/** numpy broadcasting of two dims; undefined when they cannot broadcast. */
export function broadcastDim(a: Dim, b: Dim): Dim | undefined {
  if (a === 1) return b;
  if (b === 1) return a;
  if (a === b) return a;
  if (known(a) && known(b)) return undefined;
  // A known size > 1 against a symbol: the symbol must equal it (or be 1, broadcasting to it).
  if (known(a)) return a;
  if (known(b)) return b;
  return null;
}

export function broadcastShapes(shapes: readonly (Shape | undefined)[]): Shape | undefined {
  if (shapes.some((s) => s === undefined)) return undefined;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim | undefined = 1;
    for (const s of shapes) {
      // Missing leading axes count as 1; an unknown (null) dim stays unknown (`?? 1` would read it as 1).
      const at = s!.length - rank + i;
      const k = at < 0 ? 1 : s![at]!;
      d = broadcastDim(d, k);
      if (d === undefined) return undefined;
    }
    out.push(d);
  }
  return out;
}

/** Normalizes a possibly negative axis against `rank`. */
export const axis = (a: number, rank: number): number => (a < 0 ? a + rank : a);

/** Product of dims, or null if any is not a known number. */
export function product(dims: readonly Dim[]): number | null {
  let p = 1;
  for (const d of dims) {
    if (!known(d)) return null;
    p *= d;
  }
  return p;
}

/** Converts a value list to plain numbers when every element is known. */
export function numbers(v: readonly Dim[] | undefined): number[] | undefined {
  return v?.every(known) ? (v as number[]) : undefined;
}
