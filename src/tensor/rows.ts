// Rows of batched tensors (slices along axis 0), for any dtype: slice, select, repeat and concatenate.
// The one home for batch bookkeeping: fixed-batch models run row by row, target rows repeat their
// image's input and extra feeds, variants of one row are scored in batches.

import type { Tensor, TypedArray } from './tensor.ts';

/** Named tensors fed together (the image input and any extra inputs), each batched along axis 0. */
export type Feeds = Readonly<Record<string, Tensor>>;

function rowSize(t: Tensor): number {
  const n = t.dims[0] ?? 1;
  return n === 0 ? 0 : t.data.length / n;
}

function alloc(like: TypedArray, length: number): TypedArray {
  const Ctor = like.constructor as new (n: number) => TypedArray;
  return new Ctor(length);
}

/** Rows [start, start + count) of t (a view, no copy). */
export function sliceRows<T extends Tensor>(t: T, start: number, count: number): T {
  const size = rowSize(t);
  return {
    ...t,
    dims: [count, ...t.dims.slice(1)],
    data: t.data.subarray(start * size, (start + count) * size),
  } as T;
}

/** The rows of t at `indices`, in that order (repeats allowed). */
export function selectRows<T extends Tensor>(t: T, indices: readonly number[]): T {
  const size = rowSize(t);
  const out = alloc(t.data, indices.length * size);
  indices.forEach((r, i) => {
    // biome-ignore lint/suspicious/noExplicitAny: typed arrays of one kind copy into each other
    (out as any).set(t.data.subarray(r * size, (r + 1) * size), i * size);
  });
  return { ...t, dims: [indices.length, ...t.dims.slice(1)], data: out } as T;
}

/** Each row of t repeated r times, consecutively. */
export function repeatRows<T extends Tensor>(t: T, r: number): T {
  if (r === 1) return t;
  const n = t.dims[0]!;
  return selectRows(
    t,
    Array.from({ length: n * r }, (_, i) => Math.floor(i / r)),
  );
}

/** Concatenation along axis 0 of tensors with the same dtype and row dims. */
export function concatRows<T extends Tensor>(parts: readonly T[]): T {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const rows = parts.reduce((n, p) => n + p.dims[0]!, 0);
  const out = alloc(
    first.data,
    parts.reduce((n, p) => n + p.data.length, 0),
  );
  let offset = 0;
  for (const p of parts) {
    // biome-ignore lint/suspicious/noExplicitAny: same dtype by contract
    (out as any).set(p.data, offset);
    offset += p.data.length;
  }
  return { ...first, dims: [rows, ...first.dims.slice(1)], data: out } as T;
}

/** Every feed's rows at `indices`. */
export function selectFeeds(feeds: Feeds, indices: readonly number[]): Feeds {
  return Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, selectRows(t, indices)]));
}

export function sliceFeeds(feeds: Feeds, start: number, count: number): Feeds {
  return Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, sliceRows(t, start, count)]));
}
