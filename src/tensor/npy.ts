// NumPy .npy encode/decode from bytes (platform-neutral). Reads format 1.0/2.0/3.0, little-endian,
// C order; writes 1.0 (2.0 only for huge headers) with the header padded to 64 bytes as NumPy does.
// Reference tensors are .npy files, and users compare gradsight's maps with their own in NumPy.

import { GradsightError } from '../errors.ts';
import { type DType, sizeOf, type Tensor, type TypedArray } from './tensor.ts';

interface NpyType {
  readonly dtype: DType;
  readonly descr: string;
  readonly size: number;
  readonly make: (buf: ArrayBuffer, n: number) => TypedArray;
}

// All JS engines gradsight targets are little-endian, so typed arrays read '<' data directly.
const TYPES: readonly NpyType[] = [
  { dtype: 'float32', descr: '<f4', size: 4, make: (b, n) => new Float32Array(b, 0, n) },
  { dtype: 'float64', descr: '<f8', size: 8, make: (b, n) => new Float64Array(b, 0, n) },
  { dtype: 'int64', descr: '<i8', size: 8, make: (b, n) => new BigInt64Array(b, 0, n) },
  { dtype: 'uint64', descr: '<u8', size: 8, make: (b, n) => new BigUint64Array(b, 0, n) },
  { dtype: 'int32', descr: '<i4', size: 4, make: (b, n) => new Int32Array(b, 0, n) },
  { dtype: 'uint32', descr: '<u4', size: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  { dtype: 'int16', descr: '<i2', size: 2, make: (b, n) => new Int16Array(b, 0, n) },
  { dtype: 'uint16', descr: '<u2', size: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  { dtype: 'int8', descr: '|i1', size: 1, make: (b, n) => new Int8Array(b, 0, n) },
  { dtype: 'uint8', descr: '|u1', size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  // bool is one byte per element (0 or 1), held in a Uint8Array.
  { dtype: 'bool', descr: '|b1', size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
];

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const SUPPORTED = TYPES.map((t) => `${t.dtype} (${t.descr})`).join(', ');

export function decodeNpy(bytes: Uint8Array, source = '.npy data'): Tensor {
  const bad = (why: string, hint?: string) =>
    new GradsightError('bad-npy', `${source}: ${why}`, {
      hint: hint ?? 'Save the array with numpy.save(path, np.ascontiguousarray(a)).',
      details: { source },
    });
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw bad(
      bytes.length === 0 ? 'empty file, not a .npy file' : 'not a .npy file (missing the \\x93NUMPY magic)',
    );
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerStart = 10;
    headerLen = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad('truncated header');
    headerStart = 12;
    headerLen = view.getUint32(8, true);
  } else {
    throw bad(`unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw bad('truncated header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, dataStart),
  );

  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw bad(
      `unreadable header ${JSON.stringify(header.trim())}`,
      'Structured (record) arrays are not supported.',
    );
  }
  if (fortran === 'True') {
    throw bad('array is in Fortran order', 'Save np.ascontiguousarray(a) (C order) instead.');
  }
  // '|' and '<' are equivalent for one-byte types; NumPy writes '|'.
  const norm = descr.length === 3 && descr[2] === '1' && descr[0] === '<' ? `|${descr.slice(1)}` : descr;
  const type = TYPES.find((t) => t.descr === norm);
  if (type === undefined) {
    const why = descr.startsWith('>') ? `big-endian dtype ${descr}` : `unsupported dtype ${descr}`;
    throw bad(why, `Supported: ${SUPPORTED}, little-endian. Convert with a.astype('<f4').`);
  }
  const dims = shapeText
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s !== '')
    .map((s) => (/^\d+$/.test(s) ? Number(s) : Number.NaN));
  if (dims.some((d) => !Number.isSafeInteger(d))) throw bad(`invalid shape (${shapeText})`);

  const n = sizeOf(dims);
  const expected = n * type.size;
  const actual = bytes.length - dataStart;
  if (actual < expected) {
    throw bad(
      `truncated: shape (${dims.join(', ')}) ${type.dtype} needs ${expected} data bytes, found ${actual}`,
    );
  }
  if (actual > expected) {
    throw bad(
      `data length mismatch: shape (${dims.join(', ')}) ${type.dtype} needs ${expected} bytes, found ${actual}`,
    );
  }
  // Copy so the typed array is aligned and does not alias the caller's buffer. (Not `bytes.slice`:
  // on a Node Buffer that is a view, and `.buffer` would be the whole, possibly pooled, allocation.)
  const copy = new Uint8Array(expected);
  copy.set(bytes.subarray(dataStart, dataStart + expected));
  const buf = copy.buffer;
  return { dtype: type.dtype, dims, data: type.make(buf, n) };
}

export function encodeNpy(tensor: Tensor): Uint8Array {
  const type = TYPES.find((t) => t.dtype === tensor.dtype);
  const n = sizeOf(tensor.dims);
  if (type === undefined) {
    throw new GradsightError('unsupported-dtype', `cannot write a ${tensor.dtype} tensor as .npy`, {
      hint: `Supported: ${SUPPORTED}.`,
      details: { dtype: tensor.dtype },
    });
  }
  if (tensor.data.length !== n || tensor.data.BYTES_PER_ELEMENT !== type.size) {
    throw new GradsightError(
      'bad-argument',
      `tensor data (${tensor.data.constructor.name} of ${tensor.data.length}) does not match ` +
        `${tensor.dtype} [${tensor.dims.join(', ')}]`,
      { details: { dtype: tensor.dtype, dims: tensor.dims } },
    );
  }
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  const dict = `{'descr': '${type.descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad with spaces and a final newline so the data starts on a 64-byte boundary.
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  if (total - prefix > 0xffff) {
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  }
  const header = dict.padEnd(total - prefix - 1, ' ') + '\n';
  const out = new Uint8Array(total + n * type.size);
  out.set(MAGIC, 0);
  out[6] = prefix === 10 ? 1 : 2;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (prefix === 10) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  const d = tensor.data;
  out.set(new Uint8Array(d.buffer, d.byteOffset, n * type.size), total);
  return out;
}
