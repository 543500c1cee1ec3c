// Reads labels files from disk (Node only).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GradsightError } from '../errors.ts';
import { readFileTyped } from '../io/read-file-node.ts';
import { type Labels, parseLabels } from './labels.ts';

/**
 * Reads a labels file. With `optional`, a missing file gives undefined (for the default labels.txt beside
 * a model); a file the user named explicitly must exist.
 */
export async function loadLabelsFile(path: string): Promise<Labels>;
export async function loadLabelsFile(path: string, opts: { optional: boolean }): Promise<Labels | undefined>;
export async function loadLabelsFile(
  path: string,
  opts?: { optional: boolean },
): Promise<Labels | undefined> {
  if (opts?.optional && !existsSync(path)) return undefined;
  const bytes = await readFileTyped(path, 'labels file');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    throw new GradsightError('bad-labels', `${path} is not UTF-8 text`, {
      hint: 'A labels file is plain UTF-8 text with one class name per line.',
      details: { source: path },
      cause: e,
    });
  }
  return parseLabels(text, path);
}

/** Reads `labels.txt` next to `modelPath`; undefined when there is none. */
export async function loadLabelsNextTo(modelPath: string): Promise<Labels | undefined> {
  return loadLabelsFile(join(dirname(modelPath), 'labels.txt'), { optional: true });
}
