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
import { buildModel, type InitializerSpec, type NodeSpec } from '../helpers/onnx-builder.ts';
import { seededValues } from '../helpers/tiny-models.ts';

const open = (bytes: Uint8Array) => ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });

const common: InitializerSpec[] = [
  { name: 'conv.weight', dims: [4, 3, 3, 3], values: seededValues(108, 1) },
  { name: 'conv.bias', dims: [4], values: seededValues(4, 2) },
  { name: 'fc.weight', dims: [3, 4], values: seededValues(12, 3) },
  { name: 'fc.bias', dims: [3], values: [0.1, -0.2, 0.3] },
];
const scale = [1.5, -0.5, 2, 0.75];
const conv: NodeSpec = {
  op: 'Conv',
  inputs: ['input', 'conv.weight', 'conv.bias'],
  outputs: ['conv'],
  attrs: { pads: [1, 1, 1, 1] },
};

/** Conv → (NHWC) per-channel scale → Relu → mean over H, W → Gemm. */
function channelsLast(): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['batch', 3, 8, 8] }],
    outputs: [{ name: 'logits', shape: ['batch', 3] }],
    initializers: [...common, { name: 'scale', dims: [4], values: scale }],
    nodes: [
      conv,
      { op: 'Transpose', inputs: ['conv'], outputs: ['hwc'], attrs: { perm: [0, 2, 3, 1] } },
      { op: 'Mul', inputs: ['hwc', 'scale'], outputs: ['scaled'] },
      { op: 'Relu', inputs: ['scaled'], outputs: ['features'] },
      { op: 'ReduceMean', inputs: ['features'], outputs: ['pooled'], attrs: { axes: [1, 2], keepdims: 0 } },
      { op: 'Gemm', inputs: ['pooled', 'fc.weight', 'fc.bias'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  });
}

/** The same network in NCHW. */
function channelsFirst(): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['batch', 3, 8, 8] }],
    outputs: [{ name: 'logits', shape: ['batch', 3] }],
    initializers: [...common, { name: 'scale', dims: [4, 1, 1], values: scale }],
    nodes: [
      conv,
      { op: 'Mul', inputs: ['conv', 'scale'], outputs: ['scaled'] },
      { op: 'Relu', inputs: ['scaled'], outputs: ['features'] },
      { op: 'GlobalAveragePool', inputs: ['features'], outputs: ['gap'] },
      { op: 'Flatten', inputs: ['gap'], outputs: ['pooled'] },
      { op: 'Gemm', inputs: ['pooled', 'fc.weight', 'fc.bias'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  });
}

/**
 * A tiny ViT-like model (batch 1): a 2×2/2 Conv patch embedding [1, 6, 4, 4] flattened to 16 tokens,
 * a class token in front (17 × 6), a token-wise Linear + Relu, then the mean of all 17 tokens → Gemm.
 */
function tokenModel(): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: [1, 3, 8, 8] }],
    outputs: [{ name: 'logits', shape: [1, 3] }],
    initializers: [
      { name: 'patch.weight', dims: [6, 3, 2, 2], values: seededValues(72, 4) },
      { name: 'patch.bias', dims: [6], values: seededValues(6, 5) },
      { name: 'flat', dtype: 'int64', dims: [3], values: [1, 6, 16] },
      { name: 'cls', dims: [1, 1, 6], values: seededValues(6, 6) },
      { name: 'lin', dims: [6, 6], values: seededValues(36, 7) },
      { name: 'head.weight', dims: [3, 6], values: seededValues(18, 8) },
      { name: 'head.bias', dims: [3], values: [0, 0.1, 0.2] },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['input', 'patch.weight', 'patch.bias'],
        outputs: ['patches'],
        attrs: { strides: [2, 2], kernel_shape: [2, 2] },
      },
      { op: 'Reshape', inputs: ['patches', 'flat'], outputs: ['flat_patches'] },
      { op: 'Transpose', inputs: ['flat_patches'], outputs: ['tokens0'], attrs: { perm: [0, 2, 1] } },
      { op: 'Concat', inputs: ['cls', 'tokens0'], outputs: ['tokens'], attrs: { axis: 1 } },
      { op: 'MatMul', inputs: ['tokens', 'lin'], outputs: ['mixed'] },
      { op: 'Relu', inputs: ['mixed'], outputs: ['features'] },
      { op: 'ReduceMean', inputs: ['features'], outputs: ['pooled'], attrs: { axes: [1], keepdims: 0 } },
      {
        op: 'Gemm',
        inputs: ['pooled', 'head.weight', 'head.bias'],
        outputs: ['logits'],
        attrs: { transB: 1 },
      },
    ],
  });
}

/** A [1, 7, 7, 7] map that no producer explains (elementwise on the input), and a 3-D reshape of it. */
function ambiguousModel(): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: [1, 7, 7, 7] }],
    outputs: [{ name: 'logits', shape: [1, 3] }],
    initializers: [
      { name: 'fc.weight', dims: [3, 7], values: seededValues(21, 9) },
      { name: 'fc.bias', dims: [3], values: [0, 0, 0] },
      { name: 'shape3', dtype: 'int64', dims: [3], values: [1, 10, -1] },
    ],
    nodes: [
      { op: 'Relu', inputs: ['input'], outputs: ['features'] },
      { op: 'Reshape', inputs: ['features', 'shape3'], outputs: ['tokens'] },
      { op: 'ReduceMean', inputs: ['tokens'], outputs: ['t'], attrs: { axes: [1], keepdims: 0 } },
      { op: 'ReduceMean', inputs: ['features'], outputs: ['pooled'], attrs: { axes: [2, 3], keepdims: 0 } },
      { op: 'Gemm', inputs: ['pooled', 'fc.weight', 'fc.bias'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  });
}

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
