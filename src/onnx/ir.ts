// The small readonly IR every later stage reads: graph inputs/outputs, nodes in topological order,
// initializers with lazily decoded values, and producer/consumer indexes. The decoded ModelProto stays
// inside `Model.proto` so the model can be re-encoded byte-identically.

import type { ModelProto } from 'onnx-buf';
import type { DType, TypedArray } from '../tensor/tensor.ts';

/** A known size, a symbolic name such as 'batch', or null when nothing is known. */
export type Dim = number | string | null;
export type Shape = readonly Dim[];

export interface ValueInfo {
  readonly name: string;
  readonly dtype: DType | undefined;
  readonly shape: Shape | undefined;
}

export type AttributeValue =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'strings'; readonly value: readonly string[] }
  | { readonly kind: 'tensor'; readonly value: Initializer }
  /** Graphs, sparse tensors, type protos: kept opaque; no supported op needs them. */
  | { readonly kind: 'other'; readonly value: undefined };

export interface Attribute {
  readonly name: string;
  readonly value: AttributeValue;
}

export interface Node {
  /** The node's name, or `<opType>_<index>` when the file leaves it empty. */
  readonly name: string;
  readonly opType: string;
  /** '' for the default ai.onnx domain. */
  readonly domain: string;
  /** '' marks an absent optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, Attribute>;
}

export interface ExternalDataRef {
  readonly tensor: string;
  /** `location` exactly as written in the model. */
  readonly location: string;
  readonly offset: number;
  /** undefined when the model omits `length` (then the tensor's byte size is implied). */
  readonly length: number | undefined;
}

/** Bytes `offset`..`offset + length` of an external-data file, held at `at` in a packed buffer. */
export interface ExternalRange {
  readonly offset: number;
  readonly length: number;
  readonly at: number;
}

/**
 * An external-data file's bytes: the whole file, or (with `ranges`) only the byte ranges the model
 * uses, packed one after another, so a 128-byte tensor in a 3 GiB file costs 128 bytes.
 */
export interface ExternalBytes {
  readonly data: Uint8Array;
  readonly ranges?: readonly ExternalRange[];
}

export interface Initializer {
  readonly name: string;
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly external: ExternalDataRef | undefined;
  /** Decoded values; throws for external data not yet supplied (see `withExternalData`). */
  values(): TypedArray;
}

export interface Graph {
  readonly name: string;
  /** Real inputs only: names that are also initializers are left out. */
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /** In topological order (file order wherever that is already valid). */
  readonly nodes: readonly Node[];
  readonly initializers: ReadonlyMap<string, Initializer>;
  /** graph.value_info as declared in the file. */
  readonly valueInfo: ReadonlyMap<string, ValueInfo>;
  /** Tensor name -> the node producing it. */
  readonly producers: ReadonlyMap<string, Node>;
  /** Tensor name -> the nodes reading it, in topological order. */
  readonly consumers: ReadonlyMap<string, readonly Node[]>;
}

export interface Model {
  readonly irVersion: number;
  /** Domain -> opset version; '' is ai.onnx. */
  readonly opsets: ReadonlyMap<string, number>;
  readonly producer: string;
  readonly graph: Graph;
  readonly proto: ModelProto;
}
