// Every reference input.npy (PIL resize + NumPy float32 normalization) against gradsight's
// decode → resize → normalize, per model and image. The max difference is printed for the report.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { imageToTensor, resolvePreprocess } from '../../src/image/preprocess.ts';
import { readPreprocessFile } from '../../src/image/preprocess-node.ts';
import { readNpy } from '../../src/tensor/npy-node.ts';
import { hasShared, imagePath, sharedDir, skipNoShared } from '../helpers/shared.ts';

interface Entry {
  model: string;
  image: string;
  kind: string;
  file: string;
}

const entries: Entry[] = hasShared
  ? (JSON.parse(readFileSync(join(sharedDir, 'reference', 'index.json'), 'utf8')) as Entry[]).filter(
      (e) => e.kind === 'input',
    )
  : [];

test('reference inputs exist', { skip: skipNoShared }, () => {
  assert.ok(entries.length >= 15, `expected at least 15 input entries, found ${entries.length}`);
});

for (const e of entries) {
  test(`input.npy ${e.model}/${e.image}`, { skip: skipNoShared }, async (t) => {
    const pfile = join(sharedDir, 'models', e.model, 'preprocess.json');
    const cfg = resolvePreprocess({ file: await readPreprocessFile(pfile), fileSource: pfile });
    const ref = await readNpy(join(sharedDir, 'reference', e.file));
    const ours = imageToTensor(await decodeImageFile(imagePath(e.image)), cfg);
    assert.deepEqual(ours.dims, [1, ...ref.dims]);
    assert.equal(ref.dtype, 'float32');
    let max = 0;
    let mismatches = 0;
    for (let i = 0; i < ours.data.length; i++) {
      const d = Math.abs(ours.data[i]! - (ref.data[i] as number));
      if (d > 0) mismatches++;
      if (d > max) max = d;
    }
    t.diagnostic(`${e.model}/${e.image}: max abs diff ${max.toExponential(3)}, ${mismatches} values differ`);
    assert.equal(max, 0, `max abs diff ${max} (${mismatches} of ${ours.data.length} values differ)`);
  });
}
