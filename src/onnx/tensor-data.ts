// Decodes a TensorProto's values into a typed array: raw_data (little-endian; a zero-copy view when the
// bytes are aligned, a copy otherwise) or the typed repeated fields (float_data, int32_data, ...).

import type { TensorProto } from 'onnx-buf';
import { GradsightError } from '../errors.ts';
import { type DType, sizeOf, type TypedArray } from '../tensor/tensor.ts';
import { byteSize } from './dtype.ts';

type Ctor = { new (n: number): TypedArray; new (b: ArrayBufferLike, off: number, n: number): TypedArray };

const ctors: Partial<Record<DType, Ctor>> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

// Typed arrays use the host byte order; ONNX raw_data is little-endian.
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A zero-filled typed array of `n` `dtype` elements, or undefined for dtypes with no JS array. */
export function zerosOf(dtype: DType, n: number): TypedArray | undefined {
  const ctor = ctors[dtype];
  return ctor ? new ctor(n) : undefined;
}

function ctorFor(dtype: DType, tensor: string): Ctor {
  const ctor = ctors[dtype];
  if (!ctor) {
    throw new GradsightError('unsupported-dtype', `cannot decode the values of ${dtype} tensor '${tensor}'`, {
      hint: 'gradsight reads float32/float64 and integer tensors; convert the model to float32',
      details: { tensor, dtype },
    });
  }
  return ctor;
}

/** Interprets little-endian bytes as `dtype` elements; `count` is checked against the byte length. */
export function fromRawBytes(bytes: Uint8Array, dtype: DType, count: number, tensor: string): TypedArray {
  const ctor = ctorFor(dtype, tensor);
  const size = byteSize(dtype);
  if (bytes.byteLength !== count * size) {
    throw new GradsightError(
      'model-corrupt',
      `tensor '${tensor}' holds ${bytes.byteLength} bytes but its dims need ${count * size}`,
      { hint: 'the file is truncated or damaged; download/export it again', details: { tensor } },
    );
  }
  if (littleEndian && bytes.byteOffset % size === 0) return new ctor(bytes.buffer, bytes.byteOffset, count);
  const out = new ctor(count);
  const src = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dst = new DataView(out.buffer);
  if (littleEndian || size === 1) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    // Big-endian host: swap each element through DataView.
    for (let i = 0; i < bytes.byteLength; i += size) {
      for (let b = 0; b < size; b++) dst.setUint8(i + size - 1 - b, src.getUint8(i + b));
    }
  }
  return out;
}

/** Values stored inside the TensorProto (not external). */
export function decodeTensorProto(t: TensorProto, dtype: DType): TypedArray {
  const count = sizeOf(t.dims.map(Number));
  if (t.rawData.byteLength > 0 || count === 0) return fromRawBytes(t.rawData, dtype, count, t.name);
  const ctor = ctorFor(dtype, t.name);
  const field = typedField(t, dtype);
  if (field.length !== count) {
    throw new GradsightError(
      'model-corrupt',
      `tensor '${t.name}' stores ${field.length} values but its dims need ${count}`,
      { hint: 'the file is truncated or damaged; download/export it again', details: { tensor: t.name } },
    );
  }
  const out = new ctor(count);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    for (let i = 0; i < count; i++) out[i] = BigInt(field[i]!);
  } else {
    for (let i = 0; i < count; i++) out[i] = Number(field[i]!);
  }
  return out;
}

function typedField(t: TensorProto, dtype: DType): readonly (number | bigint)[] {
  switch (dtype) {
    case 'float32':
      return t.floatData;
    case 'float64':
      return t.doubleData;
    case 'int64':
      return t.int64Data;
    case 'uint32':
    case 'uint64':
      return t.uint64Data;
    default:
      // int8/uint8/int16/uint16/int32/bool all live in int32_data.
      return t.int32Data;
  }
}
