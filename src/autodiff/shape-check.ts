// The shape check after the walk (as tfjs checks each gradient against its input): the emitted
// backward graph is shape-inferred with the forward graph, and every rule's gradient must have the
// shape of the forward tensor it is the gradient of.

import { GradsightError } from '../errors.ts';
import {
  type GraphPatch,
  type InputShapes,
  inferShapes,
  type Model,
  type Node,
  type Shape,
  type ValueInfo,
  withGraphPatch,
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
  const inputs = inputShapes ?? graphInputShapes(model, forwardShapes);
  const merged = withGraphPatch(model, { ...patch, input: [...(patch.input ?? []), ...(extraInputs ?? [])] });
  const full = inferShapes(merged, inputs, forwardShapes);
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
