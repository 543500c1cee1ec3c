// Writes a report to disk (Node only). The file goes to a temp name next to the target and is renamed
// into place, so an interrupted run never leaves a truncated report where a complete one is expected.

import { writeFileAtomic } from '../io/write-file-node.ts';
import { renderReport } from './html.ts';
import type { ReportData } from './types.ts';

/** Renders `data` and writes it to `path` atomically, creating missing parent folders; returns the absolute path. */
export function writeReport(path: string, data: ReportData): Promise<string> {
  return writeFileAtomic(path, renderReport(data), 'HTML report', { createParents: true });
}
