// onnxruntime-node's own log lines stay quiet: a model that ONNX Runtime refuses to run yields only
// gradsight's typed error on stderr (ORT's `[E:onnxruntime:...]` line used to print before it).

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { runCli } from '../helpers/cli.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { seededValues } from '../helpers/tiny-models.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-ort-log-'));
  // A Conv whose weights have 2 input channels for a 3-channel input: ORT fails when it runs it.
  const model = buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['batch', 3, 8, 8] }],
    outputs: [{ name: 'logits', shape: ['batch', 3] }],
    initializers: [{ name: 'w', dims: [3, 2, 3, 3], values: seededValues(54, 1) }],
    nodes: [
      { op: 'Conv', inputs: ['input', 'w'], outputs: ['c'] },
      { op: 'GlobalAveragePool', inputs: ['c'], outputs: ['p'] },
      { op: 'Flatten', inputs: ['p'], outputs: ['logits'] },
    ],
  });
  await writeFile(join(dir, 'bad.onnx'), model);
  const png = await sharp({
    create: { width: 8, height: 8, channels: 3, background: { r: 9, g: 99, b: 199 } },
  })
    .png()
    .toBuffer();
  await writeFile(join(dir, 'p.png'), png);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a model failing inside ONNX Runtime prints only the typed error', async () => {
  const r = await runCli(['predict', join(dir, 'bad.onnx'), join(dir, 'p.png')]);
  assert.equal(r.timedOut, false);
  assert.equal(r.code, 1);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0]!, /^error\[runtime-error\]: ONNX Runtime failed to run the model: .*Conv/);
  assert.match(lines[1]!, /^ {2}hint: /);
  assert.equal(lines.length, 2, `only gradsight's two lines, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /onnxruntime:/);
});
