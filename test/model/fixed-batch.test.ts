// Models exported with a fixed batch of 1: predictions, gradients and explanations of several images
// and several targets must equal those of the same network with a dynamic batch.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Explainer } from '../../src/explain/explainer.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { seededValues, tinyCnn } from '../helpers/tiny-models.ts';

const open = (bytes: Uint8Array) => ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });
const input: Float32Tensor = {
  dtype: 'float32',
  dims: [3, 3, 8, 8],
  data: Float32Array.from(seededValues(576, 5)),
};

test('fixed batch 1: the same predictions and explanations as a dynamic batch', async () => {
  const fixed = Explainer.fromModel(await open(tinyCnn({ fixedBatch: true })));
  const dynamic = Explainer.fromModel(await open(tinyCnn()));
  try {
    assert.equal(fixed.model.fixedBatch, true);
    assert.equal(dynamic.model.fixedBatch, false);
    const a = await fixed.model.run(input);
    const b = await dynamic.model.run(input);
    assert.deepEqual(a.dims, [3, 3]);
    assert.deepEqual(a.data, b.data);
    const opts = {
      method: ['gradcam', 'guided-backprop', 'scorecam', 'ablationcam'] as const,
      target: 'top:2',
      layers: ['features'],
    };
    const ra = await fixed.explain(input, { ...opts, method: [...opts.method] });
    const rb = await dynamic.explain(input, { ...opts, method: [...opts.method] });
    assert.equal(ra.explanations.length, 24);
    ra.explanations.forEach((e, i) => {
      const f = rb.explanations[i]!;
      assert.equal(e.target.index, f.target.index);
      const x = e.map ?? e.pixels!;
      const y = f.map ?? f.pixels!;
      for (let k = 0; k < x.length; k++) assert.ok(Math.abs(x[k]! - y[k]!) < 1e-6, `${e.method} row ${i}`);
    });
  } finally {
    await fixed.release();
    await dynamic.release();
  }
});
