// readFileTyped: only regular files are read (FIFOs, devices and directories are refused at once,
// without blocking on open), a size limit refuses big files before reading them, and JSON parse errors
// never echo the file's bytes.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ErrorCode, isGradsightError } from '../../src/errors.ts';
import { readFileTyped, readJsonFile } from '../../src/io/read-file-node.ts';

let dir = '';
const p = (name: string) => join(dir, name);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-read-'));
  await writeFile(p('ok.bin'), new Uint8Array([1, 2, 3, 4, 5]));
  await mkdir(p('folder'));
  execFileSync('mkfifo', [p('fifo')]);
  await writeFile(p('secret.json'), 'root:x:0:0:TOPSECRET:/root:/bin/bash\n');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rejectsWith = (promise: Promise<unknown>, code: ErrorCode, re: RegExp) =>
  assert.rejects(promise, (e: unknown) => {
    assert.ok(isGradsightError(e, code), `expected ${code}, got ${String(e)}`);
    assert.match(e.message, re);
    assert.ok(e.hint, 'a hint');
    return true;
  });

test('a regular file is read whole', async () => {
  assert.deepEqual([...(await readFileTyped(p('ok.bin'), 'test file'))], [1, 2, 3, 4, 5]);
});

test('a FIFO is refused at once instead of blocking forever', async () => {
  const t0 = performance.now();
  await rejectsWith(readFileTyped(p('fifo'), 'image'), 'not-a-regular-file', /FIFO/);
  assert.ok(performance.now() - t0 < 5000);
});

test('a device and a directory are refused', async () => {
  await rejectsWith(readFileTyped('/dev/zero', 'image'), 'not-a-regular-file', /device/);
  await rejectsWith(readFileTyped(p('folder'), 'image'), 'file-unreadable', /directory/);
});

test('a file above the size limit is refused before it is read, naming the flag', async () => {
  await rejectsWith(
    readFileTyped(p('ok.bin'), 'image', { maxBytes: 4, flag: '--max-file-mb' }),
    'file-too-large',
    /5 bytes.*limit/,
  );
  await assert.rejects(
    readFileTyped(p('ok.bin'), 'image', { maxBytes: 4, flag: '--max-file-mb' }),
    (e: unknown) => isGradsightError(e) && /--max-file-mb/.test(e.hint ?? ''),
  );
  assert.equal((await readFileTyped(p('ok.bin'), 'image', { maxBytes: 5 })).length, 5);
});

test('invalid JSON is reported without echoing the file content', async () => {
  await assert.rejects(
    readJsonFile(p('secret.json'), 'preprocess file', 'bad-preprocess', 'fix it'),
    (e: unknown) => {
      assert.ok(isGradsightError(e, 'bad-preprocess'));
      assert.doesNotMatch(`${e.message} ${e.hint}`, /TOPSECRET|root:x/);
      assert.doesNotMatch(String((e.cause as Error | undefined)?.message), /TOPSECRET/);
      return true;
    },
  );
});
