// loadModelFiles reads only inside the model's folder: labels.txt, preprocess.json and external data
// that are symlinks to elsewhere are refused before they are read (their bytes never reach an error),
// a model.onnx found by naming a folder must be inside it, and FIFOs or directories where a file is
// expected are typed errors at once. A user-given --labels path may be anywhere.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ErrorCode, isGradsightError } from '../../src/errors.ts';
import { loadModelFiles } from '../../src/model/load-node.ts';
import { tinyCnn, tinyCnnConvWeightBytes } from '../helpers/tiny-models.ts';

let dir = '';
const p = (...parts: string[]) => join(dir, ...parts);
const SECRET = 'TOPSECRET-LINE-1\nTOPSECRET-LINE-2\nTOPSECRET-LINE-3\n';

async function folder(name: string, files: Record<string, string | Uint8Array> = {}): Promise<string> {
  await mkdir(p(name), { recursive: true });
  await writeFile(p(name, 'model.onnx'), tinyCnn());
  for (const [f, data] of Object.entries(files)) await writeFile(p(name, f), data);
  return p(name);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-confine-'));
  await writeFile(p('secret.txt'), SECRET);
  await writeFile(p('secret.json'), '{"size": [8, 8]}');
  await symlink(p('secret.txt'), join(await folder('labels-link'), 'labels.txt'));
  await symlink(p('secret.json'), join(await folder('preprocess-link'), 'preprocess.json'));
  await symlink(p('secret.txt'), join(await folder('preprocess-secret'), 'preprocess.json'));
  await symlink('/etc/passwd', join(await folder('passwd'), 'preprocess.json'));
  // Links that stay inside the folder are fine.
  await mkdir(p('inner-link', 'meta'), { recursive: true });
  await writeFile(p('inner-link', 'model.onnx'), tinyCnn());
  await writeFile(p('inner-link', 'meta', 'l.txt'), 'a\nb\nc\n');
  await symlink(p('inner-link', 'meta', 'l.txt'), p('inner-link', 'labels.txt'));
  // model.onnx itself a link out of the folder.
  await writeFile(p('elsewhere.onnx'), tinyCnn());
  await mkdir(p('model-link'));
  await symlink(p('elsewhere.onnx'), p('model-link', 'model.onnx'));
  // A model file named directly through a link: side files beside the link.
  await mkdir(p('named-link'));
  await writeFile(p('named-link', 'labels.txt'), 'x\ny\nz\n');
  await symlink(p('elsewhere.onnx'), p('named-link', 'm.onnx'));
  // FIFOs and directories where files are expected.
  await folder('fifo-labels');
  execFileSync('mkfifo', [p('fifo-labels', 'labels.txt')]);
  await folder('dir-preprocess');
  await mkdir(p('dir-preprocess', 'preprocess.json'));
  await mkdir(p('fifo-model'));
  execFileSync('mkfifo', [p('fifo-model', 'model.onnx')]);
  await mkdir(p('fifo-data'));
  await writeFile(p('fifo-data', 'model.onnx'), tinyCnn({ externalWeights: 'w.bin' }));
  execFileSync('mkfifo', [p('fifo-data', 'w.bin')]);
  await mkdir(p('dir-data', 'w.bin'), { recursive: true });
  await writeFile(p('dir-data', 'model.onnx'), tinyCnn({ externalWeights: 'w.bin' }));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const refused = async (input: string, code: ErrorCode, opts = {}) => {
  const t0 = performance.now();
  await assert.rejects(loadModelFiles(input, opts), (e: unknown) => {
    assert.ok(isGradsightError(e, code), `expected ${code}, got ${String(e)}`);
    assert.ok(e.hint, 'a hint');
    assert.doesNotMatch(`${e.message}\n${e.hint}`, /TOPSECRET|root:/, 'no bytes of the linked file');
    return true;
  });
  assert.ok(performance.now() - t0 < 5000, 'refused at once');
};

test('labels.txt linked outside the folder is refused', async () => {
  await refused(p('labels-link'), 'file-outside-model-dir');
});

test('preprocess.json linked outside the folder is refused, even when it is valid', async () => {
  await refused(p('preprocess-link'), 'file-outside-model-dir');
  await refused(p('preprocess-secret'), 'file-outside-model-dir');
});

test('preprocess.json linked to /etc/passwd is refused without echoing it', async () => {
  await refused(p('passwd'), 'file-outside-model-dir');
});

test('links that stay inside the folder are followed', async () => {
  const files = await loadModelFiles(p('inner-link'));
  assert.deepEqual(files.labels, ['a', 'b', 'c']);
});

test('a user-given --labels file may be anywhere', async () => {
  const files = await loadModelFiles(p('labels-link'), { labelsPath: p('secret.txt') });
  assert.deepEqual(files.labels, ['TOPSECRET-LINE-1', 'TOPSECRET-LINE-2', 'TOPSECRET-LINE-3']);
});

test('model.onnx found in a named folder must be inside it', async () => {
  await refused(p('model-link'), 'file-outside-model-dir');
});

test('a model file named directly may be a link; its side files are read beside the link', async () => {
  const files = await loadModelFiles(p('named-link', 'm.onnx'));
  assert.deepEqual(files.labels, ['x', 'y', 'z']);
});

test('FIFOs and directories where a file is expected are refused at once', async () => {
  await refused(p('fifo-labels'), 'not-a-regular-file');
  await refused(p('dir-preprocess'), 'file-unreadable');
  await refused(p('fifo-model'), 'not-a-regular-file');
  await refused(p('fifo-model', 'model.onnx'), 'not-a-regular-file');
  await refused(p('fifo-data'), 'not-a-regular-file');
  await refused(p('dir-data'), 'file-unreadable');
});

test('external data inside the folder still loads (same weights)', async () => {
  await mkdir(p('ext-ok'));
  await writeFile(p('ext-ok', 'model.onnx'), tinyCnn({ externalWeights: 'w.bin' }));
  await writeFile(p('ext-ok', 'w.bin'), tinyCnnConvWeightBytes());
  const files = await loadModelFiles(p('ext-ok'));
  const w = files.model.graph.initializers.get('conv.weight')!.values() as Float32Array;
  assert.deepEqual(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), tinyCnnConvWeightBytes());
});
