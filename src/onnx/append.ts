// Appending to a serialized model without re-encoding it. Protobuf merge rules concatenate repeated
// fields, so the bytes of `ModelProto{graph: GraphProto{output: [...], node: [...]}}` appended to a
// model add those outputs/nodes; re-encoding a 100 MB model would cost about a second.

import { create, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import type { DType } from '../tensor/tensor.ts';
import { dtypeToOnnx } from './dtype.ts';
import { modelFromProto } from './from-proto.ts';
import type { Model, Shape } from './ir.ts';

/** Repeated GraphProto fields only: a singular field (name, doc_string) would overwrite the model's. */
export type GraphPatch = Pick<
  MessageInitShape<typeof GraphProtoSchema>,
  'node' | 'initializer' | 'input' | 'output' | 'valueInfo'
>;

/**
 * Buffers made by `allocateWithRoom` keep spare capacity after the model so that later appends can
 * extend them in place instead of copying the whole model (a 500 MB model would otherwise exist
 * twice). Per buffer, the end of its used bytes: only a view ending there extends in place, and the
 * end moves past what it appends, so bytes any earlier result shows are never overwritten (a chain —
 * the model, a target head appended to it, its gradients appended to that — shares one buffer; a
 * second append to an earlier link copies).
 */
const room = new WeakMap<ArrayBufferLike, number>();

/** A view of `length` bytes whose buffer has `spare` bytes of room for in-place appends. */
export function allocateWithRoom(length: number, spare: number): Uint8Array {
  const buffer = new ArrayBuffer(length + spare);
  room.set(buffer, length);
  return new Uint8Array(buffer, 0, length);
}

export function appendGraphPatch(model: Uint8Array, patch: GraphPatch): Uint8Array {
  const fragment = encodeGraphPatch(patch);
  const end = model.byteOffset + model.byteLength;
  if (room.get(model.buffer) === end && end + fragment.byteLength <= model.buffer.byteLength) {
    room.set(model.buffer, end + fragment.byteLength);
    const out = new Uint8Array(model.buffer, model.byteOffset, model.byteLength + fragment.byteLength);
    out.set(fragment, model.byteLength);
    return out;
  }
  const out = new Uint8Array(model.byteLength + fragment.byteLength);
  out.set(model, 0);
  out.set(fragment, model.byteLength);
  return out;
}

/** The serialized `ModelProto{graph: patch}` fragment that appending adds. */
export function encodeGraphPatch(patch: GraphPatch): Uint8Array {
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, { graph: create(GraphProtoSchema, patch) }));
}

/** A ValueInfoProto (init shape) for a tensor of ONNX element type `elemType` and `shape`. */
export function tensorValueInfo(name: string, elemType: number, shape: Shape) {
  return {
    name,
    type: {
      value: {
        case: 'tensorType' as const,
        value: {
          elemType,
          shape: {
            dim: shape.map((d) => ({
              value:
                typeof d === 'number'
                  ? { case: 'dimValue' as const, value: BigInt(d) }
                  : typeof d === 'string'
                    ? { case: 'dimParam' as const, value: d }
                    : { case: undefined },
            })),
          },
        },
      },
    },
  };
}

export interface OutputSpec {
  readonly name: string;
  /** Leave out to let the runtime infer the type (ONNX Runtime accepts untyped outputs). */
  readonly dtype?: DType;
  readonly shape?: Shape;
}

/** Exposes intermediate tensors as extra graph outputs. */
export function appendGraphOutputs(model: Uint8Array, outputs: readonly (string | OutputSpec)[]): Uint8Array {
  return appendGraphPatch(model, {
    output: outputs.map((o) => {
      const spec = typeof o === 'string' ? { name: o } : o;
      if (spec.dtype === undefined) return { name: spec.name };
      if (spec.shape) return tensorValueInfo(spec.name, dtypeToOnnx(spec.dtype), spec.shape);
      return {
        name: spec.name,
        type: { value: { case: 'tensorType', value: { elemType: dtypeToOnnx(spec.dtype) } } },
      };
    }),
  });
}

/**
 * The IR of `model` with the patch's nodes, initializers, inputs and outputs added, as appending the
 * patch to its bytes would give (repeated fields copied shallowly, weights not copied).
 */
export function withGraphPatch(model: Model, patch: GraphPatch): Model {
  const fwd = model.proto.graph!;
  const p = fromBinary(ModelProtoSchema, encodeGraphPatch(patch)).graph!;
  return modelFromProto(
    create(ModelProtoSchema, {
      ...model.proto,
      graph: create(GraphProtoSchema, {
        ...fwd,
        node: [...fwd.node, ...p.node],
        initializer: [...fwd.initializer, ...p.initializer],
        input: [...fwd.input, ...p.input],
        output: [...fwd.output, ...p.output],
      }),
    }),
  );
}
