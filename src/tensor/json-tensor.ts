// A tensor from JSON: a number, or nested arrays of numbers (rectangular), cast to a given dtype.
// Extra model inputs (token ids, masks) are often easier to write as JSON than as .npy.

import { GradsightError } from '../errors.ts';
import type { DType, Tensor, TypedArray } from './tensor.ts';

const ARRAYS: Partial<Record<DType, (n: number) => TypedArray>> = {
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
  int8: (n) => new Int8Array(n),
  uint8: (n) => new Uint8Array(n),
  int16: (n) => new Int16Array(n),
  uint16: (n) => new Uint16Array(n),
  int32: (n) => new Int32Array(n),
  uint32: (n) => new Uint32Array(n),
  int64: (n) => new BigInt64Array(n),
  uint64: (n) => new BigUint64Array(n),
  bool: (n) => new Uint8Array(n),
};

export function tensorFromJson(value: unknown, dtype: DType, source: string): Tensor {
  const bad = (why: string) =>
    new GradsightError('bad-argument', `${source}: ${why}`, {
      hint: 'give a number or nested arrays of numbers, e.g. [[101, 2054, 102]] for token ids [1, 3]',
    });
  const make = ARRAYS[dtype];
  if (!make) throw bad(`cannot make a ${dtype} tensor from JSON`);
  const dims: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) dims.push(v.length);
  const flat: number[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth === dims.length) {
      const x = typeof v === 'boolean' ? Number(v) : v;
      if (typeof x !== 'number' || !Number.isFinite(x))
        throw bad(`${JSON.stringify(v)} is not a finite number`);
      const integer = dtype.startsWith('int') || dtype.startsWith('uint') || dtype === 'bool';
      if (integer && !Number.isInteger(x)) throw bad(`${x} is not an integer (the input is ${dtype})`);
      flat.push(x);
      return;
    }
    if (!Array.isArray(v) || v.length !== dims[depth]) throw bad('the nested arrays are not rectangular');
    for (const e of v) walk(e, depth + 1);
  };
  walk(value, 0);
  const data = make(flat.length);
  flat.forEach((x, i) => {
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(x);
    else data[i] = x;
  });
  return { dtype, dims, data };
}
