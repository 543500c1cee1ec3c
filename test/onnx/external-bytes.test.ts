// External data by range: packRanges joins near spans and keeps far ones apart, externalSlice reads a
// tensor back from the packed buffer, and withPackedOffsets points the model into that buffer so ONNX
// Runtime computes what it computes with the whole file (two tensors 1 MiB apart, one with no
// `length`).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withPackedOffsets } from '../../src/onnx/external-bytes.ts';
import { externalSlice, needsOffsetRewrite, packRanges } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { float32 } from '../../src/tensor/tensor.ts';
import { buildModel } from '../helpers/onnx-builder.ts';

test('packRanges: spans within 64 KiB are joined (from 0 when near the start), far ones kept apart', () => {
  assert.deepEqual(
    packRanges([
      { offset: 100, length: 8 },
      { offset: 5_000_000, length: 16 },
      { offset: 120, length: 4 },
    ]),
    [
      { offset: 0, length: 124, at: 0 },
      { offset: 5_000_000, length: 16, at: 124 },
    ],
  );
  const whole = packRanges([
    { offset: 0, length: 400 },
    { offset: 400, length: 100 },
  ]);
  assert.deepEqual(whole, [{ offset: 0, length: 500, at: 0 }]);
  assert.equal(needsOffsetRewrite([{ data: new Uint8Array(500), ranges: whole }]), false);
});

test('externalSlice reads inside a range and refuses what was not read', () => {
  const data = Uint8Array.from([1, 2, 3, 4, 5, 6]);
  const file = { data, ranges: [{ offset: 1000, length: 4, at: 2 }] };
  assert.deepEqual([...externalSlice(file, 1001, 2)!], [4, 5]);
  assert.equal(externalSlice(file, 1003, 2), undefined, 'past the range');
  assert.equal(externalSlice(file, 10, 2), undefined, 'a span not read');
  assert.deepEqual([...externalSlice(data, 4, 2)!], [5, 6]);
  assert.equal(externalSlice(data, 5, 2), undefined);
});

test('ONNX Runtime on packed ranges with rewritten offsets equals the whole file', async () => {
  const FAR = 2 ** 20;
  const a = new Float32Array([1.5, -2, 0.25, 4]);
  const b = new Float32Array([10, 20, -30, 0.5]);
  const file = new Uint8Array(FAR + 16);
  file.set(new Uint8Array(a.buffer), 64);
  file.set(new Uint8Array(b.buffer), FAR);
  const model = buildModel({
    inputs: [{ name: 'x', shape: [4] }],
    outputs: [{ name: 'y', shape: [4] }],
    initializers: [
      { name: 'a', dims: [4], values: [], external: { location: 'w.bin', offset: 64, length: 16 } },
      // No length: implied by dims and dtype (16 bytes).
      { name: 'b', dims: [4], values: [], external: { location: 'w.bin', offset: FAR } },
    ],
    nodes: [
      { op: 'Mul', inputs: ['x', 'a'], outputs: ['m'] },
      { op: 'Add', inputs: ['m', 'b'], outputs: ['y'] },
    ],
  });
  const ranges = packRanges([
    { offset: 64, length: 16 },
    { offset: FAR, length: 16 },
  ]);
  const packed = new Uint8Array(ranges.at(-1)!.at + 16);
  for (const r of ranges) packed.set(file.subarray(r.offset, r.offset + r.length), r.at);
  assert.equal(packed.byteLength, 80 + 16, 'the first span from 0, the far one alone');
  const rewritten = withPackedOffsets(model, new Map([['w.bin', { data: packed, ranges }]]));
  assert.notDeepEqual(rewritten, model);
  const x = float32(new Float32Array([1, 2, 3, 4]), [4]);
  const whole = await nodeRuntime.createSession(model, { externalData: [{ path: 'w.bin', data: file }] });
  const byRange = await nodeRuntime.createSession(model, {
    externalData: [{ path: 'w.bin', data: packed, ranges }],
  });
  try {
    const want = [1 * 1.5 + 10, 2 * -2 + 20, 3 * 0.25 - 30, 4 * 4 + 0.5];
    assert.deepEqual([...(await whole.run({ x })).y!.data], want);
    assert.deepEqual([...(await byRange.run({ x })).y!.data], want);
  } finally {
    await whole.release();
    await byRange.release();
  }
});
