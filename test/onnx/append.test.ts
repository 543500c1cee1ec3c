// Appending graph outputs to serialized bytes: ORT sees the new outputs, the original ones are unchanged.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { appendGraphOutputs, decodeModel } from '../../src/onnx/index.ts';
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
