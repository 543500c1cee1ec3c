// Shared pieces of the malformed-ONNX generator (onnx-mutants.ts): the case type, the PRNG, the base
// models and a copy-and-edit helper on their protos.

import { clone, fromBinary, toBinary } from '@bufbuild/protobuf';
import { type GraphProto, type ModelProto, ModelProtoSchema } from 'onnx-buf';
import type { ErrorCode } from '../../src/errors.ts';
import { dynamicCnn, tinyCnn, tinyStridedCnn } from './tiny-models.ts';

export type Family =
  | 'bit-flip'
  | 'truncation'
  | 'huge-varint'
  | 'cycle'
  | 'undefined-input'
  | 'absurd-dims'
  | 'wrong-dtype'
  | 'duplicate-name'
  | 'missing-part'
  | 'nesting'
  | 'external-data'
  | 'structural'
  | 'inserted-op';

export interface MutantCase {
  /** Unique and stable for a seed, e.g. 'truncation/tinyCnn/at-137'. */
  readonly name: string;
  readonly family: Family;
  /** The bytes written as model.onnx. */
  readonly model: Uint8Array;
  /** Files written beside model.onnx (external data), by relative path; `null` makes a folder. */
  readonly files?: Readonly<Record<string, Uint8Array | null>>;
  /** The error codes allowed; undefined: any typed code (never internal-error). */
  readonly codes?: readonly ErrorCode[];
  /** False when no correct result exists, so loading and compiling must fail with one of `codes`. */
  readonly mayLoad: boolean;
  /** The model loads, but no input of its declared size can be made: `explain` must fail, typed. */
  readonly explainFails?: boolean;
  /** A known failure not fixed yet: the suite keeps the case as a node:test todo. */
  readonly todo?: string;
}

/** mulberry32: a small, well-mixed 32-bit PRNG. */
export function prng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const bases = { tinyCnn: tinyCnn(), dynamicCnn: dynamicCnn(), tinyStridedCnn: tinyStridedCnn() };
export type BaseName = keyof typeof bases;
export const baseNames = Object.keys(bases) as BaseName[];

export const corruptCodes: readonly ErrorCode[] = ['not-onnx', 'model-corrupt', 'model-invalid'];

/** Edits a copy of a base model's proto; the base is never changed. */
export function edit(base: BaseName | ModelProto, f: (m: ModelProto, g: GraphProto) => void): Uint8Array {
  const m = clone(
    ModelProtoSchema,
    typeof base === 'string' ? fromBinary(ModelProtoSchema, bases[base]) : base,
  );
  f(m, m.graph!);
  return toBinary(ModelProtoSchema, m);
}

export function setDim(v: GraphProto['input'][number], axis: number, value: bigint | string): void {
  const t = v.type!.value;
  if (t.case !== 'tensorType') throw new Error('not a tensor type');
  t.value.shape!.dim[axis]!.value =
    typeof value === 'string' ? { case: 'dimParam', value } : { case: 'dimValue', value };
}
