// ONNX TensorProto.DataType <-> gradsight DType, and element byte sizes.

import { TensorProto_DataType as T } from 'onnx-buf';
import type { DType } from '../tensor/tensor.ts';

const toDType: Partial<Record<number, DType>> = {
  [T.FLOAT]: 'float32',
  [T.DOUBLE]: 'float64',
  [T.FLOAT16]: 'float16',
  [T.BFLOAT16]: 'bfloat16',
  [T.INT8]: 'int8',
  [T.UINT8]: 'uint8',
  [T.INT16]: 'int16',
  [T.UINT16]: 'uint16',
  [T.INT32]: 'int32',
  [T.UINT32]: 'uint32',
  [T.INT64]: 'int64',
  [T.UINT64]: 'uint64',
  [T.BOOL]: 'bool',
  [T.STRING]: 'string',
};

const fromDType = Object.fromEntries(Object.entries(toDType).map(([k, v]) => [v, Number(k)])) as Record<
  DType,
  number
>;

/** undefined for types gradsight does not model (complex, float8, int4, ...). */
export function dtypeFromOnnx(t: number): DType | undefined {
  return toDType[t];
}

export function dtypeToOnnx(d: DType): T {
  return fromDType[d];
}

const sizes: Record<DType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  bool: 1,
  string: 0,
};

/** Bytes per element in raw_data; 0 for string (variable length). */
export function byteSize(d: DType): number {
  return sizes[d];
}
