// Atomic file writes (Node): the bytes go to a temp name beside the target and are renamed into place,
// so an interrupted run never leaves a truncated file where a complete one is expected. The temp file
// is created exclusively ('wx': a file or symlink already at that name is an error, never followed),
// and rename replaces a symlink at the target itself rather than the file it points to, so a link
// planted in an output folder cannot redirect a write. A failure is an 'output-unwritable' error
// naming the path.

import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { GradsightError } from '../errors.ts';

/** Writes `data` to `path` atomically (creating missing parent folders when asked); returns the absolute path. */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string | readonly Uint8Array[],
  what: string,
  opts: { readonly createParents?: boolean } = {},
): Promise<string> {
  const abs = resolve(path);
  const tmp = tempPath(abs);
  try {
    if (opts.createParents) await mkdir(dirname(abs), { recursive: true });
    if (Array.isArray(data)) await writeParts(tmp, data);
    else await writeFile(tmp, data as Uint8Array | string, { flag: 'wx' });
    await rename(tmp, abs);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {}); // the write's error is the one to report
    throw outputError(e, abs, what);
  }
  return abs;
}

/** A new file (exclusively created) of `parts` one after another: one writev, not one write each. */
async function writeParts(path: string, parts: readonly Uint8Array[]): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    const total = parts.reduce((n, p) => n + p.length, 0);
    let done = (await fh.writev([...parts])).bytesWritten;
    if (done < total) {
      // A short write (rare; large files): the rest from one buffer.
      const all = Buffer.concat(parts);
      while (done < total) done += (await fh.write(all, done)).bytesWritten;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Like writeFileAtomic, for a writer that makes the file itself (an encoder streaming to disk, so no
 * whole encoded copy is held): `write` fills the temp path, created empty and exclusively first.
 */
export async function writeAtomicWith(
  path: string,
  what: string,
  write: (tmp: string) => Promise<unknown>,
): Promise<string> {
  const abs = resolve(path);
  const tmp = tempPath(abs);
  try {
    await writeFile(tmp, '', { flag: 'wx' });
    await write(tmp);
    await rename(tmp, abs);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    throw e instanceof GradsightError ? e : outputError(e, abs, what);
  }
  return abs;
}

/**
 * A fresh temp name beside `abs`: hidden, tagged with the process id (so a sweep after an interrupt
 * removes only this process's temps, see removeTempFiles) and random (so two writes never share one).
 */
export function tempPath(abs: string, kind = 'tmp'): string {
  return join(
    dirname(abs),
    `.${basename(abs)}.gradsight-${process.pid}-${randomBytes(6).toString('hex')}.${kind}`,
  );
}

const TEMP_NAME = /^\..*\.gradsight-(\d+)-[0-9a-f]{12}\.[a-z]+$/;

/**
 * Removes the temp files left in `dir` and its subfolders (not following links) by the processes
 * `whose` accepts: by default this one (after an interrupt; finishRun also sweeps dead runs').
 */
export async function removeTempFiles(
  dir: string,
  depth = 1,
  whose: (pid: number) => boolean = (pid) => pid === process.pid,
): Promise<number> {
  let removed = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const m = TEMP_NAME.exec(e.name);
    if (e.isFile() && m && whose(Number(m[1]))) {
      await rm(join(dir, e.name), { force: true });
      removed++;
    } else if (e.isDirectory() && depth > 0)
      removed += await removeTempFiles(join(dir, e.name), depth - 1, whose);
  }
  return removed;
}

/**
 * Creates the output folder `path` (and its parents) and checks that it is a folder gradsight can write
 * to; returns its absolute path. An empty path is a 'bad-argument' (it would mean the current folder).
 */
export async function prepareOutputDir(path: string, flag = '--out'): Promise<string> {
  if (path.trim() === '') {
    throw new GradsightError('bad-argument', `${flag} is empty`, {
      hint: `give a folder name, for example ${flag} gradsight-out (use ${flag} . for the current folder)`,
    });
  }
  const abs = resolve(path);
  try {
    await mkdir(abs, { recursive: true });
    if (!(await stat(abs)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    // Writability is proven by writing: access(W_OK) says yes to root on a read-only mount.
    const probe = tempPath(join(abs, 'probe'));
    await writeFile(probe, '', { flag: 'wx' });
    await rm(probe, { force: true });
  } catch (e) {
    throw outputError(e, abs, 'output folder');
  }
  return abs;
}

/**
 * Creates the folder `name` directly under `out` for one image's files, refusing one that exists as a
 * symlink or a file (a planted link would otherwise send the image's files outside `out`).
 */
export async function ensureSubfolder(out: string, name: string): Promise<string> {
  const abs = join(out, name);
  try {
    await mkdir(out, { recursive: true });
    await mkdir(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw outputError(e, abs, 'output folder');
    const s = await lstat(abs);
    if (s.isSymbolicLink() || !s.isDirectory()) {
      throw new GradsightError(
        'output-unwritable',
        `cannot write into ${abs}: it is ${s.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}`,
        {
          hint: 'gradsight writes only into folders it creates under --out; remove it or choose another --out',
          details: { path: abs },
        },
      );
    }
  }
  return abs;
}

/** Maps a Node fs error during a write to 'output-unwritable', naming the path and why. */
export function outputError(e: unknown, path: string, what: string): GradsightError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'EISDIR'
      ? 'it is a folder'
      : code === 'ENOTDIR' || code === 'EEXIST'
        ? 'a file is in the way (the path or one of its parents is not a folder)'
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'permission denied (read-only)'
          : code === 'ENOSPC' || code === 'EDQUOT'
            ? 'no space left on the device'
            : code === 'ENOENT'
              ? 'its folder does not exist'
              : e instanceof Error
                ? e.message
                : String(e);
  return new GradsightError('output-unwritable', `cannot write ${what} ${path}: ${why}`, {
    hint: 'choose an output folder you can write to (-o/--out), or free space or permissions there',
    details: { path, errno: code },
    cause: e,
  });
}
