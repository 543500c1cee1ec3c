// Layer views on small hand-made models. A channels-last model and its NCHW twin (same weights) must
// give the same maps for every method, Ablation-CAM included (its tail model inverts the view); a
// token model (a Conv patch embedding, a class token) must give the Grad-CAM map computed by hand
// from its raw token activations and gradients; ambiguous layouts are typed errors naming the flag.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { Explainer } from '../../src/explain/explainer.ts';
import { fuseLayers } from '../../src/methods/pipeline.ts';
import type { MethodId } from '../../src/methods/types.ts';
import { GradientRunner } from '../../src/model/gradient-runner.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { parseLayerLayout, viewFromLayout } from '../../src/model/layer-view.ts';
import { candidateLayers, defaultLayer, resolveLayers } from '../../src/model/layers.ts';
import { decodeModel, inferShapes } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { seededValues } from '../helpers/tiny-models.ts';
import { ambiguousModel, channelsFirst, channelsLast, tokenModel } from './view-models.ts';

const open = (bytes: Uint8Array) => ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });

const image = (n: number, seed: number): Float32Tensor => ({
  dtype: 'float32',
  dims: [n, 3, 8, 8],
  data: Float32Array.from(seededValues(n * 192, seed)),
});

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const METHODS: MethodId[] = [
  'gradcam',
  'hirescam',
  'gradcam++',
  'xgradcam',
  'layercam',
  'eigencam',
  'scorecam',
  'ablationcam',
];

describe('channels-last view', () => {
  test('the layer is inferred NHWC and is the default', async () => {
    const m = await open(channelsLast());
    try {
      const layer = await m.defaultLayer();
      assert.equal(layer.name, 'features');
      assert.deepEqual(layer.view, { kind: 'nhwc' });
      const all = await m.layers();
      assert.deepEqual(all.find((l) => l.name === 'conv')?.view, { kind: 'nchw' });
    } finally {
      await m.release();
    }
  });

  test('every method gives the map of the NCHW twin, for two images and classes', async () => {
    const last = Explainer.fromModel(await open(channelsLast()));
    const first = Explainer.fromModel(await open(channelsFirst()));
    try {
      const x = image(2, 11);
      for (const method of METHODS) {
        const a = await last.explain(x, { method, target: 'top:2' });
        const b = await first.explain(x, { method, target: 'top:2' });
        assert.equal(a.explanations.length, 4);
        a.explanations.forEach((e, i) => {
          const err = maxAbs(e.map!, b.explanations[i]!.map!);
          assert.ok(err < 1e-5, `${method} row ${i}: ${err}`);
        });
        // Not trivially equal: the maps are not constant.
        const map = a.explanations[0]!.map!;
        assert.ok(Math.max(...map) - Math.min(...map) > 0.5, `${method}: a flat map`);
      }
    } finally {
      await last.release();
      await first.release();
    }
  });

  test('reading the channels-last map as NCHW (the old behaviour) gives another map', async () => {
    const last = Explainer.fromModel(await open(channelsLast()));
    const first = Explainer.fromModel(await open(channelsFirst()));
    try {
      const x = image(1, 12);
      const wrong = await last.explain(x, { method: 'gradcam', layerLayout: 'nchw' });
      const right = await first.explain(x, { method: 'gradcam' });
      assert.ok(maxAbs(wrong.explanations[0]!.map!, right.explanations[0]!.map!) > 0.1);
    } finally {
      await last.release();
      await first.release();
    }
  });
});

describe('token view', () => {
  test('the patch grid is inferred: 1 leading token, 4×4', async () => {
    const m = await open(tokenModel());
    try {
      const layer = await m.defaultLayer();
      assert.equal(layer.name, 'features');
      assert.deepEqual(layer.view, { kind: 'tokens', skip: 1, h: 4, w: 4 });
      // The flattened patches before the class token: 16 tokens, none skipped.
      assert.deepEqual((await m.layers()).find((l) => l.name === 'tokens0')?.view, {
        kind: 'tokens',
        skip: 0,
        h: 4,
        w: 4,
      });
      const tokens = (await m.layers()).filter((l) => l.view?.kind === 'tokens').map((l) => l.name);
      assert.deepEqual(tokens, ['tokens0', 'tokens', 'mixed', 'features']);
    } finally {
      await m.release();
    }
  });

  test('Grad-CAM through the view equals the map computed by hand from the raw tokens', async () => {
    const m = await open(tokenModel());
    const ex = Explainer.fromModel(m);
    try {
      const x = image(1, 13);
      for (const c of [0, 2]) {
        const r = await ex.explain(x, { method: 'gradcam', target: String(c) });
        // By hand: raw [1, 17, 6] value and gradient, no view.
        const raw = await GradientRunner.create(m, { wrt: ['features'], beforeSoftmax: false });
        const seed = new Float32Array(3);
        seed[c] = 1;
        const out = await raw.run(x, { dtype: 'float32', dims: [1, 3], data: seed });
        await raw.release();
        const a = out.values.features!.data;
        const g = out.grads.features!.data;
        assert.deepEqual(out.values.features!.dims, [1, 17, 6]);
        const alpha = Array.from({ length: 6 }, (_, ch) => {
          let s = 0;
          for (let p = 0; p < 16; p++) s += g[(1 + p) * 6 + ch]!;
          return s / 16;
        });
        const cam = new Float32Array(16);
        for (let p = 0; p < 16; p++) {
          let s = 0;
          for (let ch = 0; ch < 6; ch++) s += alpha[ch]! * a[(1 + p) * 6 + ch]!;
          cam[p] = s;
        }
        const byHand = fuseLayers(
          new Map([['features', { dtype: 'float32' as const, dims: [1, 4, 4], data: cam }]]),
          8,
          8,
          'per-image',
        ).data;
        const err = maxAbs(r.explanations[0]!.map!, byHand);
        assert.ok(err < 1e-5, `class ${c}: ${err}`);
        assert.ok(Math.max(...byHand) - Math.min(...byHand) > 0.5, 'a flat map proves nothing');
      }
    } finally {
      await ex.release();
    }
  });

  test('Ablation-CAM cannot re-insert the class token: a typed error naming method and layer', async () => {
    const ex = Explainer.fromModel(await open(tokenModel()));
    try {
      await assert.rejects(
        ex.explain(image(1, 14), { method: 'ablationcam' }),
        (e: unknown) =>
          isGradsightError(e) &&
          e.code === 'method-not-applicable' &&
          e.message.includes('Ablation-CAM') &&
          e.message.includes('features'),
      );
    } finally {
      await ex.release();
    }
  });
});

describe('ambiguous layouts', () => {
  test('[1, 7, 7, 7] with no evidence: layout-ambiguous naming --layer-layout; a stated layout works', async () => {
    {
      const model = decodeModel(ambiguousModel());
      const g = model.graph;
      const shapes = inferShapes(model, {});
      const listed = candidateLayers(g, shapes).find((l) => l.name === 'features');
      assert.equal(listed?.view, undefined);
      assert.throws(
        () => defaultLayer(g, shapes),
        (e: unknown) =>
          isGradsightError(e) && e.code === 'layout-ambiguous' && e.hint!.includes('--layer-layout'),
      );
      assert.deepEqual(defaultLayer(g, shapes, undefined, parseLayerLayout('nhwc')).view, { kind: 'nhwc' });
    }
  });

  test('a 3-D tensor matching no patch grid: layout-ambiguous naming tokens:SKIP:HxW', async () => {
    {
      const model = decodeModel(ambiguousModel());
      const g = model.graph;
      const shapes = inferShapes(model, {});
      assert.throws(
        () => resolveLayers(g, shapes, ['tokens']),
        (e: unknown) =>
          isGradsightError(e) && e.code === 'layout-ambiguous' && e.hint!.includes('tokens:SKIP:HxW'),
      );
      const [l] = resolveLayers(g, shapes, ['tokens'], parseLayerLayout('tokens:1:3x3'));
      assert.deepEqual(l!.view, { kind: 'tokens', skip: 1, h: 3, w: 3 });
    }
  });

  test('stated layouts are checked against the shape', () => {
    assert.throws(
      () => parseLayerLayout('hwc'),
      (e: unknown) => isGradsightError(e) && e.code === 'bad-argument',
    );
    assert.deepEqual(parseLayerLayout('tokens:2:4x5'), { kind: 'tokens', skip: 2, h: 4, w: 5 });
    const bad = (f: () => unknown) =>
      assert.throws(f, (e: unknown) => isGradsightError(e) && e.code === 'layout-mismatch');
    bad(() => viewFromLayout('x', [1, 17, 6], { kind: 'tokens', skip: 2, h: 4, w: 4 }));
    bad(() => viewFromLayout('x', [1, 17, 6], { kind: 'nhwc' }));
    bad(() => viewFromLayout('x', [1, 4, 8, 8], { kind: 'tokens' }));
    bad(() => viewFromLayout('x', [1, 19, 6], { kind: 'tokens', skip: 1 }));
    assert.deepEqual(viewFromLayout('x', [1, 17, 6], { kind: 'tokens', skip: 1 }), {
      kind: 'tokens',
      skip: 1,
      h: 4,
      w: 4,
    });
  });
});
