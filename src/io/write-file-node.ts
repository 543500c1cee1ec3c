// Atomic file writes (Node): the bytes go to a temp name beside the target and are renamed into place,
// so an interrupted run never leaves a truncated file where a complete one is expected. A failure is a
// typed file error naming the path.

import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileError } from './read-file-node.ts';

/** Writes `data` to `path` atomically (creating missing parent folders when asked); returns the absolute path. */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  what: string,
  opts: { readonly createParents?: boolean } = {},
): Promise<string> {
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${basename(abs)}.${process.pid}.${Date.now()}.tmp`);
  try {
    if (opts.createParents) await mkdir(dirname(abs), { recursive: true });
    await writeFile(tmp, data);
    await rename(tmp, abs);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {}); // the write's error is the one to report
    throw fileError(e, abs, what);
  }
  return abs;
}
