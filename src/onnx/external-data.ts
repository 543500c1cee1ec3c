// External data (TensorProto.data_location = EXTERNAL) at the model level: listing every reference and
// supplying the files' bytes so that Initializer.values() works for external tensors.

import { externalByteLength } from './external-bytes.ts';
import { checkExternalLocation, externalRefOf, graphTensors } from './external-refs.ts';
import { modelFromProto } from './from-proto.ts';
import type { ExternalBytes, ExternalDataRef, Model } from './ir.ts';

/** Every external reference in the main graph: initializers and Constant-node tensors. */
export function externalDataRefs(model: Model): ExternalDataRef[] {
  return graphTensors(model.proto.graph).flatMap((t) => externalRefOf(t) ?? []);
}

/** Each external reference with the bytes it uses (`length`, else implied by dims and dtype). */
export function externalDataSpans(
  model: Model,
): (ExternalDataRef & { readonly bytes: number | undefined })[] {
  return graphTensors(model.proto.graph).flatMap((t) => {
    const ref = externalRefOf(t);
    return ref ? [{ ...ref, bytes: externalByteLength(t) }] : [];
  });
}

/**
 * The same model with external-data files supplied, so Initializer.values() works for external
 * tensors. `files` is keyed by `location` as written in the model (or its normalized form); each is the
 * whole file or the byte ranges the model uses (ExternalBytes with `ranges`).
 */
export function withExternalData(
  model: Model,
  files: ReadonlyMap<string, Uint8Array | ExternalBytes>,
): Model {
  const normalized = new Map<string, Uint8Array | ExternalBytes>();
  for (const [k, v] of files) normalized.set(checkExternalLocation(k), v);
  return modelFromProto(
    model.proto,
    (location) => files.get(location) ?? normalized.get(checkExternalLocation(location)),
  );
}
