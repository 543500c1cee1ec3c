// Writes a report to disk (Node only). The file goes to a temp name next to the target and is renamed
// into place, so an interrupted run never leaves a truncated report where a complete one is expected.

import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileError } from '../io/read-file-node.ts';
import { renderReport } from './html.ts';
import type { ReportData } from './types.ts';

/** Renders `data` and writes it to `path` atomically, creating missing parent folders; returns the absolute path. */
export async function writeReport(path: string, data: ReportData): Promise<string> {
  const abs = resolve(path);
  const html = renderReport(data);
  const tmp = join(dirname(abs), `.${basename(abs)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(tmp, html, 'utf8');
    await rename(tmp, abs);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {}); // the write's error is the one to report
    throw fileError(e, abs, 'HTML report');
  }
  return abs;
}
