// What a run wrote into its output folder, so that a rerun into the same folder replaces the previous
// run cleanly instead of mixing two. Two records:
//  - the manifest: the `files` list in results.json (paths relative to the folder), swapped in
//    atomically as the run's last write, so it always describes one complete run;
//  - the journal: `.gradsight-written.<pid>.log`, each output's path appended before the file is
//    written (from any thread), so the files of an interrupted or killed run are known too.
// A run that completes removes what the previous manifest and any dead run's journal list and it did
// not rewrite, and dead runs' temp files; an interrupted run removes what it added that the previous manifest does not list.
// Removal touches only plain files (or links, removed themselves) at most one folder below the output
// folder, through real folders, never following a symlink.

import { constants } from 'node:fs';
import { appendFile, lstat, mkdir, readdir, readFile, rm, rmdir, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { outputError, removeTempFiles } from './write-file-node.ts';

const JOURNAL = /^\.gradsight-written\.(\d+)\.log$/;

function journalPath(out: string, pid = process.pid): string {
  return join(out, `.gradsight-written.${pid}.log`);
}

/** Notes in the journal that `files` (or folders, relative to `out`) are about to be created. */
export async function recordWrites(out: string, files: readonly string[]): Promise<void> {
  if (!files.length) return;
  // O_NOFOLLOW: a link planted at the journal's name is an error, not a redirect; O_NONBLOCK: a FIFO
  // there fails at once instead of blocking the run.
  const flag =
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const text = files.map((f) => `${f}\n`).join('');
  try {
    await appendFile(journalPath(out), text, { flag });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw outputError(e, journalPath(out), 'run journal');
    await mkdir(out, { recursive: true }); // the library's callers may not have made --out yet
    await appendFile(journalPath(out), text, { flag }).catch((e2: unknown) => {
      throw outputError(e2, journalPath(out), 'run journal');
    });
  }
}

/** A results.json above this is not one gradsight wrote (a manifest of a million files is ~50 MB). */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

/** The files the previous complete run in `out` wrote: its results.json's `files` (none if absent). */
export async function readManifest(out: string): Promise<string[]> {
  try {
    // Only a plain file: a planted link, FIFO or device is not a previous run (and is never read).
    const s = await lstat(join(out, 'results.json'));
    if (!s.isFile() || s.size > MAX_MANIFEST_BYTES) return [];
    const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { files?: unknown };
    return Array.isArray(json.files) ? json.files.filter(isSafeRelative) : [];
  } catch {
    return []; // no previous run, or not one of ours: nothing of it is removed
  }
}

/** After the new manifest is in place: removes the previous run's files that this run did not write. */
export async function finishRun(
  out: string,
  written: readonly string[],
  previous: readonly string[],
): Promise<void> {
  const keep = new Set(written);
  const stale = new Set(previous);
  for (const pid of await journalPids(out)) {
    if (pid !== process.pid && isAlive(pid)) continue; // another run writing here now
    for (const f of await readJournal(out, pid)) stale.add(f);
    await rm(journalPath(out, pid), { force: true });
  }
  for (const f of stale) if (!keep.has(f)) await removeInside(out, f);
  await removeTempFiles(out, 1, (pid) => pid !== process.pid && !isAlive(pid)); // a killed run's
}

/** After an interrupt: removes this run's temp files and what it added that `previous` does not list. */
export async function abandonRun(out: string, previous: readonly string[]): Promise<void> {
  await removeTempFiles(out);
  const keep = new Set(previous);
  for (const f of await readJournal(out, process.pid)) if (!keep.has(f)) await removeInside(out, f);
  await rm(journalPath(out), { force: true });
}

async function journalPids(out: string): Promise<number[]> {
  const names = await readdir(out).catch(() => [] as string[]);
  return names.flatMap((n) => {
    const m = JOURNAL.exec(n);
    return m ? [Number(m[1])] : [];
  });
}

async function readJournal(out: string, pid: number): Promise<string[]> {
  const path = journalPath(out, pid);
  const s = await lstat(path).catch(() => undefined);
  if (!s?.isFile()) return [];
  // Folders are journaled as `name/` (see removeInside).
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((f) => isSafeRelative(f.endsWith('/') ? f.slice(0, -1) : f));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A path of one or two plain segments (`report.html`, `cat/gradcam_c1.png`); never `..`, absolute or hidden. */
export function isSafeRelative(f: unknown): f is string {
  if (typeof f !== 'string' || f === '' || f.includes('\\') || f.includes('\0')) return false;
  const parts = f.split('/');
  return (
    posix.normalize(f) === f &&
    parts.length <= 2 &&
    parts.every((p) => p !== '' && !p.startsWith('.')) &&
    f !== 'results.json'
  );
}

/**
 * Removes `out/f` if it is a file or a link, through a real folder only; then its folder if empty.
 * `name/` is a folder (journaled before it is created): removed only if it is a real, empty one.
 */
async function removeInside(out: string, f: string): Promise<void> {
  if (f.endsWith('/')) {
    const dir = join(out, f.slice(0, -1)); // without the slash: lstat must see a link, not its target
    const s = await lstat(dir).catch(() => undefined);
    if (s?.isDirectory()) await rmdir(dir).catch(() => {});
    return;
  }
  const parts = f.split('/');
  if (parts.length === 2) {
    const dir = await lstat(join(out, parts[0]!)).catch(() => undefined);
    if (!dir?.isDirectory()) return; // gone, or replaced by a link: nothing of ours to remove there
  }
  const path = join(out, f);
  const s = await lstat(path).catch(() => undefined);
  if (s && (s.isFile() || s.isSymbolicLink())) await unlink(path).catch(() => {});
  if (parts.length === 2) await rmdir(join(out, parts[0]!)).catch(() => {}); // only if now empty
}
