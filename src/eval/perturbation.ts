// Scoring a model on modified copies of one input: the perturbation behind Score-CAM (the input
// masked by each channel), Ablation-CAM (the layer with one channel ablated) and layer ranking (the
// input masked by each layer's map), as pytorch-grad-cam's metrics/perturbation_confidence.py
// serves its metrics. A perturbation is `count` variants made a batch at a time and scored by one
// run per batch; the batch is the largest whose memory fits a budget, estimated from the static
// shapes of the tensors one variant needs (its input plus the peak of the activations alive at once
// while the model runs it).

import { byteSize, type Graph, type ValueInfo } from '../onnx/index.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';

/** Default memory for one batch of variants: inputs plus activations (256 MiB). */
export const DEFAULT_PERTURBATION_BUDGET = 256 * 2 ** 20;

export interface Perturbation {
  /** How many variants. */
  readonly count: number;
  /** Variants per run (see batchWithin). */
  readonly batch: number;
  /** Variants [start, start + n) as one batch [n, ...]. */
  make(start: number, n: number): Float32Tensor | Promise<Float32Tensor>;
  /** The scored tensor of a batch, [n, ...]. */
  run(batch: Float32Tensor): Promise<Float32Tensor>;
  /** The scalar of one variant from its row of the scored tensor. */
  score(row: Float32Array): number;
}

/** One score per variant, in order. */
export async function scorePerturbation(p: Perturbation): Promise<Float32Array> {
  const scores = new Float32Array(p.count);
  for (let start = 0; start < p.count; start += p.batch) {
    const n = Math.min(p.batch, p.count - start);
    const out = await p.run(await p.make(start, n));
    const k = out.data.length / n;
    for (let i = 0; i < n; i++) scores[start + i] = p.score(out.data.subarray(i * k, (i + 1) * k));
  }
  return scores;
}

/**
 * Variants per batch: the largest number whose `rowBytes` fit in `budget` (at least 1, at most
 * `count`); 1 for a model exported with batch 1 (its reshapes often hard-code it).
 */
export function batchWithin(budget: number, rowBytes: number, count: number, fixedBatch = false): number {
  if (fixedBatch) return 1;
  const fit = rowBytes > 0 ? Math.floor(budget / rowBytes) : count;
  return Math.max(1, Math.min(count, fit));
}

/**
 * ONNX Runtime's CPU arena holds more than the tensors alive at once: layout reorders (NCHWc copies
 * of convolution inputs and outputs), fused kernels' scratch, and an arena that grows in powers of
 * two. Measured on the shared MobileNetV2, peak RSS grew by 13–18 MB per masked input against an
 * estimate of 9.2 MB of live tensors; the runtime's share is counted twice.
 */
export const RUNTIME_MEMORY_FACTOR = 2;

/**
 * Bytes one variant costs in a run of `graph` from the tensors `from`: the runtime's share
 * (RUNTIME_MEMORY_FACTOR × peakRowBytes) plus `heldBytes`, what the caller holds per variant (the
 * variant itself as made in JS).
 */
export function variantBytes(
  graph: Graph,
  shapes: ReadonlyMap<string, ValueInfo>,
  from: readonly string[],
  heldBytes: number,
): number {
  return RUNTIME_MEMORY_FACTOR * peakRowBytes(graph, shapes, from) + heldBytes;
}

/** Bytes of one batch row of a tensor; 0 when its shape (past the batch axis) is not static. */
function rowBytesOf(info: ValueInfo | undefined): number {
  const shape = info?.shape;
  if (!shape || !info.dtype) return 0;
  let n = byteSize(info.dtype);
  for (const [i, d] of shape.entries()) {
    if (typeof d === 'number') n *= i === 0 ? 1 : d;
    else if (i !== 0) return 0;
  }
  return n;
}

/**
 * Peak bytes per batch row of the tensors alive at once when `graph` runs from the tensors `from`
 * (the variant's input), in topological order: a node's outputs are allocated, then every tensor it
 * read for the last time is freed. Only nodes downstream of `from` count; weights do not (they do not
 * grow with the batch). Tensors of unknown shape count 0, so this is an estimate, not a bound.
 */
export function peakRowBytes(
  graph: Graph,
  shapes: ReadonlyMap<string, ValueInfo>,
  from: readonly string[],
): number {
  const downstream = new Set(from);
  const lastUse = new Map<string, number>();
  const nodes = graph.nodes.filter((n) => {
    if (!n.inputs.some((i) => downstream.has(i))) return false;
    for (const o of n.outputs) downstream.add(o);
    return true;
  });
  nodes.forEach((n, k) => {
    for (const i of n.inputs) if (downstream.has(i)) lastUse.set(i, k);
  });
  const outputs = new Set(graph.outputs.map((o) => o.name));
  let live = from.reduce((s, t) => s + rowBytesOf(shapes.get(t)), 0);
  let peak = live;
  nodes.forEach((n, k) => {
    for (const o of n.outputs) live += rowBytesOf(shapes.get(o));
    peak = Math.max(peak, live);
    for (const i of new Set(n.inputs)) {
      if (lastUse.get(i) === k && !outputs.has(i)) live -= rowBytesOf(shapes.get(i));
    }
  });
  return peak;
}
