// gradsight layers: the ranking's numbers recomputed independently for the default layer (mask the
// input with the library's Grad-CAM map, run the model, compare the class probability), and the
// listing without an image.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Explainer } from '../../src/explain/explainer.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { imagesToBatch } from '../../src/image/preprocess.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { softmax } from '../../src/tensor/tensor.ts';
import { runCli } from '../helpers/cli.ts';
import { imagePath, modelPath, skipNoShared } from '../helpers/shared.ts';

interface Ranked {
  class: number;
  layers: {
    layer: { name: string; shape: (number | string)[] };
    kept: number;
    drop: number;
    resolution: number;
    isDefault: boolean;
  }[];
}

describe('layers on MobileNetV2', { skip: skipNoShared }, () => {
  test('kept probability of the default layer equals an independent recomputation', async () => {
    const m = modelPath('mobilenet_v2_1.0_224_quant');
    const r = await runCli(['layers', m, '--image', imagePath('cat.png'), '--limit', '12', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Ranked;
    assert.equal(out.class, 286);
    assert.equal(out.layers.length, 12);
    const kept = out.layers.map((l) => l.kept);
    assert.deepEqual(
      kept,
      [...kept].sort((a, b) => b - a),
      'sorted by probability kept',
    );
    const def = out.layers.find((l) => l.isDefault)!;
    assert.equal(def.layer.name, 'MobilenetV2/Conv_1/Relu6');

    const ex = Explainer.fromModel(await openImageModel(m));
    try {
      const x = imagesToBatch([await decodeImageFile(imagePath('cat.png'))], ex.model.preprocess);
      const e = (await ex.explain(x, { method: 'gradcam', target: '286' })).explanations[0]!;
      const masked = x.data.map((v, i) => v * e.map![i % (224 * 224)]!);
      const p = softmax((await ex.model.run(x)).data)[286]!;
      const pm = softmax((await ex.model.run({ ...x, data: masked })).data)[286]!;
      assert.ok(Math.abs(def.kept - pm / p) < 1e-4, `${def.kept} vs ${pm / p}`);
      assert.ok(Math.abs(def.drop - Math.max(0, p - pm) / p) < 1e-4);
    } finally {
      await ex.release();
    }
  });

  test('without an image: candidates by resolution', async () => {
    const r = await runCli(['layers', modelPath('mobilenet_v2_1.0_224_quant'), '--top', '100', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Ranked;
    const res = out.layers.map((l) => l.resolution);
    assert.deepEqual(
      res,
      [...res].sort((a, b) => b - a),
    );
    assert.equal(res[0], 112 * 112);
    assert.ok(out.layers.some((l) => l.isDefault));
  });
});
