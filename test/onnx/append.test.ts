// Appending graph outputs to serialized bytes: ORT sees the new outputs, the original ones are unchanged.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { allocateWithRoom, appendGraphOutputs, decodeModel, encodeGraphPatch } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { float32 } from '../../src/tensor/tensor.ts';
import { modelPath, skipNoShared } from '../helpers/shared.ts';

test('an appended output exposes an intermediate feature map', { skip: skipNoShared }, async () => {
  const bytes = new Uint8Array(readFileSync(modelPath('squeezenet1_1_random')));
  const model = decodeModel(bytes);
  const last = model.graph.nodes.filter((n) => n.opType === 'Concat').at(-1)!.outputs[0]!;
  const patched = appendGraphOutputs(bytes, [last]);
  assert.deepEqual(
    decodeModel(patched).graph.outputs.map((o) => o.name),
    ['logits', last],
  );
  const input = float32(new Float32Array(3 * 224 * 224).fill(0.5), [1, 3, 224, 224]);
  const session = await nodeRuntime.createSession(patched);
  const original = await nodeRuntime.createSession(bytes);
  try {
    const out = await session.run({ input });
    assert.deepEqual(out[last]!.dims, [1, 512, 13, 13]);
    assert.deepEqual(out.logits!.data, (await original.run({ input })).logits!.data);
  } finally {
    await session.release();
    await original.release();
  }
});

test('appends chain in place in a buffer with room; an earlier link is copied, never overwritten', () => {
  const base = encodeGraphPatch({ output: [{ name: 'logits' }] });
  const model = allocateWithRoom(base.length, 4096);
  model.set(base);
  const a = appendGraphOutputs(model, ['a']);
  const b = appendGraphOutputs(a, ['b']);
  // The chain shares the model's buffer: no copy of the model was made.
  assert.equal(a.buffer, model.buffer);
  assert.equal(b.buffer, model.buffer);
  const aBytes = a.slice();
  const bBytes = b.slice();
  // Appending again to an earlier link (the model, then a) writes elsewhere.
  const c = appendGraphOutputs(model, ['c']);
  const d = appendGraphOutputs(a, ['d']);
  assert.notEqual(c.buffer, model.buffer);
  assert.notEqual(d.buffer, model.buffer);
  assert.deepEqual(a, aBytes);
  assert.deepEqual(b, bBytes);
  const names = (x: Uint8Array) => fromBinary(ModelProtoSchema, x).graph!.output.map((o) => o.name);
  assert.deepEqual(names(b), ['logits', 'a', 'b']);
  assert.deepEqual(names(c), ['logits', 'c']);
  assert.deepEqual(names(d), ['logits', 'a', 'd']);
  // The chain goes on from its end, and a patch larger than the room left is copied.
  const e = appendGraphOutputs(b, ['e']);
  assert.equal(e.buffer, model.buffer);
  const big = appendGraphOutputs(
    e,
    Array.from({ length: 1000 }, (_, i) => `big${i}`),
  );
  assert.notEqual(big.buffer, model.buffer);
  assert.deepEqual(names(e), ['logits', 'a', 'b', 'e']);
});
