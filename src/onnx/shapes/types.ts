// The contract between the inference driver (infer.ts) and the per-family rule tables: a rule reads
// its node's input infos (and the values of small constant inputs) and returns one info per output.

import type { DType } from '../../tensor/tensor.ts';
import type { Dim, Node, Shape } from '../ir.ts';

/** What inference knows about a tensor. `value` holds the elements of small constant tensors
 *  (shape arithmetic: Shape -> Gather -> Concat -> Reshape), where an int element may be symbolic. */
export interface TensorInfo {
  readonly dtype: DType | undefined;
  readonly shape: Shape | undefined;
  readonly value?: readonly Dim[] | undefined;
}

export interface RuleContext {
  readonly node: Node;
  /** ai.onnx opset of the model. */
  readonly opset: number;
  readonly inputCount: number;
  /** Info for input i; undefined for an absent optional input. */
  input(i: number): TensorInfo | undefined;
  /** Known elements of input i (constants and folded shape arithmetic), else undefined. */
  value(i: number): readonly Dim[] | undefined;
}

/** Returns one entry per node output; an undefined entry (or shape) means "unknown". */
export type ShapeRule = (ctx: RuleContext) => readonly (TensorInfo | undefined)[];
export type RuleTable = Readonly<Record<string, ShapeRule>>;
