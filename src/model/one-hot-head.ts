// The classifier head's backward under a one-hot seed (an in-graph top-k selection, target-graph.ts):
// dX = dY·W with each row of dY one-hot at class c is row c of W, so the dense product — a GEMV that
// reads every weight, 5 MB for MobileNetV2's 1001×1280 head, per run — becomes a Gather of the chosen
// rows. Bit for bit the same: each product term is 1·w or 0·w and the zeros add nothing (a weight
// that is ±Inf or NaN would make the product NaN; the Gather keeps it as it is).
//
// Recognised on the backward nodes, where the seed is read:
//   Gemm(seed, W) with W an initializer [classes, D], transA = transB = 0, alpha 1, no C → Gather(W, c)
//   Conv(Reshape(seed), Transpose(W)) with W an initializer [classes, D, 1, 1] (a 1×1 convolution
//   head on a 1×1 map: the seed reshaped to [rows, classes, 1, 1]), group 1, no pads → Gather(W, c)
// Anything else is left as the rules emitted it.

import type { MessageInitShape } from '@bufbuild/protobuf';
import type { AttributeProtoSchema, NodeProtoSchema } from 'onnx-buf';
import type { Emitter } from '../autodiff/index.ts';
import type { Model } from '../onnx/index.ts';

type NodeInit = MessageInitShape<typeof NodeProtoSchema>;
type AttrInit = MessageInitShape<typeof AttributeProtoSchema>;

/** A seed made in the graph as one-hot rows: row r is ±1 at class indices[r] (row-major [N, k]). */
export interface OneHotSeed {
  readonly seed: string;
  /** int64 [N, k]: the class of each seed row, in the seed's row order. */
  readonly indices: string;
  /** The seed is −1 at the class (a counterfactual selection). */
  readonly negate: boolean;
}

/**
 * `nodes` with each classifier-head product that reads the one-hot seed replaced by a Gather of the
 * weight rows (new nodes emitted with `e`); how many were replaced is returned too.
 */
export function gatherOneHotHead(
  nodes: readonly NodeInit[],
  model: Model,
  s: OneHotSeed,
  e: Emitter,
): { readonly nodes: NodeInit[]; readonly replaced: number } {
  const consumers = (t: string) => nodes.filter((n) => (n.input ?? []).includes(t));
  const producer = (t: string) => nodes.find((n) => (n.output ?? []).includes(t));
  const dims = (name: string) => model.graph.initializers.get(name)?.dims;
  const drop = new Set<NodeInit>();
  const add: NodeInit[] = [];
  let classes: string | undefined;
  const rowsGathered = (w: string, out: string) => {
    const mark = e.nodes.length;
    classes ??= e.op('Reshape', [s.indices, e.constI64([-1])]);
    const g = e.op('Gather', [w, classes], { axis: { i: 0 } });
    if (s.negate) e.op('Neg', [g]);
    // The last node writes the replaced node's output itself.
    e.nodes[e.nodes.length - 1]!.output = [out];
    add.push(...e.nodes.splice(mark));
  };
  for (const n of consumers(s.seed)) {
    if (n.opType === 'Gemm' && n.input?.[0] === s.seed && isPlainGemm(n)) {
      const w = n.input[1]!;
      const d = dims(w);
      if (d?.length === 2 && (n.input.length < 3 || !n.input[2])) {
        rowsGathered(w, n.output![0]!);
        drop.add(n);
      }
      continue;
    }
    if (n.opType !== 'Reshape' || n.input?.[0] !== s.seed) continue;
    const reshaped = n.output![0]!;
    const readers = consumers(reshaped);
    const conv = readers[0];
    if (readers.length !== 1 || conv?.opType !== 'Conv' || conv.input?.[0] !== reshaped) continue;
    if ((conv.input.length > 2 && conv.input[2]) || !isPointwiseConv(conv)) continue;
    const transpose = producer(conv.input[1]!);
    if (transpose?.opType !== 'Transpose' || !sameInts(ints(transpose, 'perm'), [1, 0, 2, 3])) continue;
    const w = transpose.input![0]!;
    const d = dims(w);
    if (d?.length !== 4 || d[2] !== 1 || d[3] !== 1) continue;
    rowsGathered(w, conv.output![0]!);
    drop.add(conv);
    drop.add(n);
    if (consumers(conv.input[1]!).length === 1) drop.add(transpose);
  }
  if (drop.size === 0) return { nodes: [...nodes], replaced: 0 };
  // The Gathers go where the first replaced node was: before every reader of its output.
  const at = nodes.findIndex((n) => drop.has(n));
  const kept = nodes.filter((n) => !drop.has(n));
  const before = nodes.slice(0, at).filter((n) => !drop.has(n)).length;
  return {
    nodes: [...kept.slice(0, before), ...add, ...kept.slice(before)],
    replaced: [...drop].filter((n) => n.opType !== 'Reshape' && n.opType !== 'Transpose').length,
  };
}

function attr(n: NodeInit, name: string): AttrInit | undefined {
  return (n.attribute ?? []).find((a) => a.name === name);
}

function ints(n: NodeInit, name: string): number[] | undefined {
  const a = attr(n, name);
  return a?.ints ? a.ints.map(Number) : undefined;
}

function int(n: NodeInit, name: string, fallback: number): number {
  const a = attr(n, name);
  return a?.i === undefined ? fallback : Number(a.i);
}

const sameInts = (a: readonly number[] | undefined, b: readonly number[]) =>
  a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);

/** Y = seed · W: no transposes, alpha 1 (beta does not matter without C). */
function isPlainGemm(n: NodeInit): boolean {
  const alpha = attr(n, 'alpha');
  return int(n, 'transA', 0) === 0 && int(n, 'transB', 0) === 0 && (alpha?.f === undefined || alpha.f === 1);
}

/** A 1×1 convolution over all channels with no padding, stride or dilation. */
function isPointwiseConv(n: NodeInit): boolean {
  const ones = (name: string) => (ints(n, name) ?? []).every((v) => v === 1);
  const zeros = (ints(n, 'pads') ?? []).every((v) => v === 0);
  const pad = attr(n, 'auto_pad');
  const autoPad = pad?.s === undefined ? 'NOTSET' : new TextDecoder().decode(pad.s as Uint8Array);
  return (
    int(n, 'group', 1) === 1 &&
    ones('strides') &&
    ones('dilations') &&
    zeros &&
    (autoPad === 'NOTSET' || autoPad === 'VALID') &&
    (ints(n, 'kernel_shape') ?? [1, 1]).every((v) => v === 1)
  );
}
