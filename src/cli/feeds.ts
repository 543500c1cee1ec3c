// --feed name=file: the extra inputs of a multi-input model, from .npy or .json files. The library
// checks them against the model (model/inputs.ts); this only reads the files.

import { extname } from 'node:path';
import { GradsightError } from '../errors.ts';
import { type ReadLimit, readJsonFile } from '../io/read-file-node.ts';
import type { ImageModel } from '../model/image-model.ts';
import { tensorFromJson } from '../tensor/json-tensor.ts';
import { readNpy } from '../tensor/npy-node.ts';
import type { Feeds } from '../tensor/rows.ts';
import type { DType, Tensor } from '../tensor/tensor.ts';

export const feedArg = (v: string, prev: string[] = []) => [...prev, v];

export async function loadFeeds(
  args: readonly string[] | undefined,
  model: ImageModel,
  limit: ReadLimit = {},
): Promise<Feeds> {
  const out: Record<string, Tensor> = {};
  for (const arg of args ?? []) {
    const eq = arg.indexOf('=');
    if (eq <= 0 || eq === arg.length - 1) {
      throw new GradsightError('bad-argument', `--feed expects NAME=FILE, got ${JSON.stringify(arg)}`, {
        hint: `for example --feed ${model.extraInputs[0]?.name ?? 'input_ids'}=ids.npy (or .json)`,
      });
    }
    const name = arg.slice(0, eq);
    const file = arg.slice(eq + 1);
    const info = model.extraInputs.find((i) => i.name === name);
    if (extname(file).toLowerCase() === '.json') {
      const json = await readJsonFile(
        file,
        'feed file',
        'bad-argument',
        'write the tensor as nested arrays of numbers, e.g. [[101, 2054, 102]]',
        limit,
      );
      out[name] = tensorFromJson(json, (info?.dtype ?? 'float32') as DType, file);
    } else out[name] = await readNpy(file, limit);
  }
  return out;
}
