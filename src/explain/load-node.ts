// Explainer.load for Node: open a model file (with preprocess.json and labels.txt beside it).

import { type OpenOptions, openImageModel } from '../model/open-node.ts';
import { Explainer } from './explainer.ts';

/** Opens `path` (an .onnx file or a folder with model.onnx) and returns an Explainer for it. */
export async function loadExplainer(path: string, options: OpenOptions = {}): Promise<Explainer> {
  return Explainer.fromModel(await openImageModel(path, options));
}
