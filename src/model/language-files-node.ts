// The side files of a captioning or VQA model (Node): the vocabulary and answers files its
// preprocess.json names, read from the model's folder (they must resolve inside it) as one entry per
// line. Whether they fit the model is checked when it is opened (language-description.ts).

import { join } from 'node:path';
import { GradsightError } from '../errors.ts';
import { loadLabelsFile } from '../image/labels-node.ts';
import { sideFileIn } from '../io/confine-node.ts';

export async function loadLanguageFiles(
  folder: string,
  preprocessFile: unknown,
): Promise<{ vocabulary?: readonly string[]; answers?: readonly string[] }> {
  if (typeof preprocessFile !== 'object' || preprocessFile === null) return {};
  const o = preprocessFile as Record<string, unknown>;
  const out: { vocabulary?: readonly string[]; answers?: readonly string[] } = {};
  for (const key of ['vocabulary', 'answers'] as const) {
    const name = o[key];
    // Wrong types are reported by the description's own checks, with the other keys.
    if (typeof name !== 'string' || name === '') continue;
    const what = key === 'vocabulary' ? 'vocabulary file' : 'answers file';
    const path = await sideFileIn(folder, name, what);
    if (path === undefined) {
      throw new GradsightError(
        'file-not-found',
        `the ${what} ${JSON.stringify(name)} named in preprocess.json is not in ${folder}`,
        {
          hint: `put ${name} (one ${key === 'vocabulary' ? 'token' : 'answer'} per line) beside the model, or fix "${key}" in preprocess.json`,
          details: { path: join(folder, name), key },
        },
      );
    }
    out[key] = await loadLabelsFile(path);
  }
  return out;
}
