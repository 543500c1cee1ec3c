// The browser app with nothing from ../shared: an embedded demo model picked in the page explains a
// demo image as Node does; bad input (a file that is not ONNX, a model with an op gradsight cannot
// differentiate, an image that does not decode) shows a clear message and the app keeps working; no
// request leaves the app's origin.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { compileExplainer } from '../../src/compile/index.ts';
import { SPLITS, splitSample } from '../../src/demo/dataset.ts';
import { loadExplainer } from '../../src/explain/load-node.ts';
import { imageCanvas, renderExplanation } from '../../src/render/index.ts';
import { decodeNpy } from '../../src/tensor/npy.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { repoRoot } from '../helpers/shared.ts';
import { seededValues, tinyCnn, tinyCnnConvWeightBytes } from '../helpers/tiny-models.ts';
import {
  ensureApp,
  foreignRequests,
  lastSeq,
  launch,
  maxDiff,
  nextError,
  nextResult,
  openTab,
  serve,
  skipNoChromium,
} from './serve-helpers.ts';

const skip = skipNoChromium;
let browser: Browser | undefined;

before(async () => {
  if (skip) return;
  await ensureApp();
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** A CNN whose pooled features pass through Sin, an op with no gradient rule. */
function sinModel(): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: [1, 3, 8, 8] }],
    outputs: [{ name: 'logits', shape: [1, 3] }],
    initializers: [
      { name: 'conv.weight', dims: [4, 3, 3, 3], values: seededValues(108, 1) },
      { name: 'fc.weight', dims: [3, 4], values: seededValues(12, 3) },
    ],
    nodes: [
      { op: 'Conv', inputs: ['input', 'conv.weight'], outputs: ['conv'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['conv'], outputs: ['features'] },
      { op: 'GlobalAveragePool', inputs: ['features'], outputs: ['pooled'] },
      { op: 'Sin', name: 'the_sin', inputs: ['pooled'], outputs: ['wavy'] },
      { op: 'Flatten', inputs: ['wavy'], outputs: ['flat'] },
      { op: 'Gemm', inputs: ['flat', 'fc.weight'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  });
}

test('a demo model in the page, and bad input shown without breaking the app', {
  skip,
  timeout: 180_000,
}, async () => {
  const server = await serve([]);
  const demoDir = join(repoRoot, 'demo', 'models', 'shapes');
  const node = await loadExplainer(demoDir);
  try {
    const { page, requests, problems } = await openTab(browser!);
    const origin = new URL(server.url).origin;
    await page.goto(`${server.url}?backend=wasm`);
    const sample = splitSample(SPLITS.test, 0).image;
    const png = await sharp(sample.data, { raw: { width: sample.width, height: sample.height, channels: 3 } })
      .png()
      .toBuffer();

    // An embedded demo model, picked from the menu, then an image added with the file picker.
    await page.locator('#demo-models').selectOption('shapes');
    await page.waitForFunction(() =>
      document.querySelector('#model-info')?.textContent?.includes('4 classes'),
    );
    await page
      .locator('#image-files')
      .setInputFiles({ name: 'shape.png', mimeType: 'image/png', buffer: png });
    const demo = await nextResult(page, 0);
    const ref = await node.explain(sample, { method: 'gradcam' });
    assert.equal(demo.target.index, ref.explanations[0]!.target.index);
    assert.ok(maxDiff(demo.map, ref.explanations[0]!.map!) <= 1e-4, 'the demo map is Node’s');
    assert.ok(ref.explanations[0]!.map!.some((v) => v > 0.5));

    // Downloads: the raw map as .npy (the map shown), results.json, the overlay PNG, the compiled explainer.
    const saved = async (selector: string) => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.locator(selector).first().click()]);
      return { name: d.suggestedFilename(), bytes: await readFile((await d.path())!) };
    };
    const npy = await saved('#maps figure button:text("npy")');
    assert.equal(npy.name, 'gradcam.npy');
    const raw = decodeNpy(new Uint8Array(npy.bytes));
    assert.deepEqual(raw.dims, [96, 96]);
    assert.ok(maxDiff(raw.data as Float32Array, ref.explanations[0]!.map!) <= 1e-4);
    const json = JSON.parse((await saved('#download-json')).bytes.toString());
    assert.equal(json.image, 'shape.png');
    assert.equal(json.explanations[0].method, 'gradcam');
    assert.deepEqual(
      json.explanations[0].box,
      renderExplanation(ref.explanations[0]!, imageCanvas({ image: sample }, node.model.preprocess), {
        colormap: 'jet',
        alpha: 0.5,
      }).entry.box,
    );
    const overlayPng = await saved('#maps figure button:text("PNG")');
    const meta = await sharp(overlayPng.bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', sample.width, sample.height]);
    const onnx = await saved('#maps figure button:text(".onnx")');
    assert.equal(onnx.name, 'gradcam.explainer.onnx');
    const m = node.model;
    const compiled = compileExplainer(m.source.bytes, m.model, {
      method: 'gradcam',
      shapes: await m.shapes(),
      output: m.output.name,
      imageInput: m.input.name,
    });
    assert.ok(Buffer.from(compiled.bytes).equals(onnx.bytes), 'the compiled explainer Node compiles');

    // Layers ranked on the image: every candidate gets the share of probability its map keeps.
    await page.locator('#rank-layers').click();
    await page.waitForFunction(() =>
      document.querySelector('#status')?.textContent?.startsWith('layers ranked'),
    );
    const options = await page.locator('#layer option').allInnerTexts();
    assert.ok(options.length >= 2 && options.slice(1).every((o) => /keeps \d+%/.test(o)), options.join('\n'));

    // 1. A file that is not ONNX.
    await page.locator('#model-files').setInputFiles({
      name: 'notes.onnx',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('hello\n'),
    });
    const notOnnx = await nextError(page, demo.seq);
    assert.match(notOnnx.code, /^(not-onnx|model-corrupt)$/);
    assert.match(notOnnx.shown, /notes\.onnx/);
    assert.match((await page.locator('#model-info').textContent()) ?? '', /No model open/);

    // 2. A model with an op that has no gradient rule: it opens, and explaining names the op.
    await page.locator('#model-files').setInputFiles({
      name: 'sin.onnx',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(sinModel()),
    });
    const unsupported = await nextError(page, notOnnx.seq);
    assert.equal(unsupported.code, 'unsupported-op');
    assert.match(unsupported.shown, /Sin/);

    // 3. An image that does not decode (a PNG cut short), on the demo model again.
    const before3 = await lastSeq(page);
    await page.locator('#demo-models').selectOption('shapes');
    const reopened = await nextResult(page, before3);
    assert.ok(maxDiff(reopened.map, ref.explanations[0]!.map!) <= 1e-4);
    await page
      .locator('#image-files')
      .setInputFiles({ name: 'broken.png', mimeType: 'image/png', buffer: png.subarray(0, 80) });
    const broken = await nextError(page, reopened.seq);
    assert.equal(broken.code, 'bad-image');
    assert.match(broken.shown, /broken\.png/);

    // The app keeps working: the first image explains again, and the message goes away.
    await page.locator('#images li').first().click();
    const again = await nextResult(page, broken.seq);
    assert.ok(maxDiff(again.map, ref.explanations[0]!.map!) <= 1e-4);
    assert.equal(await page.locator('#message').isVisible(), false);

    assert.deepEqual(foreignRequests(requests, origin), [], 'every request is to the app’s own origin');
    assert.deepEqual(problems, [], 'no uncaught error in the page');
  } finally {
    await node.release();
    await server.stop();
  }
});

test('a model with external data, served from a folder, opens by URL and explains as in Node', {
  skip,
  timeout: 120_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-app-external-'));
  await mkdir(join(dir, 'net'));
  await writeFile(join(dir, 'net', 'model.onnx'), tinyCnn({ externalWeights: 'weights.bin' }));
  await writeFile(join(dir, 'net', 'weights.bin'), tinyCnnConvWeightBytes());
  await writeFile(join(dir, 'net', 'labels.txt'), 'red\ngreen\nblue\n');
  const sample = splitSample(SPLITS.test, 1).image;
  await sharp(sample.data, { raw: { width: sample.width, height: sample.height, channels: 3 } })
    .png()
    .toFile(join(dir, 'shape.png'));
  const server = await serve([join(dir, 'net'), join(dir, 'shape.png')]);
  const node = await loadExplainer(join(dir, 'net'));
  try {
    const { page, requests, problems } = await openTab(browser!);
    await page.goto(`${server.url}&method=gradcam,layercam&backend=wasm`);
    const r = await nextResult(page);
    const ref = await node.explain(sample, { method: ['gradcam', 'layercam'] });
    assert.ok(
      requests.some((u) => u.endsWith('/model/weights.bin')),
      'the weights were fetched beside the model',
    );
    for (const [i, e] of ref.explanations.entries()) {
      assert.equal(r.maps[i]!.target.label, e.target.label);
      assert.ok(maxDiff(r.maps[i]!.map, e.map!) <= 1e-4, `${e.method}: the page's map is Node's`);
    }
    assert.deepEqual(foreignRequests(requests, new URL(server.url).origin), []);
    // The folder has no preprocess.json: the page asked for it beside the model (optional) and got a 404.
    assert.ok(requests.some((u) => u.endsWith('/model/preprocess.json')));
    assert.deepEqual(
      problems.filter((p) => !/status of 404/.test(p)),
      [],
    );
  } finally {
    await node.release();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the demo VQA model and captioner: a question and a greedy caption, as in Node', {
  skip:
    skip ||
    (!['vqa', 'captioner'].every((m) => existsSync(join(repoRoot, 'demo/models', m, 'model.onnx'))) &&
      'the demo VQA model and captioner are not built (scripts/train-language-models.py)'),
  timeout: 120_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-app-language-'));
  const sample = splitSample(SPLITS.test, 2).image;
  await sharp(sample.data, { raw: { width: sample.width, height: sample.height, channels: 3 } })
    .png()
    .toFile(join(dir, 'scene.png'));
  const question = 'what colour is the square?';
  try {
    for (const [name, extra, options] of [
      ['vqa', `&question=${encodeURIComponent(question)}`, { question }],
      ['captioner', '', {}],
    ] as const) {
      const server = await serve([join(repoRoot, 'demo/models', name), join(dir, 'scene.png')]);
      const node = await loadExplainer(join(repoRoot, 'demo/models', name));
      try {
        const { page, problems } = await openTab(browser!);
        await page.goto(`${server.url}&backend=wasm${extra}`);
        const r = await nextResult(page);
        const ref = await node.explain(sample, options);
        assert.equal(r.maps.length, ref.explanations.length, `${name}: one map per word or answer`);
        for (const [i, e] of ref.explanations.entries()) {
          assert.equal(r.maps[i]!.target.label, e.target.label, `${name}: target ${i}`);
          assert.ok(maxDiff(r.maps[i]!.map, e.map!) <= 1e-4, `${name}: map ${i} is Node's`);
        }
        // labels.txt is optional beside a model URL (these take vocab.txt): its 404 is expected.
        assert.deepEqual(
          problems.filter((p) => !/status of 404/.test(p)),
          [],
        );
      } finally {
        await node.release();
        await server.stop();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
