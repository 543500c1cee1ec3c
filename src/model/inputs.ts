// Which graph input is the image, and the extra feeds a model with several inputs takes (token ids,
// masks, a question). The image input is given by name or inferred from shapes: the one float input
// of rank 4 with 1, 3 or 4 channels on axis 1 or 3. Extra feeds are checked against the declared
// dtype and static dims; a feed with batch 1 is repeated for every image.

import { closestNames, GradsightError } from '../errors.ts';
import type { ValueInfo } from '../onnx/index.ts';
import { type Feeds, repeatRows } from '../tensor/rows.ts';
import type { Tensor } from '../tensor/tensor.ts';

const describe = (i: ValueInfo) =>
  `${i.name} ${i.dtype ?? '?'} [${(i.shape ?? []).map((d) => d ?? '?').join(', ')}]`;

export function pickImageInput(inputs: readonly ValueInfo[], name?: string): ValueInfo {
  if (name !== undefined) {
    const hit = inputs.find((i) => i.name === name);
    if (!hit) {
      throw new GradsightError('bad-argument', `the model has no input named ${JSON.stringify(name)}`, {
        hint: `inputs: ${inputs.map(describe).join('; ')}; closest: ${closestNames(
          name,
          inputs.map((i) => i.name),
        ).join(', ')}`,
      });
    }
    return hit;
  }
  if (inputs.length === 1) return inputs[0]!;
  if (inputs.length === 0) {
    throw new GradsightError('model-invalid', 'the model has no inputs, so there is no image to feed', {
      hint: 'give a model whose graph takes the image as an input (initializers are not inputs)',
    });
  }
  const images = inputs.filter(looksLikeImage);
  if (images.length === 1) return images[0]!;
  throw new GradsightError(
    'model-invalid',
    `cannot tell which of the model's ${inputs.length} inputs is the image (${inputs.map(describe).join('; ')})`,
    {
      hint: `name it with --image-input (library: imageInput), e.g. --image-input ${(images[0] ?? inputs[0])!.name}`,
    },
  );
}

function looksLikeImage(i: ValueInfo): boolean {
  const s = i.shape;
  if ((i.dtype !== undefined && i.dtype !== 'float32') || s?.length !== 4) return false;
  const channels = (d: unknown) => d === 1 || d === 3 || d === 4;
  return channels(s[1]) || channels(s[3]);
}

/**
 * The extra feeds for a batch of n images: every non-image input present, with the declared dtype
 * and static dims; batch 1 (or no batch axis) is repeated to n rows.
 */
export function checkFeeds(extra: readonly ValueInfo[], feeds: Feeds | undefined, n: number): Feeds {
  const given = feeds ?? {};
  for (const name of Object.keys(given)) {
    if (!extra.some((i) => i.name === name)) {
      throw new GradsightError('bad-argument', `the model has no extra input named ${JSON.stringify(name)}`, {
        hint: extra.length
          ? `extra inputs: ${extra.map(describe).join('; ')}`
          : 'this model takes only the image',
      });
    }
  }
  const out: Record<string, Tensor> = {};
  for (const info of extra) {
    const t = given[info.name];
    if (!t) {
      throw new GradsightError('bad-argument', `the model's input ${describe(info)} is not given`, {
        hint: `feed it with --feed ${info.name}=file.npy (or .json); library: explain(images, { feeds: { '${info.name}': tensor } })`,
      });
    }
    out[info.name] = checkFeed(info, t, n);
  }
  return out;
}

function checkFeed(info: ValueInfo, t: Tensor, n: number): Tensor {
  const shape = info.shape ?? [];
  const wrong = (why: string) =>
    new GradsightError('bad-argument', `the feed for ${describe(info)} ${why}`, {
      hint: `give ${info.dtype ?? 'a'} tensor of shape [${shape.map((d, i) => (i === 0 ? 'N or 1' : (d ?? '?'))).join(', ')}]`,
    });
  if (info.dtype !== undefined && t.dtype !== info.dtype) throw wrong(`is ${t.dtype}, not ${info.dtype}`);
  let dims = [...t.dims];
  if (shape.length > 0 && dims.length === shape.length - 1) dims = [1, ...dims];
  if (shape.length > 0 && dims.length !== shape.length)
    throw wrong(`has shape [${t.dims.join(', ')}] (rank ${t.dims.length})`);
  for (let a = 1; a < dims.length; a++) {
    const want = shape[a];
    if (typeof want === 'number' && want > 0 && dims[a] !== want)
      throw wrong(`has shape [${t.dims.join(', ')}]: axis ${a} must be ${want}`);
  }
  const rows = dims[0] ?? 1;
  const batched = { ...t, dims };
  if (rows === n) return batched;
  if (rows === 1) return repeatRows(batched, n);
  throw wrong(`has ${rows} rows for ${n} images`);
}
