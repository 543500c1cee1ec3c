// Reads and writes .npy files on disk (Node only). Writes go to a temp file that is renamed into place,
// so an interrupted run never leaves a half-written array where a complete one is expected.

import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileError, readFileTyped } from '../io/read-file-node.ts';
import { decodeNpy, encodeNpy } from './npy.ts';
import type { Tensor } from './tensor.ts';

export async function readNpy(path: string): Promise<Tensor> {
  return decodeNpy(await readFileTyped(path, '.npy file'), path);
}

export async function writeNpy(path: string, tensor: Tensor): Promise<void> {
  const bytes = encodeNpy(tensor);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {}); // the write's error is the one to report
    throw fileError(e, path, '.npy output');
  }
}
