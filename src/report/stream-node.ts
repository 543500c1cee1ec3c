// A report written card by card (Node only), so a run over a large folder never holds every image's
// data URLs in memory: each card goes to a temp file beside the report as it is rendered, and
// `finish` writes the head (which needs the run's summary and the table of contents), the cards and
// the foot to a second temp file renamed into place. The result equals renderReport's for the same
// data; an interrupted run leaves no truncated report.

import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { outputError, tempPath } from '../io/write-file-node.ts';
import { type ReportTocEntry, renderReportFoot, renderReportHead } from './html.ts';
import type { ReportData } from './types.ts';

export class ReportStream {
  private readonly entries: ReportTocEntry[] = [];
  private readonly cardsPath: string;
  private cards: WriteStream | undefined;

  private constructor(readonly path: string) {
    this.cardsPath = tempPath(path, 'cards');
  }

  /** Opens a stream for the report at `path`, creating missing parent folders. */
  static async open(path: string): Promise<ReportStream> {
    const s = new ReportStream(resolve(path));
    try {
      await mkdir(dirname(s.path), { recursive: true });
    } catch (e) {
      throw outputError(e, s.path, 'HTML report');
    }
    // 'wx': temp files are created, never opened through something already at their name (a link).
    s.cards = quiet(createWriteStream(s.cardsPath, { flags: 'wx' }));
    try {
      await once(s.cards, 'ready');
    } catch (e) {
      throw outputError(e, s.path, 'HTML report');
    }
    return s;
  }

  /** Number of cards added so far: the index the next card's anchor must use. */
  get size(): number {
    return this.entries.length;
  }

  /** Appends one image card (renderImageCard's HTML for index `size`). */
  async add(entry: ReportTocEntry, card: string): Promise<void> {
    const piece = this.entries.length ? `\n${card}` : card;
    this.entries.push({ file: entry.file, ...(entry.error ? { error: entry.error } : {}) });
    await write(this.cards!, piece);
  }

  /** Writes the complete report and returns its absolute path. */
  async finish(data: Omit<ReportData, 'images'>): Promise<string> {
    const tmp = tempPath(this.path);
    try {
      await end(this.cards!);
      const out = quiet(createWriteStream(tmp, { flags: 'wx' }));
      await write(out, renderReportHead(data, this.entries));
      for await (const chunk of createReadStream(this.cardsPath)) await write(out, chunk as Buffer);
      await write(out, renderReportFoot(data, this.entries));
      await end(out);
      await rename(tmp, this.path);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      throw outputError(e, this.path, 'HTML report');
    } finally {
      await rm(this.cardsPath, { force: true }).catch(() => {});
    }
    return this.path;
  }

  /** Drops the temp file (a run that failed before its report). */
  async abort(): Promise<void> {
    if (this.cards && !this.cards.closed) await end(this.cards).catch(() => {});
    await rm(this.cardsPath, { force: true }).catch(() => {});
  }
}

/** A stream whose errors are read from `errored` and by write/end, never thrown as an event. */
function quiet(s: WriteStream): WriteStream {
  return s.on('error', () => {});
}

/** Writes, and waits for the stream to drain when its buffer is full (memory stays bounded). */
async function write(s: WriteStream, data: string | Buffer): Promise<void> {
  if (s.errored) throw s.errored;
  if (!s.write(data)) await once(s, 'drain');
}

/** Ends the stream; a write error seen on the way rejects here. */
function end(s: WriteStream): Promise<void> {
  return new Promise((ok, fail) => {
    if (s.errored) return fail(s.errored);
    s.once('error', fail);
    s.end(() => ok());
  });
}
