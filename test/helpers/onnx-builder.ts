// Builds small ONNX models for tests: one-node models for shape and gradient checks, or a few nodes
// chained. Attribute values map to ONNX types by their JS type; wrap in float()/floats() to force floats.

import { create, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as A,
  type AttributeProto,
  AttributeProtoSchema,
  ModelProtoSchema,
  type TensorProto,
  TensorProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import { dtypeToOnnx } from '../../src/onnx/dtype.ts';
import type { Dim } from '../../src/onnx/ir.ts';
import type { DType } from '../../src/tensor/tensor.ts';

export interface TensorSpec {
  readonly name: string;
  readonly dtype?: DType; // float32 by default
  /** Omit for an untyped-shape value; strings are symbolic dims. */
  readonly shape?: readonly Dim[];
}

export interface InitializerSpec {
  readonly name: string;
  readonly dtype?: DType;
  readonly dims: readonly number[];
  readonly values: readonly number[] | ArrayLike<number>;
  /** Stores the data outside the model: `location`, `offset`, `length` as written. */
  readonly external?: { readonly location: string; readonly offset?: number; readonly length?: number };
}

/** Forces a FLOAT / FLOATS attribute for values that happen to be integers. */
export const float = (value: number): { readonly float: number } => ({ float: value });
export const floats = (value: readonly number[]): { readonly floats: readonly number[] } => ({
  floats: value,
});

export type AttrValue =
  | number
  | readonly number[]
  | string
  | { readonly float: number }
  | { readonly floats: readonly number[] }
  | { readonly tensor: InitializerSpec };

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly domain?: string;
  readonly attrs?: Readonly<Record<string, AttrValue>>;
}

export interface ModelSpec {
  readonly opset?: number; // 17 by default
  readonly irVersion?: number; // 8 by default
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly nodes: readonly NodeSpec[];
  readonly initializers?: readonly InitializerSpec[];
  readonly valueInfo?: readonly TensorSpec[];
}

export function buildModelProto(spec: ModelSpec) {
  return create(ModelProtoSchema, {
    irVersion: BigInt(spec.irVersion ?? 8),
    producerName: 'gradsight-test',
    opsetImport: [{ domain: '', version: BigInt(spec.opset ?? 17) }],
    graph: {
      name: 'test',
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      valueInfo: (spec.valueInfo ?? []).map(valueInfo),
      initializer: (spec.initializers ?? []).map(tensor),
      node: spec.nodes.map((n) => ({
        opType: n.op,
        domain: n.domain ?? '',
        name: n.name ?? '',
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attrs ?? {}).map(([name, v]) => attribute(name, v)),
      })),
    },
  });
}

export function buildModel(spec: ModelSpec): Uint8Array {
  return toBinary(ModelProtoSchema, buildModelProto(spec));
}

export function valueInfo(t: TensorSpec): ValueInfoProto {
  const shape = t.shape && {
    dim: t.shape.map((d) => ({
      value:
        typeof d === 'number'
          ? { case: 'dimValue' as const, value: BigInt(d) }
          : typeof d === 'string'
            ? { case: 'dimParam' as const, value: d }
            : { case: undefined },
    })),
  };
  return create(ValueInfoProtoSchema, {
    name: t.name,
    type: { value: { case: 'tensorType', value: { elemType: dtypeToOnnx(t.dtype ?? 'float32'), shape } } },
  });
}

export function tensor(t: InitializerSpec): TensorProto {
  const dtype = t.dtype ?? 'float32';
  const init: MessageInitShape<typeof TensorProtoSchema> = {
    name: t.name,
    dataType: dtypeToOnnx(dtype),
    dims: t.dims.map(BigInt),
  };
  const values = Array.from(t.values);
  if (t.external) {
    const kv = [{ key: 'location', value: t.external.location }];
    if (t.external.offset !== undefined) kv.push({ key: 'offset', value: String(t.external.offset) });
    if (t.external.length !== undefined) kv.push({ key: 'length', value: String(t.external.length) });
    return create(TensorProtoSchema, { ...init, dataLocation: 1, externalData: kv });
  }
  if (dtype === 'float32') return create(TensorProtoSchema, { ...init, floatData: values });
  if (dtype === 'float64') return create(TensorProtoSchema, { ...init, doubleData: values });
  if (dtype === 'int64') return create(TensorProtoSchema, { ...init, int64Data: values.map(BigInt) });
  if (dtype === 'uint64' || dtype === 'uint32') {
    return create(TensorProtoSchema, { ...init, uint64Data: values.map(BigInt) });
  }
  return create(TensorProtoSchema, { ...init, int32Data: values });
}

function attribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'number') {
    return Number.isInteger(v)
      ? create(AttributeProtoSchema, { name, type: A.INT, i: BigInt(v) })
      : create(AttributeProtoSchema, { name, type: A.FLOAT, f: v });
  }
  if (typeof v === 'string')
    return create(AttributeProtoSchema, { name, type: A.STRING, s: new TextEncoder().encode(v) });
  if ('float' in v) return create(AttributeProtoSchema, { name, type: A.FLOAT, f: v.float });
  if ('floats' in v) return create(AttributeProtoSchema, { name, type: A.FLOATS, floats: [...v.floats] });
  if ('tensor' in v) return create(AttributeProtoSchema, { name, type: A.TENSOR, t: tensor(v.tensor) });
  const xs = v as readonly number[];
  return xs.every(Number.isInteger)
    ? create(AttributeProtoSchema, { name, type: A.INTS, ints: xs.map(BigInt) })
    : create(AttributeProtoSchema, { name, type: A.FLOATS, floats: [...xs] });
}
