// When an ImageModel makes its own ONNX Runtime session (ImageModelOptions.session): at open by
// default, so a model ONNX Runtime cannot load fails there with a typed error; or at its first forward
// run ('lazy'), with the same error then and the same outputs. And `spinning`, checked like the others.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { float32 } from '../../src/tensor/tensor.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { seededValues, tinyCnn } from '../helpers/tiny-models.ts';

const root = mkdtempSync(join(tmpdir(), 'gradsight-session-'));
after(() => rmSync(root, { recursive: true, force: true }));
const file = (name: string, bytes: Uint8Array) => {
  const p = join(root, name);
  writeFileSync(p, bytes);
  return p;
};

/** A graph gradsight reads but ONNX Runtime refuses: an op type no ONNX domain defines. */
const unknownOp = () =>
  buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['batch', 3, 8, 8] }],
    outputs: [{ name: 'out', shape: ['batch', 3, 8, 8] }],
    nodes: [{ op: 'NotAnOnnxOp', inputs: ['input'], outputs: ['out'] }],
  });

const batch = float32(Float32Array.from(seededValues(2 * 3 * 8 * 8, 7)), [2, 3, 8, 8]);
const modelInvalid = (e: unknown) => {
  assert.ok(isGradsightError(e, 'model-invalid'), `expected model-invalid, got ${String(e)}`);
  assert.match(e.message, /ONNX Runtime cannot load the model/);
  assert.ok(e.hint);
  return true;
};

test('by default the session is made at open: a model ONNX Runtime refuses fails there, typed', async () => {
  await assert.rejects(
    openImageModel(file('bad.onnx', unknownOp()), { preprocess: { size: [8, 8] } }),
    modelInvalid,
  );
});

test("session: 'lazy' opens such a model and fails, with the same typed error, at the first run", async () => {
  const m = await openImageModel(file('bad-lazy.onnx', unknownOp()), {
    preprocess: { size: [8, 8] },
    session: 'lazy',
  });
  try {
    await assert.rejects(m.run(batch), modelInvalid);
    await assert.rejects(m.run(batch), modelInvalid, 'a failed session is not kept');
  } finally {
    await m.release();
  }
});

test("session: 'lazy' and spinning: false give the eager session's outputs", async () => {
  const path = file('cnn.onnx', tinyCnn());
  const eager = await openImageModel(path);
  const lazy = await openImageModel(path, { session: 'lazy', spinning: false });
  try {
    assert.equal(lazy.spinning, false);
    assert.deepEqual(lazy.sessionOptions(), { spinning: false });
    const a = await eager.run(batch);
    const b = await lazy.run(batch);
    assert.deepEqual(b.dims, [2, 3]);
    assert.deepEqual([...b.data], [...a.data]);
  } finally {
    await eager.release();
    await lazy.release();
  }
});

test('session and spinning of the wrong kind are bad arguments with a hint', async () => {
  const path = file('cnn2.onnx', tinyCnn());
  for (const opts of [{ session: 'sometimes' }, { spinning: 'no' }]) {
    await assert.rejects(openImageModel(path, opts as never), (e: unknown) => {
      assert.ok(isGradsightError(e, 'bad-argument'), String(e));
      assert.match(e.message, /session|spinning/);
      assert.ok(e.hint);
      return true;
    });
  }
});
