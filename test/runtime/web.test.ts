// The web runtime (onnxruntime-web's wasm build, here in Node) gives the same explanations as the Node
// runtime: the one-run gradient graphs, the guided rule set and the counterfactual all run there.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Explainer } from '../../src/explain/explainer.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { loadModelFiles } from '../../src/model/load-node.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { Runtime } from '../../src/runtime/runtime.ts';
import { pickWebBackend, webRuntime } from '../../src/runtime/web.ts';
import { sharedDir, skipNoShared } from '../helpers/shared.ts';

const modelDir = join(sharedDir, 'models', 'mobilenet_v2_1.0_224_quant');

async function explainerOn(runtime: Runtime): Promise<Explainer> {
  const f = await loadModelFiles(modelDir);
  const model = await ImageModel.create(
    runtime,
    { bytes: f.bytes, model: f.model, preprocessFile: f.preprocessFile, labels: f.labels },
    { threads: 1 },
  );
  return Explainer.fromModel(model);
}

const maxDiff = (a: Float32Array, b: Float32Array) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

test('auto picks wasm where there is no WebGPU adapter (Node)', async () => {
  assert.equal(await pickWebBackend('auto'), 'wasm');
  assert.equal(await pickWebBackend('webgpu'), 'webgpu');
  const rt = await webRuntime();
  assert.equal(rt.name, 'onnxruntime-web (wasm)');
  assert.equal(rt.profile, 'cpu');
});

test('web (wasm) explanations equal the Node runtime’s on MobileNetV2', { skip: skipNoShared }, async () => {
  const image = await decodeImageFile(join(sharedDir, 'images', 'cat.png'));
  const web = await explainerOn(await webRuntime({ threads: 1 }));
  const node = await explainerOn(nodeRuntime);
  try {
    const cases = [
      { method: 'gradcam' as const },
      { method: 'gradcam' as const, counterfactual: true },
      { method: 'guided-gradcam' as const },
      { method: 'gradcam' as const, target: 'top:2' },
    ];
    for (const options of cases) {
      const [w, n] = [await web.explain(image, options), await node.explain(image, options)];
      assert.deepEqual(
        w.explanations.map((e) => e.target.index),
        n.explanations.map((e) => e.target.index),
      );
      for (let i = 0; i < n.explanations.length; i++) {
        const a = w.explanations[i]!;
        const b = n.explanations[i]!;
        const d = maxDiff((a.map ?? a.pixels)!, (b.map ?? b.pixels)!);
        assert.ok(d <= 1e-4, `${JSON.stringify(options)} row ${i}: max |web − node| = ${d}`);
      }
    }
  } finally {
    await web.release();
    await node.release();
  }
});

test('a file that is not ONNX is a typed model-invalid error on the web runtime', async () => {
  const rt = await webRuntime({ threads: 1 });
  await assert.rejects(rt.createSession(new TextEncoder().encode('not a model')), {
    name: 'GradsightError',
    code: 'model-invalid',
  });
});
