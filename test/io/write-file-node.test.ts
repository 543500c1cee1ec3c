// Atomic writes that never follow a planted symlink, the output folder checks, and their typed
// 'output-unwritable' errors: each case checks the error code and path and that nothing changed
// outside the output folder.

import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import {
  ensureSubfolder,
  prepareOutputDir,
  removeTempFiles,
  tempPath,
  writeAtomicWith,
  writeFileAtomic,
} from '../../src/io/write-file-node.ts';

let dir = '';
/** A file outside every output folder that a planted link points at: it must never change. */
let victim = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-write-'));
  victim = join(dir, 'victim.txt');
  await writeFile(victim, 'precious');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Asserts `p` rejects with a GradsightError of `code` whose message names `path`. */
async function rejectsWith(p: Promise<unknown>, code: string, path?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isGradsightError(e), String(e));
    assert.equal(e.code, code, e.message);
    if (path) assert.ok(e.message.includes(path), e.message);
    assert.ok(e.hint, 'a hint');
    return true;
  });
}

describe('writeFileAtomic', () => {
  test('replaces a planted symlink itself: the file it points to is not written through', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    await symlink(victim, join(out, 'results.json'));
    await writeFileAtomic(join(out, 'results.json'), '{"ok":true}\n', 'results');
    assert.equal(await readFile(victim, 'utf8'), 'precious');
    const s = await lstat(join(out, 'results.json'));
    assert.ok(s.isFile() && !s.isSymbolicLink());
    assert.equal(await readFile(join(out, 'results.json'), 'utf8'), '{"ok":true}\n');
    assert.deepEqual(await readdir(out), ['results.json'], 'no temp file left');
  });

  test('parts are written one after another, over a planted link too; a failure leaves no temp file', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    await symlink(victim, join(out, 'pic.png'));
    // Empty parts, a view into a larger buffer and 3 MB of data in one file.
    const big = new Uint8Array(3_000_000).map((_, i) => (i * 31) & 255);
    const backing = Uint8Array.from([9, 1, 2, 3, 9]);
    const parts = [Uint8Array.of(7), new Uint8Array(0), backing.subarray(1, 4), big];
    await writeFileAtomic(join(out, 'pic.png'), parts, 'PNG output');
    assert.equal(await readFile(victim, 'utf8'), 'precious');
    assert.deepEqual(
      new Uint8Array(await readFile(join(out, 'pic.png'))),
      Uint8Array.from([7, 1, 2, 3, ...big]),
    );
    await rejectsWith(
      writeFileAtomic(join(out, 'missing', 'pic.png'), parts, 'PNG output'),
      'output-unwritable',
      join(out, 'missing', 'pic.png'),
    );
    assert.deepEqual(await readdir(out), ['pic.png'], 'no temp file left');
  });

  test('a folder at the target, or a file in the way of its folder: output-unwritable naming the path', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    await mkdir(join(out, 'taken'));
    await rejectsWith(
      writeFileAtomic(join(out, 'taken'), 'x', 'PNG output'),
      'output-unwritable',
      join(out, 'taken'),
    );
    await writeFile(join(out, 'plain'), 'x');
    const under = join(out, 'plain', 'a.png');
    await rejectsWith(writeFileAtomic(under, 'x', 'PNG output'), 'output-unwritable', under);
    await rejectsWith(
      writeFileAtomic(under, 'x', 'PNG output', { createParents: true }),
      'output-unwritable',
      under,
    );
    assert.deepEqual((await readdir(out)).sort(), ['plain', 'taken'], 'no temp file left');
  });

  test('temp names are hidden, distinct, and swept by removeTempFiles, which leaves other files', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    const a = tempPath(join(out, 'x.png'));
    const b = tempPath(join(out, 'x.png'));
    assert.notEqual(a, b);
    assert.match(a, new RegExp(`/\\.x\\.png\\.gradsight-${process.pid}-[0-9a-f]{12}\\.tmp$`));
    await mkdir(join(out, 'cat'));
    await writeFile(a, '');
    await writeFile(tempPath(join(out, 'cat', 'y.png')), '');
    await writeFile(join(out, '.x.png.gradsight-1-000000000000.tmp'), ''); // another process's
    await writeFile(join(out, 'cat', 'keep.png'), '');
    assert.equal(await removeTempFiles(out), 2);
    assert.deepEqual((await readdir(out)).sort(), ['.x.png.gradsight-1-000000000000.tmp', 'cat']);
    assert.deepEqual(await readdir(join(out, 'cat')), ['keep.png']);
  });
});

describe('prepareOutputDir', () => {
  test('creates missing folders and returns the absolute path', async () => {
    const p = join(dir, 'new', 'deeper');
    assert.equal(await prepareOutputDir(p), p);
    assert.ok((await lstat(p)).isDirectory());
    assert.deepEqual(await readdir(p), [], 'the write probe is removed');
  });

  test("'' is a bad-argument (it would mean the current folder)", async () => {
    await rejectsWith(prepareOutputDir(''), 'bad-argument');
    await rejectsWith(prepareOutputDir('  '), 'bad-argument');
  });

  test('an existing file, a folder under a file, /dev/null: output-unwritable naming the path', async () => {
    await rejectsWith(prepareOutputDir(victim), 'output-unwritable', victim);
    await rejectsWith(prepareOutputDir(join(victim, 'out')), 'output-unwritable', join(victim, 'out'));
    await rejectsWith(prepareOutputDir('/dev/null'), 'output-unwritable', '/dev/null');
    assert.equal(await readFile(victim, 'utf8'), 'precious');
  });

  test('a read-only location: output-unwritable (sysfs refuses even root)', async () => {
    await rejectsWith(prepareOutputDir('/sys/kernel'), 'output-unwritable', '/sys/kernel');
    await rejectsWith(prepareOutputDir('/sys/kernel/gradsight-out'), 'output-unwritable');
  });

  test('a folder without write permission: output-unwritable', {
    skip: process.getuid?.() === 0 ? 'running as root, which may write anywhere' : false,
  }, async () => {
    const ro = await mkdtemp(join(dir, 'ro-'));
    await chmod(ro, 0o555);
    try {
      await rejectsWith(prepareOutputDir(ro), 'output-unwritable', ro);
    } finally {
      await chmod(ro, 0o755);
    }
  });
});

describe('ensureSubfolder', () => {
  test('creates the folder; an existing real folder is reused', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    await ensureSubfolder(out, 'cat');
    await writeFile(join(out, 'cat', 'old.png'), 'x');
    await ensureSubfolder(out, 'cat');
    assert.deepEqual(await readdir(join(out, 'cat')), ['old.png']);
  });

  test('a planted symlink folder pointing outside, or a file: output-unwritable, nothing written outside', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    const elsewhere = await mkdtemp(join(dir, 'elsewhere-'));
    await symlink(elsewhere, join(out, 'cat'));
    await rejectsWith(ensureSubfolder(out, 'cat'), 'output-unwritable', join(out, 'cat'));
    await writeFile(join(out, 'dog'), 'x');
    await rejectsWith(ensureSubfolder(out, 'dog'), 'output-unwritable', join(out, 'dog'));
    assert.deepEqual(await readdir(elsewhere), []);
  });
});

describe('writeAtomicWith (encoders that write the file themselves)', () => {
  test('the writer fills a fresh temp file; a planted link at the target is replaced, not followed', async () => {
    const out = join(dir, 'with-out');
    await mkdir(out, { recursive: true });
    const target = join(out, 'overlay.png');
    await symlink(victim, target);
    let seen = '';
    await writeAtomicWith(target, 'PNG output', async (tmp) => {
      seen = tmp;
      assert.equal((await readFile(tmp)).length, 0, 'created empty');
      await writeFile(tmp, 'new bytes');
    });
    assert.notEqual(seen, target);
    assert.equal(await readFile(victim, 'utf8'), 'precious');
    assert.ok((await lstat(target)).isFile());
    assert.equal(await readFile(target, 'utf8'), 'new bytes');
    assert.deepEqual((await readdir(out)).sort(), ['overlay.png']);
  });

  test("a writer's failure is output-unwritable naming the path, and leaves no temp file", async () => {
    const out = join(dir, 'with-fail');
    await mkdir(out, { recursive: true });
    const target = join(out, 'x.png');
    await rejectsWith(
      writeAtomicWith(target, 'PNG output', async () => {
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      }),
      'output-unwritable',
      target,
    );
    assert.deepEqual(await readdir(out), []);
  });
});
