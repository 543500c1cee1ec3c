// The model run itself against PyTorch: feeding the reference input.npy gives the reference logits,
// and decoding the photo ourselves gives the same logits (preprocessing is exact), for the shared
// models including the random-weight SqueezeNet that VERIFY.md does not cover.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { imagesToBatch } from '../../src/image/preprocess.ts';
import type { ImageModel } from '../../src/model/image-model.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { type Float32Tensor, float32 } from '../../src/tensor/tensor.ts';
import { readReference, referenceEntries } from '../helpers/reference.ts';
import { imagePath, modelPath, skipNoShared } from '../helpers/shared.ts';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('logits equal the PyTorch reference', { skip: skipNoShared }, () => {
  const entries = skipNoShared ? [] : referenceEntries('logits');
  const models = [...new Set(entries.map((e) => e.model))];
  for (const name of models) {
    test(name, async (t) => {
      const model: ImageModel = await openImageModel(modelPath(name));
      try {
        for (const e of entries.filter((x) => x.model === name)) {
          const ref = readReference(e.file);
          const input = readReference(e.file.replace('logits.npy', 'input.npy'));
          const fromNpy = await model.run(float32(input.data as Float32Array, [1, ...input.dims]));
          const img = await decodeImageFile(imagePath(e.image));
          const fromImage: Float32Tensor = await model.run(imagesToBatch([img], model.preprocess));
          const d1 = maxAbsDiff(fromNpy.data, ref.data as Float32Array);
          const d2 = maxAbsDiff(fromImage.data, ref.data as Float32Array);
          t.diagnostic(
            `${e.image}: max |logit − torch| from input.npy ${d1.toExponential(2)}, from the photo ${d2.toExponential(2)}`,
          );
          assert.ok(d1 < 1e-3, `${e.image} from input.npy: ${d1}`);
          assert.ok(d2 < 1e-3, `${e.image} from the photo: ${d2}`);
          const top5 = (x: Float32Array) => [...x.keys()].sort((a, b) => x[b]! - x[a]!).slice(0, 5);
          assert.deepEqual(top5(fromImage.data), e.top5 ?? top5(ref.data as Float32Array));
        }
      } finally {
        await model.release();
      }
    });
  }
});
