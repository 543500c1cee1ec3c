// The shape check after the walk (as tfjs checks each gradient against its input): the emitted
// backward graph is shape-inferred with the forward graph, and every rule's gradient must have the
// shape of the forward tensor it is the gradient of.

import { create, fromBinary } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import { GradsightError } from '../errors.ts';
import {
  encodeGraphPatch,
  type GraphPatch,
  type InputShapes,
  inferShapes,
  type Model,
  modelFromProto,
  type Node,
  type Shape,
  type ValueInfo,
} from '../onnx/index.ts';

export interface Contribution {
  /** The forward tensor. */
  readonly tensor: string;
  /** Its gradient, as one rule returned it (before fan-out accumulation). */
  readonly grad: string;
  /** The forward node whose rule produced it. */
  readonly node: Node;
}

/**
 * Infers the shapes of the emitted backward graph and checks each rule's output against the forward
 * tensor it is the gradient of; a mismatch names the forward node whose rule produced it. Forward
 * tensors get the shapes the walk used (`forwardShapes`, which may come from a probe run), so the
 * check never disagrees with the rules about a forward shape.
 */
export function checkGradientShapes(
  model: Model,
  patch: GraphPatch,
  inputShapes: InputShapes | undefined,
  contributions: readonly Contribution[],
  forwardShapes: ReadonlyMap<string, ValueInfo>,
  extraInputs: GraphPatch['input'] = [],
  /** With repeatRows gradients have the seed's rows, not the forward tensor's: axis 0 may differ. */
  rowsMayDiffer = false,
): void {
  // The forward proto with the patch's repeated fields added: arrays are copied shallowly, weights not.
  const fwd = model.proto.graph!;
  const patchProto = fromBinary(ModelProtoSchema, encodeGraphPatch(patch)).graph!;
  const merged = create(ModelProtoSchema, {
    ...model.proto,
    graph: create(GraphProtoSchema, {
      ...fwd,
      node: [...fwd.node, ...patchProto.node],
      initializer: [...fwd.initializer, ...patchProto.initializer],
      input: [
        ...fwd.input,
        ...patchProto.input,
        ...fromBinary(ModelProtoSchema, encodeGraphPatch({ input: extraInputs })).graph!.input,
      ],
      output: [...fwd.output, ...patchProto.output],
    }),
  });
  const inputs = inputShapes ?? graphInputShapes(model, forwardShapes);
  const full = inferShapes(modelFromProto(merged), inputs, forwardShapes);
  for (const c of contributions) {
    const want = forwardShapes.get(c.tensor)?.shape;
    const got = full.get(c.grad)?.shape;
    if (!want || !got || sameShape(want, got, rowsMayDiffer)) continue;
    throw new GradsightError(
      'shape-mismatch',
      `the gradient rule of ${c.node.opType} node '${c.node.name}' gives [${got.join(', ')}] for ${c.tensor} of shape [${want.join(', ')}]`,
      {
        hint: 'this is a bug in that gradient rule; please report it with the model',
        details: { node: c.node.name, op: c.node.opType },
      },
    );
  }
}

/** Same rank, and equal wherever both dims are numbers (a symbol or an unknown matches anything). */
function sameShape(want: Shape, got: Shape, rowsMayDiffer: boolean): boolean {
  return (
    want.length === got.length &&
    want.every(
      (d, i) =>
        (rowsMayDiffer && i === 0) || typeof d !== 'number' || typeof got[i] !== 'number' || d === got[i],
    )
  );
}

/** The graph inputs' dims as the walk saw them. */
function graphInputShapes(model: Model, shapes: ReadonlyMap<string, ValueInfo>): InputShapes {
  const out: Record<string, Shape> = {};
  for (const i of model.graph.inputs) {
    const s = shapes.get(i.name)?.shape;
    if (s) out[i.name] = s;
  }
  return out;
}
