// The run manifest and journal: a completed run removes exactly the previous run's files it did not
// rewrite; an abandoned run removes exactly what it added; neither ever removes anything outside the
// output folder, through a link, or that no run listed.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import {
  abandonRun,
  finishRun,
  isSafeRelative,
  readManifest,
  recordWrites,
} from '../../src/io/output-run-node.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-run-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every file or link under `root` (relative, sorted), not descending into links. */
async function listing(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listing(root, rel)));
    else out.push(rel);
  }
  return out.sort();
}

async function files(root: string, rels: readonly string[]): Promise<void> {
  for (const f of rels) {
    await mkdir(join(root, f, '..'), { recursive: true });
    await writeFile(join(root, f), f);
  }
}

test('isSafeRelative accepts one or two plain segments only', () => {
  for (const f of ['report.html', 'cat/gradcam_c1.png', 'café/x.png'])
    assert.equal(isSafeRelative(f), true, f);
  for (const f of [
    '',
    '..',
    '../x',
    'a/../b',
    '/etc/passwd',
    'a/b/c',
    '.x',
    'a/.x',
    'a//b',
    'a\\b',
    'results.json',
    7,
  ])
    assert.equal(isSafeRelative(f), false, String(f));
});

test('a rerun removes the previous run’s files it did not rewrite, and nothing else', async () => {
  const root = await mkdtemp(join(dir, 'rerun-'));
  const out = join(root, 'out');
  await files(out, ['a/x.png', 'b/x.png', 'b/y.png', 'report.html', 'notes.txt']);
  await files(root, ['outside.txt', 'elsewhere/kept.png']);
  await symlink(join(root, 'elsewhere'), join(out, 'linked'));
  // A hostile or damaged manifest: paths out of the folder and through a link are ignored.
  const previous = ['a/x.png', 'b/x.png', 'b/y.png', 'report.html', '../outside.txt', 'linked/kept.png'];
  await writeFile(join(out, 'results.json'), JSON.stringify({ files: previous }));
  // `../outside.txt` is dropped when read; `linked/kept.png` is refused when removed (a link, not a folder).
  assert.deepEqual(await readManifest(out), [
    'a/x.png',
    'b/x.png',
    'b/y.png',
    'report.html',
    'linked/kept.png',
  ]);
  await finishRun(out, ['a/x.png', 'report.html'], await readManifest(out));
  assert.deepEqual(await listing(out), ['a/x.png', 'linked', 'notes.txt', 'report.html', 'results.json']);
  assert.deepEqual(await readdir(out).then((d) => d.includes('b')), false, 'the emptied folder is removed');
  assert.deepEqual(await listing(root), [
    'elsewhere/kept.png',
    'out/a/x.png',
    'out/linked',
    'out/notes.txt',
    'out/report.html',
    'out/results.json',
    'outside.txt',
  ]);
});

test('an abandoned run removes what it added, keeps what the previous manifest lists', async () => {
  const out = await mkdtemp(join(dir, 'abandon-'));
  await files(out, ['a/x.png', 'new/x.png', 'notes.txt']);
  await recordWrites(out, ['a/x.png', 'new/x.png', 'new/never-written.png']);
  await writeFile(join(out, `.x.png.gradsight-${process.pid}-0123456789ab.tmp`), 'half');
  // Folders are journaled before they are made: an empty one goes, a planted link of that name stays.
  await mkdir(join(out, 'empty'));
  await symlink(join(out, 'a'), join(out, 'linked'));
  await recordWrites(out, ['empty/', 'linked/', 'a/']);
  await abandonRun(out, ['a/x.png']);
  assert.deepEqual(await listing(out), ['a/x.png', 'linked', 'notes.txt']);
});

test('a killed run’s journal is honoured by the next completed run', async () => {
  const out = await mkdtemp(join(dir, 'killed-'));
  await files(out, ['a/x.png', 'stray/x.png']);
  // pid 2^22 + 1 is above Linux's pid_max default: no such process is alive.
  await writeFile(join(out, '.gradsight-written.4194305.log'), 'stray/x.png\n../../outside\n');
  // Its temp files too (a live process's are left: the parent of this test is alive).
  await writeFile(join(out, '.x.png.gradsight-4194305-0123456789ab.tmp'), 'half');
  await writeFile(join(out, 'a', '.y.png.gradsight-4194305-0123456789ab.tmp'), 'half');
  const live = `.z.png.gradsight-${process.ppid}-0123456789ab.tmp`;
  await writeFile(join(out, live), 'in progress');
  await finishRun(out, ['a/x.png'], []);
  assert.deepEqual(await listing(out), [live, 'a/x.png']);
  assert.equal(await readFile(join(out, 'a/x.png'), 'utf8'), 'a/x.png');
});

test('a results.json that is a link, a FIFO or huge is no previous run: never read, nothing removed', async () => {
  const out = await mkdtemp(join(dir, 'planted-'));
  await files(out, ['a/x.png']);
  const elsewhere = join(out, '..', `manifest-${process.pid}.json`);
  await writeFile(elsewhere, JSON.stringify({ files: ['a/x.png'] }));
  await symlink(elsewhere, join(out, 'results.json'));
  assert.deepEqual(await readManifest(out), []);
  await rm(join(out, 'results.json'));
  execFileSync('mkfifo', [join(out, 'results.json')]);
  assert.deepEqual(await readManifest(out), [], 'returns at once (reading a FIFO would block)');
  await rm(join(out, 'results.json'));
  // A journal name taken by a FIFO fails at once instead of blocking the run.
  execFileSync('mkfifo', [join(out, `.gradsight-written.${process.pid}.log`)]);
  await assert.rejects(recordWrites(out, ['a/x.png']), (e: unknown) =>
    isGradsightError(e, 'output-unwritable'),
  );
  assert.deepEqual(await listing(out), ['.gradsight-written.' + process.pid + '.log', 'a/x.png']);
  await rm(elsewhere);
});
