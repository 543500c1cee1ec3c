// External data is read by range: only the bytes each tensor uses, by positioned reads, so a small
// tensor at an offset past 2 GiB of a 3 GiB (sparse) file loads, costs only the tensor, and the model
// run by ONNX Runtime (offsets rewritten into the packed buffer) gives the same logits as the same
// model with its weights inline.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadModelFiles } from '../../src/model/load-node.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { float32 } from '../../src/tensor/tensor.ts';
import { seededValues, tinyCnn, tinyCnnConvWeightBytes } from '../helpers/tiny-models.ts';

const GIB = 2 ** 30;
const OFFSET = 2.5 * GIB + 4096;
let dir = '';
const p = (...parts: string[]) => join(dir, ...parts);

/** A sparse file of `size` bytes (no disk used) holding `bytes` at `offset`. */
async function sparseFile(path: string, size: number, offset: number, bytes: Uint8Array) {
  const f = await open(path, 'w');
  try {
    await f.truncate(size);
    await f.write(bytes, 0, bytes.length, offset);
  } finally {
    await f.close();
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-external-'));
  await mkdir(p('big'));
  await writeFile(p('big', 'model.onnx'), tinyCnn({ externalWeights: 'w.bin', externalOffset: OFFSET }));
  await sparseFile(p('big', 'w.bin'), 3 * GIB, OFFSET, tinyCnnConvWeightBytes());
  await mkdir(p('short'));
  await writeFile(p('short', 'model.onnx'), tinyCnn({ externalWeights: 'w.bin', externalOffset: OFFSET }));
  await sparseFile(p('short', 'w.bin'), 1.5 * GIB, 0, new Uint8Array(4));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a tensor past 2 GiB of a 3 GiB file loads, reading only its 432 bytes', async () => {
  const before = process.memoryUsage().arrayBuffers;
  const files = await loadModelFiles(p('big'));
  assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 2 ** 20, 'no whole-file buffer');
  assert.equal(files.externalData.length, 1);
  assert.equal(files.externalData[0]!.data.byteLength, 108 * 4);
  const w = files.model.graph.initializers.get('conv.weight')!.values() as Float32Array;
  assert.deepEqual([...w], [...new Float32Array(seededValues(108, 1))]);
});

test('ONNX Runtime gives the same logits as with the weights inline', async () => {
  const files = await loadModelFiles(p('big'));
  const x = float32(new Float32Array(seededValues(2 * 3 * 8 * 8, 9)), [2, 3, 8, 8]);
  const external = await nodeRuntime.createSession(files.bytes, { externalData: files.externalData });
  const inline = await nodeRuntime.createSession(tinyCnn());
  try {
    const a = (await external.run({ input: x })).logits!;
    const b = (await inline.run({ input: x })).logits!;
    assert.deepEqual(a.dims, [2, 3]);
    assert.deepEqual([...a.data], [...b.data]);
  } finally {
    await external.release();
    await inline.release();
  }
  // And through the library's model (its sessions get the rewritten offsets too).
  const model = await openImageModel(p('big'));
  try {
    const [pred] = await model.predict(float32(x.data.slice(0, 192), [1, 3, 8, 8]), 3);
    const ref = await nodeRuntime.createSession(tinyCnn());
    const logits = (await ref.run({ input: float32(x.data.slice(0, 192), [1, 3, 8, 8]) })).logits!;
    await ref.release();
    const best = [...logits.data].indexOf(Math.max(...(logits.data as Float32Array)));
    assert.equal(pred!.top[0]!.index, best);
  } finally {
    await model.release();
  }
});

test('a tensor past the end of its file is model-corrupt, not a crash', async () => {
  await assert.rejects(
    loadModelFiles(p('short')),
    (e: unknown) => e instanceof Error && 'code' in e && e.code === 'model-corrupt',
  );
});
