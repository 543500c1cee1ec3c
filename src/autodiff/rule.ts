// What a gradient rule is. A rule is a pure function of the forward node and the gradients of its
// outputs; it emits backward nodes through the Emitter and returns one gradient per input (undefined
// where the input needs none). It stores nothing. Vocabulary as in ORT's gradient builder: inputs X,
// outputs Y, output gradients gY, input gradients gX.

import { GradsightError } from '../errors.ts';
import type { Node, Shape } from '../onnx/index.ts';
import type { TypedArray } from '../tensor/tensor.ts';
import type { Emitter } from './emitter.ts';

/** 'web' prefers recipes every WebGPU backend runs (see docs/autodiff.md); 'cpu' the fastest CPU ones. */
export type Profile = 'cpu' | 'web';

export interface GradContext {
  readonly node: Node;
  readonly e: Emitter;
  readonly profile: Profile;
  /**
   * Every gradient is declared with its shape, symbolic batch included (CompileOptions.gradientShapes):
   * a rule may then emit ops whose batch ONNX Runtime cannot infer (a Resize by scales) without
   * costing the backward graph its blocked layout downstream.
   */
  readonly shapesDeclared?: boolean;
  /** Static shape of a forward tensor (batch may be symbolic); throws when unknown. */
  shape(name: string): Shape;
  /** Values of a constant forward tensor (initializer or Constant node), else undefined. */
  constant(name: string): TypedArray | undefined;
  /** Whether input i needs a gradient (it lies on a path from a requested tensor). */
  need(i: number): boolean;
}

export type GradRule = (
  ctx: GradContext,
  gY: readonly (string | undefined)[],
) => readonly (string | undefined)[];

/** Marks ops whose outputs carry no gradient (Shape, comparisons, ArgMax, ...): the path stops here. */
export const STOP = 'stop';

export type RuleTable = Readonly<Record<string, GradRule | typeof STOP>>;

export interface RuleSet {
  readonly name: string;
  readonly description: string;
  readonly rules: RuleTable;
}

/** The gradient of a single-output node, defined for rules that do not handle missing gY. */
export function only(gY: readonly (string | undefined)[]): string {
  const g = gY[0];
  if (g === undefined) throw new Error('internal: rule called without an output gradient');
  return g;
}

/**
 * A rule that differentiates through the first `n` inputs only (the data; the rest are parameters:
 * weights, bounds, slopes, scales). A parameter computed from a requested tensor is refused by name,
 * as an unsupported configuration of the op, never dropped as a silent zero.
 */
export function throughFirst(n: number, rule: GradRule): GradRule {
  return (ctx, gY) => {
    const { node } = ctx;
    const i = node.inputs.findIndex((name, k) => k >= n && name !== '' && ctx.need(k));
    if (i >= 0) {
      throw new GradsightError(
        'unsupported-op',
        `cannot differentiate ${node.opType} node '${node.name}' through its input ${i} ('${node.inputs[i]}'), which is computed from the explained input: only input ${n === 1 ? '0' : `0 to ${n - 1}`} of ${node.opType} is differentiated`,
        {
          hint: `gradsight expects ${node.opType}'s other inputs to be constants (initializers); export the model with them folded, or explain a tensor after this node`,
          details: { node: node.name, op: node.opType, input: node.inputs[i] },
        },
      );
    }
    return rule(ctx, gY);
  };
}
