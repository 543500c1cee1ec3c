// Where a file beside a model really is: the files gradsight reads because of a model folder (the
// model, labels.txt, preprocess.json, external data) must resolve, symlinks followed, inside that
// folder. A folder copied from elsewhere is untrusted input: a planted link would otherwise make
// gradsight read (and perhaps quote in an error) any file the user can read.

import { realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { GradsightError } from '../errors.ts';

/** `path`'s real path and whether it lies inside `folder` (also resolved); undefined if `path` does not exist. */
export async function realPathIn(
  folder: string,
  path: string,
): Promise<{ readonly real: string; readonly inside: boolean; readonly folder: string } | undefined> {
  const realFolder = await realpath(folder);
  let real: string;
  try {
    real = await realpath(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
  const back = relative(realFolder, real);
  const inside = back !== '' && !back.startsWith(`..${sep}`) && back !== '..' && !back.startsWith(sep);
  return { real, inside, folder: realFolder };
}

/**
 * The real path of the side file `name` in the model folder `folder` (labels.txt, preprocess.json), or
 * undefined when there is none; 'file-outside-model-dir' when it is a link out of the folder.
 */
export async function sideFileIn(folder: string, name: string, what: string): Promise<string | undefined> {
  const path = join(folder, name);
  const where = await realPathIn(folder, path);
  if (!where) return undefined;
  if (!where.inside) throw outsideModelDir(path, where.real, where.folder, what);
  return where.real;
}

export function outsideModelDir(path: string, real: string, folder: string, what: string): GradsightError {
  return new GradsightError(
    'file-outside-model-dir',
    `${what} ${path} resolves to ${real}, outside the model's folder ${folder}; it was not read`,
    {
      hint: `files read because of a model folder must be inside it: copy the file into ${folder} instead of linking it${what === 'labels file' ? ', or pass it explicitly with --labels' : ''}`,
      details: { path, real, folder },
    },
  );
}
