// Opening a model from bytes and named side files (the browser's way, run here in Node on the web
// runtime): the same predictions and maps as the Node loader, external data given as a file, dropped
// files sorted into model and side files, and typed errors for what is missing or malformed.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Explainer } from '../../src/explain/explainer.ts';
import { loadExplainer } from '../../src/explain/load-node.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { openWebModel, webModelSource } from '../../src/model/open-web.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { float32 } from '../../src/tensor/tensor.ts';
import { sharedDir, skipNoShared } from '../helpers/shared.ts';
import { seededValues, tinyCnn, tinyCnnConvWeightBytes } from '../helpers/tiny-models.ts';

const modelDir = join(sharedDir, 'models', 'mobilenet_v2_1.0_224_quant');

test('bytes + preprocess.json + labels.txt on the web runtime: the Node loader’s result', {
  skip: skipNoShared,
}, async () => {
  const read = (f: string) => readFile(join(modelDir, f));
  const model = await openWebModel(
    {
      model: new Blob([await read('model.onnx')]),
      files: {
        'preprocess.json': await read('preprocess.json'),
        'labels.txt': new Blob([await read('labels.txt')]),
      },
    },
    { web: { threads: 1 } },
  );
  const web = Explainer.fromModel(model);
  const node = await loadExplainer(modelDir);
  try {
    assert.match(model.runtime.name, /onnxruntime-web/);
    const image = await decodeImageFile(join(sharedDir, 'images', 'cat.png'));
    const [a, b] = [await web.explain(image), await node.explain(image)];
    assert.deepEqual(
      a.predictions[0]!.top.map((c) => [c.index, c.label]),
      b.predictions[0]!.top.map((c) => [c.index, c.label]),
    );
    let d = 0;
    const [ma, mb] = [a.explanations[0]!.map!, b.explanations[0]!.map!];
    for (let i = 0; i < ma.length; i++) d = Math.max(d, Math.abs(ma[i]! - mb[i]!));
    assert.ok(d <= 1e-4, `max |web − node| = ${d}`);
  } finally {
    await web.release();
    await node.release();
  }
});

test('external data given as a named file runs like the weights inline', async () => {
  const model = await openWebModel(
    { model: tinyCnn({ externalWeights: 'w.bin' }), files: { 'w.bin': tinyCnnConvWeightBytes() } },
    { runtime: nodeRuntime },
  );
  const inline = await openWebModel({ model: tinyCnn() }, { runtime: nodeRuntime });
  const x = float32(new Float32Array(seededValues(3 * 8 * 8, 9)), [1, 3, 8, 8]);
  const [a, b] = [await model.predict(x, 4), await inline.predict(x, 4)];
  assert.deepEqual(a[0]!.top, b[0]!.top);
  assert.ok(a[0]!.top.every((c) => c.score !== 0));
  await assert.rejects(
    openWebModel({ model: tinyCnn({ externalWeights: 'w.bin' }) }, { runtime: nodeRuntime }),
    {
      code: 'file-not-found',
      message: /keeps tensors in 'w.bin', which was not given/,
    },
  );
});

test('dropped files: the one .onnx is the model; none or several is a typed error', () => {
  const f = (name: string) => new File([new Uint8Array(1)], name);
  const s = webModelSource([f('labels.txt'), f('net.onnx'), f('preprocess.json')]);
  assert.equal(s.name, 'net.onnx');
  assert.deepEqual(Object.keys(s.files!).sort(), ['labels.txt', 'preprocess.json']);
  assert.equal(webModelSource([f('a.onnx'), f('model.onnx')]).name, 'model.onnx');
  assert.throws(() => webModelSource([f('labels.txt')]), { code: 'bad-argument', message: /no \.onnx file/ });
  assert.throws(() => webModelSource([f('a.onnx'), f('b.onnx')]), {
    code: 'bad-argument',
    message: /2 \.onnx files/,
  });
});

test('malformed side files and non-ONNX bytes are typed errors', async () => {
  await assert.rejects(
    openWebModel(
      { model: tinyCnn(), files: { 'preprocess.json': new TextEncoder().encode('{"size": [8, 8],}') } },
      { runtime: nodeRuntime },
    ),
    { code: 'bad-preprocess', message: /not valid JSON/ },
  );
  await assert.rejects(openWebModel({ model: new TextEncoder().encode('hello') }, { runtime: nodeRuntime }), {
    name: 'GradsightError',
  });
});
