// Reads a whole file, turning Node's errno errors into typed GradsightErrors that name the path.
// Shared by the image, label, preprocess and npy loaders. Only regular files are read: the file is opened
// non-blocking (so a FIFO cannot hang the open) and checked with fstat on the open handle (so a file
// swapped between a check and the open is still caught), and a size limit refuses it before reading.

import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { type ErrorCode, GradsightError } from '../errors.ts';

export const MIB = 2 ** 20;

export interface ReadLimit {
  /** Refuse files larger than this many bytes (default: no limit). */
  readonly maxBytes?: number;
  /** The flag (or option) that raises the limit, named in the hint. */
  readonly flag?: string;
}

export async function readFileTyped(path: string, what: string, limit: ReadLimit = {}): Promise<Uint8Array> {
  return withRegularFile(path, what, async (file, size) => {
    checkSize(size, path, what, limit);
    const bytes = new Uint8Array(size);
    const done = await readAt(file, bytes, 0, size, 0);
    return done === size ? bytes : bytes.subarray(0, done);
  });
}

/**
 * Runs `use` on `path` opened for reading, once it is known to be a regular file: the open is
 * non-blocking (a FIFO cannot hang it) and the check is fstat on the open handle (a file swapped
 * between a check and the open is still caught). Errno errors become typed file errors naming `what`.
 */
export async function withRegularFile<T>(
  path: string,
  what: string,
  use: (file: FileHandle, size: number) => Promise<T>,
): Promise<T> {
  let file: FileHandle;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw fileError(e, path, what);
  }
  try {
    const st = await file.stat();
    checkRegularFile(st, path, what);
    return await use(file, st.size);
  } catch (e) {
    throw e instanceof GradsightError ? e : fileError(e, path, what);
  } finally {
    await file.close();
  }
}

/**
 * Reads `length` bytes at file offset `position` into `into` at `at`, in reads of at most 1 GiB (a
 * single read(2) returns at most about 2 GiB on Linux); returns how many it read (fewer at end of file).
 */
export async function readAt(
  file: FileHandle,
  into: Uint8Array,
  at: number,
  length: number,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = Math.min(length - done, 2 ** 30);
    const { bytesRead } = await file.read(into, at + done, n, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

interface StatLike {
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

/**
 * Throws unless `st` (from stat or fstat, symlinks followed) is a regular file: 'file-unreadable' for a
 * directory, 'not-a-regular-file' for a FIFO, device or socket.
 */
export function checkRegularFile(st: StatLike, path: string, what: string): void {
  if (st.isFile()) return;
  // A directory keeps the code Node's EISDIR always had here.
  if (st.isDirectory()) {
    throw new GradsightError('file-unreadable', `cannot read ${what} ${path}: it is a directory`, {
      hint: 'Pass a file, not a directory.',
      details: { path },
    });
  }
  const kind = st.isFIFO()
    ? 'a FIFO (named pipe)'
    : st.isSocket()
      ? 'a socket'
      : st.isCharacterDevice() || st.isBlockDevice()
        ? 'a device'
        : 'not a regular file';
  throw new GradsightError('not-a-regular-file', `cannot read ${what} ${path}: it is ${kind}`, {
    hint: `Pass a regular file; gradsight does not read pipes, devices or sockets as ${what}.`,
    details: { path },
  });
}

/** Throws 'file-too-large' when `size` exceeds `limit.maxBytes`. */
export function checkSize(size: number, path: string, what: string, limit: ReadLimit): void {
  if (limit.maxBytes === undefined || size <= limit.maxBytes) return;
  const mb = (n: number) => `${(n / MIB).toFixed(n < MIB ? 3 : 0)} MiB`;
  throw new GradsightError(
    'file-too-large',
    `${what} ${path} is ${size} bytes (${mb(size)}), above the ${mb(limit.maxBytes)} limit`,
    {
      hint: limit.flag
        ? `Raise the limit with ${limit.flag} if the file is trusted.`
        : 'This file is unexpectedly large; check that it is the right file.',
      details: { path, size, limit: limit.maxBytes },
    },
  );
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

/**
 * Reads and parses a JSON file; invalid JSON is a `code` error naming the path, with `hint`. The error
 * gives the position only: JSON.parse's own message quotes the text, which may be a file the user did
 * not mean to show (a preprocess.json linked to /etc/passwd).
 */
export async function readJsonFile(
  path: string,
  what: string,
  code: ErrorCode,
  hint: string,
  limit: ReadLimit = { maxBytes: SIDE_FILE_MAX_BYTES },
): Promise<unknown> {
  const text = new TextDecoder().decode(await readFileTyped(path, what, limit));
  try {
    return JSON.parse(text);
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    const where = at === undefined ? 'it does not parse' : `syntax error at character ${at}`;
    throw new GradsightError(code, `${path} is not valid JSON: ${where}`, {
      hint,
      details: { source: path },
    });
  }
}

/** Labels, preprocess.json and feed .json files: small text files. */
export const SIDE_FILE_MAX_BYTES = 16 * MIB;
