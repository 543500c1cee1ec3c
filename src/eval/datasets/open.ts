// Opens a dataset folder or file, autodetecting its format (stub: the readers land next).

import type { EvalDataset, OpenDatasetOptions } from './types.ts';

export async function openDataset(path: string, options: OpenDatasetOptions = {}): Promise<EvalDataset> {
  throw new Error(`not implemented: ${path} ${JSON.stringify(options)}`);
}
