// Reads and writes .npy files on disk (Node only). Writes go to a temp file that is renamed into place,
// so an interrupted run never leaves a half-written array where a complete one is expected.

import { type ReadLimit, readFileTyped } from '../io/read-file-node.ts';
import { writeFileAtomic } from '../io/write-file-node.ts';
import { decodeNpy, encodeNpy } from './npy.ts';
import type { Tensor } from './tensor.ts';

/** Reads a .npy file (a regular file, within `limit` when given). */
export async function readNpy(path: string, limit: ReadLimit = {}): Promise<Tensor> {
  return decodeNpy(await readFileTyped(path, '.npy file', limit), path);
}

export async function writeNpy(path: string, tensor: Tensor): Promise<void> {
  const bytes = encodeNpy(tensor);
  await writeFileAtomic(path, bytes, '.npy output');
}
