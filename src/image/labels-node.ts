// Reads labels files from disk (Node only).

import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { GradsightError } from '../errors.ts';
import { sideFileIn } from '../io/confine-node.ts';
import { readFileTyped, SIDE_FILE_MAX_BYTES } from '../io/read-file-node.ts';
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
  const bytes = await readFileTyped(path, 'labels file', { maxBytes: SIDE_FILE_MAX_BYTES });
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

/**
 * Reads `labels.txt` next to `modelPath`; undefined when there is none. It must resolve inside the
 * model's folder ('file-outside-model-dir' for a link out of it).
 */
export async function loadLabelsNextTo(modelPath: string): Promise<Labels | undefined> {
  const path = await sideFileIn(dirname(modelPath), 'labels.txt', 'labels file');
  return path === undefined ? undefined : loadLabelsFile(path);
}
