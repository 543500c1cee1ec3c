// .npy encode/decode: round trips for every dtype and edge shape, byte-exact headers as NumPy writes
// them, real reference files, and every malformed-input case mapping to 'bad-npy'.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { decodeNpy, encodeNpy } from '../../src/tensor/npy.ts';
import { readNpy, writeNpy } from '../../src/tensor/npy-node.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { sharedDir, skipNoShared } from '../helpers/shared.ts';

const samples: Tensor[] = [
  { dtype: 'float32', dims: [2, 3], data: new Float32Array([1.5, -2, 0, Number.NaN, Infinity, 3e-38]) },
  { dtype: 'float64', dims: [3], data: new Float64Array([Math.PI, -0, 1e300]) },
  { dtype: 'int64', dims: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 62n + 1n]) },
  { dtype: 'int32', dims: [1, 1, 2], data: new Int32Array([-2147483648, 2147483647]) },
  { dtype: 'uint8', dims: [4], data: new Uint8Array([0, 1, 254, 255]) },
  { dtype: 'bool', dims: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
  { dtype: 'int8', dims: [2], data: new Int8Array([-128, 127]) },
  { dtype: 'uint16', dims: [1], data: new Uint16Array([65535]) },
  { dtype: 'float32', dims: [], data: new Float32Array([42]) },
  { dtype: 'float32', dims: [0], data: new Float32Array(0) },
  { dtype: 'int64', dims: [3, 0, 2], data: new BigInt64Array(0) },
];

for (const s of samples) {
  test(`round trip ${s.dtype} [${s.dims.join(',')}]`, () => {
    const bytes = encodeNpy(s);
    const headerEnd = 10 + (bytes[8]! | (bytes[9]! << 8));
    assert.equal(headerEnd % 64, 0, 'data starts on a 64-byte boundary');
    assert.equal(bytes[headerEnd - 1], 0x0a, 'header ends with a newline');
    const back = decodeNpy(bytes);
    assert.equal(back.dtype, s.dtype);
    assert.deepEqual(back.dims, s.dims);
    assert.deepEqual(back.data, s.data);
  });
}

test('header text matches what numpy.save writes', () => {
  const enc = (t: Tensor) => {
    const b = encodeNpy(t);
    return new TextDecoder().decode(b.subarray(10, 10 + (b[8]! | (b[9]! << 8)))).trimEnd();
  };
  assert.equal(
    enc({ dtype: 'float32', dims: [1, 3, 224, 224], data: new Float32Array(3 * 224 * 224) }),
    "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }",
  );
  assert.equal(
    enc({ dtype: 'int64', dims: [5], data: new BigInt64Array(5) }),
    "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }",
  );
  assert.equal(
    enc({ dtype: 'bool', dims: [], data: new Uint8Array(1) }),
    "{'descr': '|b1', 'fortran_order': False, 'shape': (), }",
  );
});

/** Builds a .npy file by hand (independent of encodeNpy) for the error cases. */
function npy(header: string, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const v = new DataView(out.buffer);
  if (version === 1) v.setUint16(8, h.length, true);
  else v.setUint32(8, h.length, true);
  out.set(h, pre);
  out.set(data, pre + h.length);
  return out;
}

test('reads format 2.0 and double-quoted, reordered headers', () => {
  const data = new Uint8Array(new Float64Array([1, 2]).buffer);
  const t = decodeNpy(npy('{"shape": (2,), "fortran_order": False, "descr": "<f8"}\n', data, 2));
  assert.equal(t.dtype, 'float64');
  assert.deepEqual(t.dims, [2]);
  assert.deepEqual(Array.from(t.data as Float64Array), [1, 2]);
});

test('reads an unaligned view without aliasing it', () => {
  const inner = encodeNpy({ dtype: 'float32', dims: [2], data: new Float32Array([7, 8]) });
  const outer = new Uint8Array(inner.length + 1);
  outer.set(inner, 1);
  const t = decodeNpy(outer.subarray(1));
  assert.deepEqual(Array.from(t.data as Float32Array), [7, 8]);
});

const f4 = (n: number) => new Uint8Array(n * 4);
const badCases: [string, Uint8Array, RegExp][] = [
  ['empty', new Uint8Array(0), /empty/],
  ['bad magic', new TextEncoder().encode('PK\x03\x04 not numpy at all'), /magic/],
  [
    'version 9',
    npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f4(1), 1).map((b, i) =>
      i === 6 ? 9 : b,
    ),
    /version 9/,
  ],
  ['fortran order', npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", f4(4)), /Fortran/],
  ['big-endian', npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", f4(1)), /big-endian/],
  [
    'float16',
    npy("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(2)),
    /unsupported dtype <f2/,
  ],
  ['structured', npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", f4(1)), /header/],
  ['truncated data', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f4(2)), /truncated/],
  ['extra data', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f4(2)), /mismatch/],
  [
    'truncated header',
    npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }").subarray(0, 30),
    /truncated header/,
  ],
  ['bad shape', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", f4(1)), /shape/],
];
for (const [name, bytes, re] of badCases) {
  test(`bad-npy: ${name}`, () => {
    assert.throws(
      () => decodeNpy(bytes, 'x.npy'),
      (e: unknown) => isGradsightError(e, 'bad-npy') && re.test(e.message) && e.message.startsWith('x.npy'),
    );
  });
}

test('encode rejects a dtype .npy cannot hold and inconsistent data', () => {
  assert.throws(
    () => encodeNpy({ dtype: 'string', dims: [1], data: new Uint8Array(1) }),
    (e: unknown) => isGradsightError(e, 'unsupported-dtype'),
  );
  assert.throws(
    () => encodeNpy({ dtype: 'float32', dims: [2], data: new Float64Array(2) }),
    (e: unknown) => isGradsightError(e, 'bad-argument'),
  );
});

test('writeNpy/readNpy: atomic write leaves no temp file; typed errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-npy-'));
  try {
    const t: Tensor = { dtype: 'float32', dims: [2], data: new Float32Array([1, 2]) };
    const p = join(dir, 'a.npy');
    await writeNpy(p, t);
    await writeNpy(p, t); // overwrite in place
    assert.deepEqual(await readdir(dir), ['a.npy']);
    assert.deepEqual(await readNpy(p), t);
    assert.deepEqual(new Uint8Array(await readFile(p)), encodeNpy(t));
    await assert.rejects(readNpy(join(dir, 'missing.npy')), (e: unknown) =>
      isGradsightError(e, 'file-not-found'),
    );
    await assert.rejects(readNpy(dir), (e: unknown) => isGradsightError(e, 'file-unreadable'));
    await assert.rejects(writeNpy(join(dir, 'no', 'such', 'dir.npy'), t), (e: unknown) =>
      isGradsightError(e, 'output-unwritable'),
    );
    assert.deepEqual(await readdir(dir), ['a.npy']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('reads real reference files', { skip: skipNoShared }, async () => {
  const dir = join(sharedDir, 'reference', 'mobilenet_v2_1.0_224_quant', 'cat');
  const input = await readNpy(join(dir, 'input.npy'));
  assert.equal(input.dtype, 'float32');
  assert.deepEqual(input.dims, [3, 224, 224]);
  // preprocess.json maps [0, 255] to [-1, 0.99...]: every value must lie in that range.
  for (const v of input.data as Float32Array) assert.ok(v >= -1 && v <= 1);
  const logits = await readNpy(join(dir, 'logits.npy'));
  assert.equal(logits.data.length, 1001);
  // index.json lists 286 (Egyptian cat) as top-1.
  let best = 0;
  for (let i = 0; i < logits.data.length; i++)
    if ((logits.data[i] as number) > (logits.data[best] as number)) best = i;
  assert.equal(best, 286);
  // Re-encoding a NumPy-written file reproduces it byte for byte.
  assert.deepEqual(encodeNpy(input), new Uint8Array(await readFile(join(dir, 'input.npy'))));
});

test('decodeNpy reads Node Buffers, including views into a larger allocation', () => {
  const t = { dtype: 'float32' as const, dims: [2, 3], data: new Float32Array([1.5, -2, 3, 4.25, 5, 6]) };
  const bytes = encodeNpy(t);
  const plain = Buffer.from(bytes);
  assert.deepEqual(decodeNpy(plain), t);
  // A Buffer that starts 3 bytes into a larger ArrayBuffer (unaligned, with junk on both sides).
  const big = Buffer.alloc(bytes.length + 10, 0xab);
  big.set(bytes, 3);
  assert.deepEqual(decodeNpy(big.subarray(3, 3 + bytes.length)), t);
});
