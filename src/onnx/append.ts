// Appending to a serialized model without re-encoding it. Protobuf merge rules concatenate repeated
// fields, so the bytes of `ModelProto{graph: GraphProto{output: [...], node: [...]}}` appended to a
// model add those outputs/nodes; re-encoding a 100 MB model would cost about a second.

import { create, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, TensorShapeProto_DimensionSchema } from 'onnx-buf';
import type { DType } from '../tensor/tensor.ts';
import { dtypeToOnnx } from './dtype.ts';
import type { Shape } from './ir.ts';

/** Repeated GraphProto fields only: a singular field (name, doc_string) would overwrite the model's. */
export type GraphPatch = Pick<
  MessageInitShape<typeof GraphProtoSchema>,
  'node' | 'initializer' | 'input' | 'output' | 'valueInfo'
>;

export function appendGraphPatch(model: Uint8Array, patch: GraphPatch): Uint8Array {
  const fragment = toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, { graph: create(GraphProtoSchema, patch) }),
  );
  const out = new Uint8Array(model.byteLength + fragment.byteLength);
  out.set(model, 0);
  out.set(fragment, model.byteLength);
  return out;
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
      const dim = spec.shape?.map((d) =>
        create(TensorShapeProto_DimensionSchema, {
          value:
            typeof d === 'number'
              ? { case: 'dimValue', value: BigInt(d) }
              : typeof d === 'string'
                ? { case: 'dimParam', value: d }
                : { case: undefined },
        }),
      );
      return {
        name: spec.name,
        type: {
          value: {
            case: 'tensorType',
            value: { elemType: dtypeToOnnx(spec.dtype), ...(dim ? { shape: { dim } } : {}) },
          },
        },
      };
    }),
  });
}
