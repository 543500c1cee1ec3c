// External data (TensorProto.data_location = EXTERNAL) at the model level: listing every reference and
// supplying the files' bytes so that Initializer.values() works for external tensors.

import type { TensorProto } from 'onnx-buf';
import { checkExternalLocation, externalRefOf } from './external-refs.ts';
import { modelFromProto } from './from-proto.ts';
import type { ExternalDataRef, Model } from './ir.ts';

/** Every external reference in the main graph: initializers and Constant-node tensors. */
export function externalDataRefs(model: Model): ExternalDataRef[] {
  const graph = model.proto.graph;
  if (!graph) return [];
  const tensors: TensorProto[] = [...graph.initializer];
  for (const n of graph.node) for (const a of n.attribute) if (a.t) tensors.push(a.t);
  return tensors.flatMap((t) => externalRefOf(t) ?? []);
}

/**
 * The same model with external-data files supplied, so Initializer.values() works for external
 * tensors. `files` is keyed by `location` as written in the model (or its normalized form).
 */
export function withExternalData(model: Model, files: ReadonlyMap<string, Uint8Array>): Model {
  const normalized = new Map<string, Uint8Array>();
  for (const [k, v] of files) normalized.set(checkExternalLocation(k), v);
  return modelFromProto(
    model.proto,
    (location) => files.get(location) ?? normalized.get(checkExternalLocation(location)),
  );
}
