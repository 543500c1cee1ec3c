// Per-image records of an evaluation run, as JSON lines (Node): one header line with the run's
// configuration, then one line per image, appended as each image finishes. The file is what makes a run
// resumable (a rerun reads the indices already there and skips them), shardable (`--shard i/n` runs the
// samples whose index ≡ i − 1 mod n; merge interleaves the shards' files by index) and what the
// aggregation reads (stats.ts via aggregate.ts), so a resumed, a merged and a one-go run give the same
// results.json. Nothing here holds more than one line at a time, except the set of finished indices.

import { constants, createReadStream } from 'node:fs';
import { appendFile, lstat, open, truncate } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { GradsightError } from '../errors.ts';
import { outputError } from '../io/write-file-node.ts';
import { type ImageRecord, RECORDS_FILE, RECORDS_FORMAT, type RecordsHeader } from './record-types.ts';

export * from './record-types.ts';

// --- writing ------------------------------------------------------------------------------------

// O_NOFOLLOW: a link planted at the records' name is an error, not a redirect; O_NONBLOCK: a FIFO there
// fails instead of blocking the run.
const APPEND =
  constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Appends lines to `path` (each value one JSON line). */
export async function appendRecords(path: string, values: readonly unknown[]): Promise<void> {
  const text = values.map((v) => `${JSON.stringify(v)}\n`).join('');
  await appendFile(path, text, { flag: APPEND }).catch((e: unknown) => {
    throw outputError(e, path, 'per-image records');
  });
}

export interface OpenedRecords {
  /** Indices already in the file (resume skips them). */
  readonly done: ReadonlySet<number>;
  /** Whether the file was started fresh. */
  readonly fresh: boolean;
}

/**
 * Prepares `path` for a run with `header`: with `resume`, an existing file of the same configuration
 * and shard is kept (a truncated last line, from a killed run, is cut off) and its indices returned;
 * a file of another configuration is a 'bad-argument' error. Without `resume`, or with no file, the
 * file is started with the header.
 */
export async function openRecords(
  path: string,
  header: RecordsHeader,
  resume: boolean,
): Promise<OpenedRecords> {
  const s = await lstat(path).catch(() => undefined);
  if (s && !s.isFile()) {
    throw new GradsightError('output-unwritable', `cannot use ${path}: it is not a plain file`, {
      hint: 'remove it or choose another --out',
      details: { path },
    });
  }
  if (resume && s && s.size > 0) {
    const done = new Set<number>();
    let first: RecordsHeader | undefined;
    const end = await readLines(path, (value, i) => {
      if (i === 0) first = checkHeader(value, path);
      else done.add((value as ImageRecord).index);
    });
    if (first) {
      checkSameRun(first, header, path);
      if (end.truncatedAt !== undefined) await truncate(path, end.truncatedAt);
      return { done, fresh: false };
    }
  }
  // A fresh file: written through a new inode (truncate on an opened, checked handle).
  const handle = await open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
  ).catch((e: unknown) => {
    throw outputError(e, path, 'per-image records');
  });
  await handle.close();
  await appendRecords(path, [header]);
  return { done: new Set(), fresh: true };
}

// --- reading ------------------------------------------------------------------------------------

/**
 * The complete JSON lines of `path`, one at a time, with their line numbers. A last line without its
 * newline (a killed run's partial append) is not yielded: `end.truncatedAt` receives its byte offset.
 * A malformed line elsewhere is a 'bad-argument' error naming the line.
 */
export async function* jsonLines(
  path: string,
  end: { truncatedAt?: number } = {},
): AsyncGenerator<{ value: unknown; line: number }> {
  const size = (await lstat(path)).size;
  // Callers checked it is a plain file (lstat), so no FIFO blocks this read.
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  let offset = 0;
  try {
    for await (const text of lines) {
      const at = offset;
      offset += Buffer.byteLength(text) + 1;
      if (offset > size) {
        end.truncatedAt = at; // no newline after it: cut short
        break;
      }
      if (text.trim() !== '') yield { value: parseLine(text, line, path), line };
      line++;
    }
  } catch (e) {
    if (e instanceof GradsightError) throw e;
    throw new GradsightError('file-unreadable', `cannot read ${path}: ${(e as Error).message}`, {
      hint: 'check the file exists and is readable',
      details: { path },
      cause: e,
    });
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** Calls `each` with every complete JSON line of `path` (see jsonLines). */
export async function readLines(
  path: string,
  each: (value: unknown, line: number) => void,
): Promise<{ truncatedAt?: number }> {
  const end: { truncatedAt?: number } = {};
  for await (const { value, line } of jsonLines(path, end)) each(value, line);
  return end;
}

function parseLine(text: string, line: number, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new GradsightError('bad-argument', `${path} line ${line + 1} is not JSON`, {
      hint: 'per-image.jsonl is written by gradsight eval; rerun with --no-resume to start the file again',
      details: { path, line: line + 1 },
    });
  }
}

function checkHeader(value: unknown, path: string): RecordsHeader {
  const h = value as Partial<RecordsHeader> | null;
  if (!h || typeof h !== 'object' || h.format !== RECORDS_FORMAT || typeof h.config !== 'object') {
    throw new GradsightError('bad-argument', `${path} is not a gradsight eval records file`, {
      hint: `its first line must be the header {"format":"${RECORDS_FORMAT}",...}; use another --out, or --no-resume to replace it`,
      details: { path },
    });
  }
  return h as RecordsHeader;
}

function checkSameRun(found: RecordsHeader, want: RecordsHeader, path: string): void {
  const a = JSON.stringify(found.config);
  const b = JSON.stringify(want.config);
  const sa = JSON.stringify(found.shard ?? null);
  const sb = JSON.stringify(want.shard ?? null);
  if (a !== b || sa !== sb) {
    throw new GradsightError(
      'bad-argument',
      `${path} holds another run's records (${describe(found)}), not ${describe(want)}`,
      {
        hint: 'resume with the same model, dataset, methods, metrics, layers and shard; or --no-resume to start again, or another --out',
        details: { path },
      },
    );
  }
}

function describe(h: RecordsHeader): string {
  const c = h.config;
  return `${c.model} on ${c.dataset.name}, methods ${c.methods.join(',')}, metrics ${c.metrics.join(',')}${
    h.shard ? `, shard ${h.shard.index}/${h.shard.count}` : ''
  }`;
}

/** The header and the image records of a file, in file order (one at a time). */
export async function readRecords(path: string, each: (record: ImageRecord) => void): Promise<RecordsHeader> {
  await checkRecordsFile(path);
  let header: RecordsHeader | undefined;
  await readLines(path, (value, i) => {
    if (i === 0) header = checkHeader(value, path);
    else each(value as ImageRecord);
  });
  if (!header) checkHeader(undefined, path);
  return header!;
}

// --- merge --------------------------------------------------------------------------------------

/** The header and then the image records of one file, streamed. */
async function* recordStream(path: string): AsyncGenerator<ImageRecord, RecordsHeader | undefined> {
  await checkRecordsFile(path);
  for await (const { value, line } of jsonLines(path)) {
    if (line === 0) checkHeader(value, path);
    else yield value as ImageRecord;
  }
  return undefined;
}

async function readHeader(path: string): Promise<RecordsHeader> {
  await checkRecordsFile(path);
  for await (const { value } of jsonLines(path)) return checkHeader(value, path);
  return checkHeader(undefined, path);
}

async function checkRecordsFile(path: string): Promise<void> {
  const s = await lstat(path).catch(() => undefined);
  if (!s?.isFile()) {
    throw new GradsightError('file-not-found', `no per-image records at ${path}`, {
      hint: `a folder of gradsight eval holds ${RECORDS_FILE}; give the --out folder of each shard`,
      details: { path },
    });
  }
}

/**
 * Merges the records of shard files into `out` (a fresh file), in sample-index order: every shard must
 * be of the same run and split, no index may appear twice. Each shard file is in ascending index order
 * (the runner appends in sample order), so the merge is a k-way merge holding one record per shard.
 */
export async function mergeRecords(
  shards: readonly string[],
  out: string,
): Promise<{ header: RecordsHeader; images: number }> {
  if (!shards.length) {
    throw new GradsightError('bad-argument', 'merge needs at least one shard folder', {
      hint: 'gradsight eval merge OUT shard-1 shard-2 ...',
    });
  }
  const headers = await Promise.all(shards.map(readHeader));
  const header: RecordsHeader = { format: RECORDS_FORMAT, config: headers[0]!.config };
  for (const [i, h] of headers.entries())
    checkSameRun({ format: h.format, config: h.config }, header, shards[i]!);
  const counts = new Set(headers.map((h) => h.shard?.count ?? 1));
  const parts = new Set(headers.map((h) => (h.shard ? `${h.shard.index}/${h.shard.count}` : '1/1')));
  if (counts.size > 1 || parts.size < headers.length) {
    throw new GradsightError(
      'bad-argument',
      `the shards are not one split: ${headers.map((h) => (h.shard ? `${h.shard.index}/${h.shard.count}` : 'unsharded')).join(', ')}`,
      {
        hint: 'merge the folders of one --shard i/n split (the same n), each shard once',
      },
    );
  }
  await openRecords(out, header, false);
  const streams = shards.map(recordStream);
  const heads = await Promise.all(streams.map((s) => s.next()));
  let images = 0;
  let last = -1;
  let buffer: string[] = [];
  for (;;) {
    let k = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!;
      if (!h.done && (k < 0 || h.value.index < (heads[k]!.value as ImageRecord).index)) k = i;
    }
    if (k < 0) break;
    const record = heads[k]!.value as ImageRecord;
    if (record.index <= last) {
      throw new GradsightError(
        'bad-argument',
        `sample ${record.index} (${record.id}) appears twice or out of order (in ${shards[k]})`,
        {
          hint: 'merge shards of one split, each once; a shard folder resumed with another --limit or --shard holds a mix',
        },
      );
    }
    last = record.index;
    buffer.push(`${JSON.stringify(record)}\n`);
    images++;
    if (buffer.length >= 256) {
      await appendText(out, buffer.join(''));
      buffer = [];
    }
    heads[k] = await streams[k]!.next();
  }
  if (buffer.length) await appendText(out, buffer.join(''));
  return { header, images };
}

async function appendText(path: string, text: string): Promise<void> {
  await appendFile(path, text, { flag: APPEND }).catch((e: unknown) => {
    throw outputError(e, path, 'per-image records');
  });
}
