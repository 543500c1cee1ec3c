// Finds and parses the optional preprocess.json beside a model file (Node only: it reads the disk).

import { dirname, join } from 'node:path';
import { sideFileIn } from '../io/confine-node.ts';
import { readJsonFile } from '../io/read-file-node.ts';
import { validatePreprocess } from './preprocess-validate.ts';

/**
 * The parsed, validated `preprocess.json` next to `modelPath`, or undefined when there is none. Pass it to
 * resolvePreprocess as `file` (with `fileSource: preprocessPathFor(modelPath)`). It must resolve inside
 * the model's folder: a link out of it is refused before it is read.
 */
export async function loadPreprocessFile(modelPath: string): Promise<unknown> {
  const path = await sideFileIn(dirname(modelPath), 'preprocess.json', 'preprocess file');
  return path === undefined ? undefined : readPreprocessFile(path);
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
