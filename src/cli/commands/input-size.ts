// `--input x.npy` on a model whose height and width are symbolic (exported with dynamic_axes
// {2: 'H', 3: 'W'}): the tensor's own H×W is the input size, so the model is opened at that size
// (shapes, layers, maps and overlays all follow it) instead of refusing every size but the default.
// A model with static H, W keeps its size, and the caller's shape check refuses a tensor that
// contradicts it; an explicit --size is never overridden.

import type { ReadLimit } from '../../io/read-file-node.ts';
import type { ImageModel } from '../../model/image-model.ts';
import { checkInputPixels } from '../../model/input-pixels.ts';
import { openImageModel } from '../../model/open-node.ts';
import { readNpy } from '../../tensor/npy-node.ts';
import { fileLimit, modelLimits, type PreprocessOpts, preprocessFlags } from '../options.ts';

/** The [H, W] of an input tensor (with or without its batch axis) in the model's layout. */
export function tensorSize(dims: readonly number[], model: ImageModel): [number, number] | undefined {
  const rank = model.input.shape?.length ?? 4;
  const d = dims.length === rank - 1 ? [1, ...dims] : dims;
  if (d.length !== 4) return undefined;
  return model.preprocess.layout === 'NCHW' ? [d[2]!, d[3]!] : [d[1]!, d[2]!];
}

/** True when the model declares both spatial axes without a static size. */
export function symbolicSpatial(model: ImageModel): boolean {
  const s = model.input.shape;
  if (s?.length !== 4) return false;
  const [h, w] = model.preprocess.layout === 'NCHW' ? [s[2], s[3]] : [s[1], s[2]];
  return typeof h !== 'number' && typeof w !== 'number';
}

/**
 * Opens the model (`open(size)`, size undefined: the usual resolution) and, for a tensor input of
 * another H×W on a model with symbolic H, W and no --size flag, re-opens it at the tensor's size.
 */
export async function openForInput(
  open: (size?: [number, number]) => Promise<ImageModel>,
  input: string | undefined,
  sizeFlag: readonly [number, number] | undefined,
  limit: ReadLimit = {},
): Promise<ImageModel> {
  const model = await open();
  if (input === undefined || sizeFlag !== undefined || !symbolicSpatial(model)) return model;
  const size = tensorSize((await readNpy(input, limit)).dims, model);
  const [h, w] = model.preprocess.size;
  if (!size || (size[0] === h && size[1] === w)) return model;
  await model.release();
  checkInputPixels(size, model.maxInputPixels, 'tensor');
  return open(size);
}

/**
 * The model as `explain` and `grad` open it from their flags (preprocessing, labels, threads, image
 * input). Its own session is made only if a forward run needs it: they mostly run the gradient model.
 */
export function openModelFor(
  modelPath: string,
  o: PreprocessOpts & {
    labels?: string;
    threads?: number;
    imageInput?: string;
    input?: string;
    spinning?: boolean;
  },
): Promise<ImageModel> {
  return openForInput(
    (size) =>
      openImageModel(modelPath, {
        preprocess: { ...preprocessFlags(o), ...(size ? { size } : {}) },
        ...modelLimits(o),
        ...(o.labels !== undefined ? { labelsPath: o.labels } : {}),
        ...(o.threads !== undefined ? { threads: o.threads } : {}),
        ...(o.imageInput !== undefined ? { imageInput: o.imageInput } : {}),
        session: 'lazy',
        ...(o.spinning !== undefined ? { spinning: o.spinning } : {}),
      }),
    o.input,
    o.size,
    fileLimit(o),
  );
}
