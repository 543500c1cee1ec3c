// Reads a whole file, turning Node's errno errors into typed GradsightErrors that name the path.
// Shared by the image, label, preprocess and npy loaders (all of which read small user-given files).

import { readFile } from 'node:fs/promises';
import { type ErrorCode, GradsightError } from '../errors.ts';

export async function readFileTyped(path: string, what: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw fileError(e, path, what);
  }
}

/** Maps a Node fs error to 'file-not-found' or 'file-unreadable'. */
export function fileError(e: unknown, path: string, what: string): GradsightError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new GradsightError('file-not-found', `${what} not found: ${path}`, {
      hint: 'Check the path (relative paths are resolved from the current directory).',
      details: { path },
      cause: e,
    });
  }
  const why =
    code === 'EISDIR'
      ? 'it is a directory'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : e instanceof Error
          ? e.message
          : String(e);
  return new GradsightError('file-unreadable', `cannot read ${what} ${path}: ${why}`, {
    hint: code === 'EISDIR' ? `Pass a file, not a directory.` : 'Check that the file exists and is readable.',
    details: { path, errno: code },
    cause: e,
  });
}

/** Reads and parses a JSON file; invalid JSON is a `code` error naming the path, with `hint`. */
export async function readJsonFile(
  path: string,
  what: string,
  code: ErrorCode,
  hint: string,
): Promise<unknown> {
  const text = new TextDecoder().decode(await readFileTyped(path, what));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GradsightError(code, `${path} is not valid JSON: ${(e as Error).message}`, {
      hint,
      details: { source: path },
      cause: e,
    });
  }
}
