// Opening an image model from a path in Node: files from disk, onnxruntime-node as the runtime.

import { dirname, join } from 'node:path';
import { nodeRuntime } from '../runtime/node.ts';
import { ImageModel, type ImageModelOptions } from './image-model.ts';
import { type LoadOptions, loadModelFiles } from './load-node.ts';

export type OpenOptions = ImageModelOptions & LoadOptions;

export async function openImageModel(path: string, opts: OpenOptions = {}): Promise<ImageModel> {
  const files = await loadModelFiles(path, opts);
  return ImageModel.create(
    nodeRuntime,
    {
      bytes: files.bytes,
      model: files.model,
      externalData: files.externalData,
      preprocessFile: files.preprocessFile,
      preprocessSource: join(dirname(files.path), 'preprocess.json'),
      labels: files.labels,
      ...(files.vocabulary ? { vocabulary: files.vocabulary } : {}),
      ...(files.answers ? { answers: files.answers } : {}),
    },
    opts,
  );
}
