// Row repetition (CompileOptions.repeatRows): the forward pass runs once per image, the backward pass
// once per seed row, so explaining k classes of an image costs one forward.

import type { Dim, Model, ValueInfo } from '../onnx/index.ts';
import { downstreamOf } from './activity.ts';
import type { Emitter } from './emitter.ts';

/**
 * Rewrites the backward nodes to read forward tensors repeated r times along the batch axis, where
 * r = rows(seed) / rows(tensor): x [N, ...] → Unsqueeze → Expand [N, r, ...] → Reshape [N·r, ...].
 */
export function repeatForwardRows(
  e: Emitter,
  g: Model['graph'],
  shapes: ReadonlyMap<string, ValueInfo>,
  seed: string,
  /** The explained tensor's batch dim: a tensor holding this symbol on another axis (a time-major
   *  recurrent tensor [T, N, H]) is repeated along that axis. */
  batch?: Dim,
): void {
  // Float tensors with a batch axis: everything computed from the graph inputs.
  const inputs = new Set(g.inputs.map((i) => i.name));
  const forward = downstreamOf(g.nodes, [...inputs], shapes);
  const backward = [...e.nodes];
  e.enter('repeat');
  const repeated = new Map<string, string>();
  const seedRows = e.slice(e.shapeOf(seed), [0], [1], [0]);
  const axisOf = (x: string) => {
    const at = typeof batch === 'string' ? (shapes.get(x)?.shape?.indexOf(batch) ?? -1) : -1;
    return Math.max(at, 0);
  };
  const rep = (x: string): string => {
    let r = repeated.get(x);
    if (!r) {
      r = repeatToRows(e, x, seedRows, axisOf(x));
      repeated.set(x, r);
    }
    return r;
  };
  for (const node of backward) {
    // The seed already has its rows (an in-graph seed is computed from forward tensors, not repeated).
    node.input = (node.input ?? []).map((i) =>
      i !== seed && (forward.has(i) || inputs.has(i)) ? rep(i) : i,
    );
  }
}

/**
 * x [N, ...] repeated to `rows` (a [1] int64 tensor, N·k) along the batch axis, each row k times in a
 * row: Unsqueeze → Expand [N, k, ...] → Reshape [N·k, ...]. With `axis` a, x [..., N, ...] is
 * repeated there: [pre..., N, k, rest...] → [pre..., N·k, rest...].
 */
export function repeatToRows(e: Emitter, x: string, rows: string, axis = 0): string {
  const shape = e.shapeOf(x);
  const pre = axis > 0 ? [e.slice(shape, [0], [axis], [0])] : [];
  const n = e.slice(shape, [axis], [axis + 1], [0]);
  const k = e.op('Div', [rows, n]);
  const rest = e.slice(shape, [axis + 1], [Number.MAX_SAFE_INTEGER], [0]);
  const expanded = e.op('Expand', [e.unsqueeze(x, [axis + 1]), e.concat([...pre, n, k, rest], 0)]);
  return e.reshape(expanded, e.concat([...pre, e.op('Mul', [n, k]), rest], 0));
}
