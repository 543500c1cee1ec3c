// The model as a target sees it: the inference graph with the target's head appended (T = head(X)),
// so that forward runs give X and T, and gradient models differentiate T exactly. Without a head,
// T is X. Appending never re-encodes the forward graph; the head's shapes are inferred on the head
// alone, from X's shape.

import { create, fromBinary } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import { Emitter, ONNX_FLOAT } from '../autodiff/emitter.ts';
import { GradsightError } from '../errors.ts';
import {
  appendGraphOutputs,
  appendGraphPatch,
  encodeGraphPatch,
  type GraphPatch,
  inferShapes,
  type Model,
  modelFromProto,
  tensorValueInfo,
  type ValueInfo,
  withGraphPatch,
} from '../onnx/index.ts';
import type { TargetHead } from '../targets/head.ts';

/** A serialized model, its IR and the shapes of its tensors: what a gradient model is compiled from. */
export interface GraphSource {
  readonly bytes: Uint8Array;
  readonly model: Model;
  readonly shapes: ReadonlyMap<string, ValueInfo>;
}

export interface TargetGraph extends GraphSource {
  /** Cache key: the read tensor and the head. */
  readonly key: string;
  /** The tensor the target reads (X). */
  readonly reads: string;
  /** The differentiated tensor T (X itself without a head). */
  readonly explained: string;
  /** Serialized model whose outputs include X and T (for forward runs). */
  readonly forwardBytes: Uint8Array;
}

export function targetGraph(base: GraphSource, reads: string, head: TargetHead | undefined): TargetGraph {
  const xInfo = base.shapes.get(reads);
  if (!xInfo?.shape) {
    throw new GradsightError('shape-inference', `the shape of ${reads} is unknown`, {
      hint: 'give the input size (e.g. --size 224) so every shape can be inferred',
      details: { tensor: reads },
    });
  }
  const isOutput = (m: Model, t: string) => m.graph.outputs.some((o) => o.name === t);
  if (!head) {
    return {
      ...base,
      key: `${reads}|`,
      reads,
      explained: reads,
      forwardBytes: isOutput(base.model, reads) ? base.bytes : appendGraphOutputs(base.bytes, [reads]),
    };
  }
  const opset = base.model.opsets.get('') ?? base.model.opsets.get('ai.onnx') ?? 13;
  const e = new Emitter(opset, 'gradsight/head');
  e.enter(head.key.replace(/[^A-Za-z0-9_.:-]/g, '_'));
  const t = head.build(e, reads, xInfo.shape);
  const headShapes = inferHead(base.model, e, reads, xInfo, t);
  const tShape = headShapes.get(t)?.shape;
  if (!tShape) {
    throw new GradsightError(
      'shape-inference',
      `the shape of the ${head.description} head's output is unknown`,
      {
        hint: 'this is a bug in the target head; please report it with the model',
      },
    );
  }
  const patch: GraphPatch = {
    node: e.nodes,
    initializer: e.initializers,
    output: [
      tensorValueInfo(t, ONNX_FLOAT, tShape),
      ...(isOutput(base.model, reads) ? [] : [tensorValueInfo(reads, ONNX_FLOAT, xInfo.shape)]),
    ],
  };
  const bytes = appendGraphPatch(base.bytes, patch);
  return {
    bytes,
    model: withGraphPatch(base.model, patch),
    shapes: new Map([...base.shapes, ...headShapes]),
    key: `${reads}|${head.key}`,
    reads,
    explained: t,
    forwardBytes: bytes,
  };
}

/** Shapes of the head's tensors, from a model holding only the head with X as its input. */
function inferHead(
  model: Model,
  e: Emitter,
  reads: string,
  x: ValueInfo,
  t: string,
): ReadonlyMap<string, ValueInfo> {
  const graph = fromBinary(
    ModelProtoSchema,
    encodeGraphPatch({
      node: e.nodes,
      initializer: e.initializers,
      input: [tensorValueInfo(reads, ONNX_FLOAT, x.shape!)],
      output: [{ name: t }],
    }),
  ).graph!;
  const mini = modelFromProto(
    create(ModelProtoSchema, {
      irVersion: model.proto.irVersion,
      opsetImport: model.proto.opsetImport,
      graph: create(GraphProtoSchema, { ...graph, name: 'gradsight-head' }),
    }),
  );
  const shapes = inferShapes(mini);
  return new Map([...shapes].filter(([k]) => k !== reads));
}

/** A target graph whose seeds are chosen in the graph: the k best classes of X per image. */
export interface SelectionGraph extends TargetGraph {
  /** The in-graph seed [N·k, K]: one-hot rows (negated for a counterfactual), image-major. */
  readonly seed: string;
  /** The chosen classes [N, k] (int64), a graph output. */
  readonly indices: string;
  readonly k: number;
}

/**
 * Appends TopK over X's class axis and one-hot seeds over T to a target graph, so one run gives the
 * scores, the selection and (with the backward graph compiled on `seed`) the gradients. ONNX TopK
 * puts the lower index first among equal values, as `topK` in tensor.ts does, so the rows the
 * targets choose in TypeScript from the same run's X are these.
 */
export function selectionGraph(tg: TargetGraph, k: number, sign: 1 | -1): SelectionGraph {
  const x = tg.shapes.get(tg.reads)?.shape;
  const t = tg.shapes.get(tg.explained)?.shape;
  const classes = x?.[1];
  if (x?.length !== 2 || typeof classes !== 'number' || t?.length !== 2 || t[1] !== classes) {
    throw new GradsightError(
      'shape-inference',
      `in-graph selection needs scores [N, K]; ${tg.reads} is [${(x ?? []).join(', ')}]`,
      {
        hint: 'this is a bug in gradsight (the explainer should have run the targets in two steps)',
      },
    );
  }
  const opset = tg.model.opsets.get('') ?? tg.model.opsets.get('ai.onnx') ?? 13;
  const e = new Emitter(opset, 'gradsight/select');
  e.enter(`top${k}`);
  const topK =
    opset >= 10
      ? e.emit('TopK', [tg.reads, e.constI64([k])], { axis: { i: 1 } }, 2)
      : e.emit('TopK', [tg.reads], { axis: { i: 1 }, k: { i: k } }, 2);
  const indices = topK[1]!;
  const flat = e.reshape(indices, e.constI64([-1, 1]));
  const range = e.constI64(Array.from({ length: classes }, (_, i) => i));
  let seed = e.castFloat(e.equal(flat, range));
  if (sign < 0) seed = e.neg(seed);
  const patch: GraphPatch = {
    node: e.nodes,
    initializer: e.initializers,
    output: [tensorValueInfo(indices, 7, [x[0] ?? 'N', k])],
  };
  const bytes = appendGraphPatch(tg.bytes, patch);
  const model = withGraphPatch(tg.model, patch);
  const shapes = new Map(tg.shapes);
  shapes.set(indices, { name: indices, dtype: 'int64', shape: [x[0] ?? 'N', k] });
  shapes.set(seed, { name: seed, dtype: 'float32', shape: ['rows', classes] });
  return {
    ...tg,
    bytes,
    model,
    shapes,
    key: `${tg.key}|top:${k}:${sign}`,
    forwardBytes: bytes,
    seed,
    indices,
    k,
  };
}
