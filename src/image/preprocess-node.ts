// Finds and parses the optional preprocess.json beside a model file (Node only: it reads the disk).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readJsonFile } from '../io/read-file-node.ts';
import { validatePreprocess } from './preprocess-validate.ts';

/**
 * The parsed, validated `preprocess.json` next to `modelPath`, or undefined when there is none. Pass it to
 * resolvePreprocess as `file` (with `fileSource: preprocessPathFor(modelPath)`).
 */
export async function loadPreprocessFile(modelPath: string): Promise<unknown> {
  const path = preprocessPathFor(modelPath);
  return existsSync(path) ? readPreprocessFile(path) : undefined;
}

export const preprocessPathFor = (modelPath: string) => join(dirname(modelPath), 'preprocess.json');

/** Reads and validates a preprocess.json file; returns the parsed JSON. */
export async function readPreprocessFile(path: string): Promise<unknown> {
  const json = await readJsonFile(
    path,
    'preprocess file',
    'bad-preprocess',
    'Fix the JSON syntax (trailing commas and comments are not allowed).',
  );
  validatePreprocess(json, path);
  return json;
}
