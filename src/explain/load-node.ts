// Opening a model by path, for Node only (the Explainer class itself is platform-neutral): a model file
// with preprocess.json and labels.txt beside it, or a folder holding model.onnx.

import { type OpenOptions, openImageModel } from '../model/open-node.ts';
import { Explainer } from './explainer.ts';

/** Opens `path` (an .onnx file or a folder with model.onnx) and returns an Explainer for it. */
export async function loadExplainer(path: string, options: OpenOptions = {}): Promise<Explainer> {
  return Explainer.fromModel(await openImageModel(path, options));
}
