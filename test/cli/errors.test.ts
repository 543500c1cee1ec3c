// Bad input to the CLI: every case is a typed one-line error with a hint, a non-zero exit code, no
// stack trace (unless --debug), and no hang (runCli kills the process after a timeout).

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { runCli } from '../helpers/cli.ts';
import { tinyCnn, tinyCnnConvWeightBytes } from '../helpers/tiny-models.ts';

let dir = '';
const p = (...parts: string[]) => join(dir, ...parts);

async function pngBytes(): Promise<Buffer> {
  return sharp({ create: { width: 16, height: 12, channels: 3, background: { r: 200, g: 30, b: 90 } } })
    .png()
    .toBuffer();
}

function randomBytes(n: number, seed: number): Uint8Array {
  let s = seed;
  return Uint8Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 24;
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-cli-errors-'));
  const model = tinyCnn();
  await writeFile(p('tiny.onnx'), model);
  await writeFile(p('empty.onnx'), new Uint8Array());
  await writeFile(p('truncated.onnx'), model.subarray(0, Math.floor(model.length * 0.6)));
  await writeFile(p('notes.onnx'), 'This is not a model.\nJust some text in a file.\n');
  await writeFile(p('photo.onnx'), await pngBytes());
  await writeFile(p('photo.png'), await pngBytes());
  await writeFile(p('broken.png'), (await pngBytes()).subarray(0, 40));
  for (const [i, n] of [64, 1000, 50_000].entries())
    await writeFile(p(`random${i}.onnx`), randomBytes(n, i + 7));
  // External data: outside the model folder by a relative path, and by a symlink.
  await mkdir(p('outside'));
  await writeFile(p('secret.bin'), tinyCnnConvWeightBytes());
  await writeFile(p('outside', 'model.onnx'), tinyCnn({ externalWeights: '../secret.bin' }));
  await mkdir(p('symlinked'));
  await symlink(p('secret.bin'), p('symlinked', 'w.bin'));
  await writeFile(p('symlinked', 'model.onnx'), tinyCnn({ externalWeights: 'w.bin' }));
  await mkdir(p('inside', 'weights'), { recursive: true });
  await writeFile(p('inside', 'weights', 'w.bin'), tinyCnnConvWeightBytes());
  await writeFile(p('inside', 'model.onnx'), tinyCnn({ externalWeights: 'weights/w.bin' }));
  await mkdir(p('missing-data'));
  await writeFile(p('missing-data', 'model.onnx'), tinyCnn({ externalWeights: 'gone.bin' }));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function expectTypedError(r: Awaited<ReturnType<typeof runCli>>, codes: readonly string[], exit = 1): string {
  assert.equal(r.timedOut, false, 'the command hung');
  assert.equal(r.code, exit, `exit code (stderr: ${r.stderr})`);
  const m = /^error\[([a-z-]+)\]: .+$/m.exec(r.stderr);
  assert.ok(m, `a one-line typed error on stderr, got: ${r.stderr}`);
  assert.ok(codes.includes(m[1]!), `code ${m[1]} not in ${codes.join(', ')}`);
  assert.match(r.stderr, /^ {2}hint: .+/m, 'a hint line');
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace without --debug');
  return m[1]!;
}

describe('bad models', () => {
  test('empty file', async () => {
    expectTypedError(await runCli(['inspect', p('empty.onnx')]), ['not-onnx']);
  });
  test('random bytes (3 seeds and sizes)', async () => {
    for (const i of [0, 1, 2]) {
      expectTypedError(await runCli(['inspect', p(`random${i}.onnx`)]), ['not-onnx', 'model-corrupt']);
    }
  });
  test('truncated model', async () => {
    expectTypedError(await runCli(['inspect', p('truncated.onnx')]), ['model-corrupt']);
  });
  test('a text file', async () => {
    expectTypedError(await runCli(['inspect', p('notes.onnx')]), ['not-onnx']);
  });
  test('a PNG renamed .onnx says it is a PNG', async () => {
    const r = await runCli(['predict', p('photo.onnx'), p('photo.png')]);
    expectTypedError(r, ['not-onnx']);
    assert.match(r.stderr, /PNG/);
  });
  test('missing file', async () => {
    const r = await runCli(['inspect', p('nope.onnx')]);
    expectTypedError(r, ['model-not-found']);
    assert.match(r.stderr, /nope\.onnx/);
  });
  test('external data outside the model folder (relative path and symlink)', async () => {
    const r = await runCli(['inspect', p('outside', 'model.onnx')]);
    expectTypedError(r, ['external-data-outside-model-dir']);
    assert.match(r.stderr, /secret\.bin/);
    expectTypedError(await runCli(['inspect', p('symlinked')]), ['external-data-outside-model-dir']);
  });
  test('external data file missing', async () => {
    expectTypedError(await runCli(['inspect', p('missing-data')]), ['external-data-missing']);
  });
  test('--debug adds the stack trace', async () => {
    const r = await runCli(['inspect', p('empty.onnx'), '--debug']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^\s+at /m);
  });
});

describe('bad images and flags', () => {
  test('an unreadable image fails the run, the good one is still classified', async () => {
    const r = await runCli(['predict', p('tiny.onnx'), p('photo.png'), p('broken.png'), '--size', '8']);
    expectTypedError(r, ['bad-image']);
    assert.match(r.stdout, /photo\.png\n\s+1\. /);
    assert.match(r.stderr, /broken\.png/);
  });
  test('a missing image', async () => {
    expectTypedError(await runCli(['predict', p('tiny.onnx'), p('nope.png')]), ['file-not-found']);
  });
  test('bad flag values exit 2', async () => {
    expectTypedError(
      await runCli(['predict', p('tiny.onnx'), p('photo.png'), '--top', '0']),
      ['bad-argument'],
      2,
    );
    expectTypedError(await runCli(['inspect', p('tiny.onnx'), '--mean', '1,2']), ['bad-argument'], 2);
  });
  test('unknown command exits 2 with usage help', async () => {
    const r = await runCli(['explode']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command/);
  });
});

describe('external data inside the model folder works', () => {
  test('same predictions as the embedded model', async () => {
    const a = await runCli(['predict', p('inside'), p('photo.png'), '--json']);
    const b = await runCli(['predict', p('tiny.onnx'), p('photo.png'), '--json']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const scores = (s: string) =>
      (JSON.parse(s) as { results: { prediction: { top: unknown[] } }[] }).results[0]!.prediction.top;
    assert.deepEqual(scores(a.stdout), scores(b.stdout));
  });
});
