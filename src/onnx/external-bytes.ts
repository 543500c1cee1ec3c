// External data read by range: which bytes of each external file the model uses, packing those ranges
// into one buffer, reading a tensor back from it, and rewriting the model's offsets to point into the
// packed buffer (for ONNX Runtime, which takes external data as in-memory files). Pure: no file system.

import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type TensorProto } from 'onnx-buf';
import { sizeOf } from '../tensor/tensor.ts';
import { byteSize, dtypeFromOnnx } from './dtype.ts';
import { checkExternalLocation, externalRefOf, graphTensors } from './external-refs.ts';
import type { ExternalBytes, ExternalRange } from './ir.ts';

/** Gaps up to this size between used ranges are read too: fewer ranges, often no offset rewrite. */
const SLACK = 64 * 1024;

/** A tensor's external bytes: `offset`..`offset + length` of the file, or undefined if not held. */
export function externalSlice(
  file: Uint8Array | ExternalBytes,
  offset: number,
  length: number,
): Uint8Array | undefined {
  if (file instanceof Uint8Array) {
    return offset + length <= file.byteLength ? file.subarray(offset, offset + length) : undefined;
  }
  if (!file.ranges) return externalSlice(file.data, offset, length);
  const r = file.ranges.find((x) => offset >= x.offset && offset + length <= x.offset + x.length);
  if (!r) return undefined;
  const at = r.at + offset - r.offset;
  return file.data.subarray(at, at + length);
}

/** The byte size of an external tensor: its `length`, else implied by dims and dtype (undefined if unknown). */
export function externalByteLength(t: TensorProto): number | undefined {
  const ref = externalRefOf(t);
  if (ref?.length !== undefined) return ref.length;
  const dtype = dtypeFromOnnx(t.dataType);
  return dtype === undefined || dtype === 'string' ? undefined : sizeOf(t.dims.map(Number)) * byteSize(dtype);
}

/**
 * Merges the used `[offset, offset + length)` spans of one file into sorted ranges with their place in
 * a packed buffer. Spans closer than SLACK are joined (and one near the start begins at 0), so a file
 * that is used nearly whole packs to itself and needs no offset rewrite.
 */
export function packRanges(spans: readonly { offset: number; length: number }[]): ExternalRange[] {
  const sorted = [...spans].sort((a, b) => a.offset - b.offset);
  const merged: { offset: number; end: number }[] = [];
  for (const s of sorted) {
    const last = merged.at(-1);
    const end = s.offset + s.length;
    if (last && s.offset <= last.end + SLACK) last.end = Math.max(last.end, end);
    else if (!last && s.offset <= SLACK) merged.push({ offset: 0, end });
    else merged.push({ offset: s.offset, end });
  }
  let at = 0;
  return merged.map((m) => {
    const r = { offset: m.offset, length: m.end - m.offset, at };
    at += r.length;
    return r;
  });
}

/** True when some packed range does not sit at its file offset, so the model's offsets must change. */
export function needsOffsetRewrite(files: readonly ExternalBytes[]): boolean {
  return files.some((f) => f.ranges?.some((r) => r.at !== r.offset));
}

/**
 * The serialized model with every external tensor's `offset` pointing into its file's packed buffer.
 * `files` is keyed by `location` as written in the model.
 */
export function withPackedOffsets(model: Uint8Array, files: ReadonlyMap<string, ExternalBytes>): Uint8Array {
  const proto = fromBinary(ModelProtoSchema, model);
  for (const t of graphTensors(proto.graph)) {
    const ref = externalRefOf(t);
    if (!ref) continue;
    const file = files.get(ref.location) ?? lookupNormalized(files, ref.location);
    const length = externalByteLength(t) ?? 0;
    const r = file?.ranges?.find((x) => ref.offset >= x.offset && ref.offset + length <= x.offset + x.length);
    if (!r) continue;
    const offset = String(r.at + ref.offset - r.offset);
    const entry = t.externalData.find((e) => e.key === 'offset');
    if (entry) entry.value = offset;
    else t.externalData.push({ $typeName: 'onnx.StringStringEntryProto', key: 'offset', value: offset });
  }
  return toBinary(ModelProtoSchema, proto);
}

function lookupNormalized(files: ReadonlyMap<string, ExternalBytes>, location: string) {
  const want = checkExternalLocation(location);
  for (const [k, v] of files) if (checkExternalLocation(k) === want) return v;
  return undefined;
}
