// A captioner's token feed given as is: a prefix shorter than the length the model is explained at is
// padded with <pad> on the right (as gradsight pads its own prefixes), giving the maps of the same
// caption given as text; a longer one, or one that is not [N, L], is a typed error (was: an internal
// error from ONNX Runtime's tensor constructor).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { SCENE_SPLITS, splitScene } from '../../src/demo/scenes.ts';
import { loadExplainer } from '../../src/explain/load-node.ts';
import { repoRoot } from '../helpers/shared.ts';

const CAPTIONER = join(repoRoot, 'demo', 'models', 'captioner');

test('a short token feed explains like the caption text; a long one is a typed error', async () => {
  const ex = await loadExplainer(CAPTIONER);
  try {
    const image = splitScene(SCENE_SPLITS.test, 0).image;
    const vocab = ex.model.description.language!.vocabulary;
    const words = ['a', 'small', 'red', 'circle'];
    const ids = [vocab.indexOf('<bos>'), ...words.map((w) => vocab.indexOf(w))];
    assert.ok(ids.every((i) => i >= 0));
    const tokens = { dtype: 'int64' as const, dims: [1, ids.length], data: BigInt64Array.from(ids, BigInt) };
    const fromFeed = await ex.explain(image, { target: 'caption', feeds: { tokens } });
    const fromText = await ex.explain(image, { target: 'caption', caption: words.join(' ') });
    assert.equal(fromFeed.explanations.length, words.length);
    assert.equal(fromText.explanations.length, words.length);
    for (let i = 0; i < words.length; i++) {
      const [a, b] = [fromFeed.explanations[i]!.map!, fromText.explanations[i]!.map!];
      let d = 0;
      for (let p = 0; p < a.length; p++) d = Math.max(d, Math.abs(a[p]! - b[p]!));
      assert.ok(d <= 1e-6, `word ${i}: max difference ${d}`);
    }
    const long = { dtype: 'int64' as const, dims: [1, 40], data: new BigInt64Array(40).fill(1n) };
    await assert.rejects(ex.explain(image, { feeds: { tokens: long } }), {
      code: 'shape-mismatch',
      message: /has 40 ids per row; this model is explained at/,
    });
  } finally {
    await ex.release();
  }
});
