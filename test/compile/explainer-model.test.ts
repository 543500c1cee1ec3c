// compileExplainer on its own: the file holds only standard ai.onnx ops and the forward graph as it
// was, its inputs and outputs are described, the in-graph resize is OpenCV's INTER_LINEAR (our
// resizeBilinearFloat, pinned to cv2 by test/image/upsample-reference.test.ts), and misuse is typed.
// Numerical parity with the library's explain() on ONNX Runtime: ort-parity.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Emitter } from '../../src/autodiff/emitter.ts';
import { gradientPatch } from '../../src/autodiff/index.ts';
import { resizeLinear } from '../../src/compile/cam-graph.ts';
import { COMPILABLE_METHODS, compileExplainer } from '../../src/compile/index.ts';
import { isGradsightError } from '../../src/errors.ts';
import { resizeBilinearFloat } from '../../src/image/upsample.ts';
import { methodById } from '../../src/methods/table.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { appendGraphPatch, decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { modelPath, skipNoShared } from '../helpers/shared.ts';
import { seededValues, tinyStridedCnn } from '../helpers/tiny-models.ts';

async function tinyModel(): Promise<ImageModel> {
  const bytes = tinyStridedCnn();
  return ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });
}

function assertStandardOps(bytes: Uint8Array, forwardNodes: number): void {
  const m = decodeModel(bytes);
  assert.deepEqual([...m.opsets.keys()], [''], 'opset imports unchanged: ai.onnx only');
  const foreign = m.graph.nodes.filter((n) => n.domain !== '' && n.domain !== 'ai.onnx');
  assert.deepEqual(
    foreign.map((n) => `${n.domain}.${n.opType}`),
    [],
  );
  assert.ok(m.graph.nodes.length > forwardNodes, 'the explainer graph was appended');
}

describe('compiled file', () => {
  test('every method: only ai.onnx ops, forward graph kept, inputs and outputs described', async () => {
    const model = await tinyModel();
    const shapes = await model.shapes();
    const n = model.model.graph.nodes.length;
    for (const method of COMPILABLE_METHODS) {
      for (const profile of ['cpu', 'web'] as const) {
        const c = compileExplainer(model.source.bytes, model.model, { method, shapes, profile });
        assertStandardOps(c.bytes, n);
        const decoded = decodeModel(c.bytes);
        assert.deepEqual(
          decoded.graph.nodes.slice(0, n).map((x) => x.name),
          model.model.graph.nodes.map((x) => x.name),
        );
        assert.deepEqual(
          decoded.graph.inputs.map((i) => [i.name, i.dtype, i.shape]),
          [
            ['input', 'float32', ['batch', 3, 14, 14]],
            ['class_index', 'int64', ['batch']],
          ],
        );
        assert.deepEqual(
          c.inputs.map((i) => i.name),
          ['input', 'class_index'],
        );
        // A CAM method outputs the map; a pixel method the pixels, and the map it multiplies by.
        const spec = methodById(method)!;
        const want =
          spec.output === 'cam'
            ? ['logits', 'map']
            : spec.needs.finalMapOf
              ? ['logits', 'map', 'pixels']
              : ['logits', 'pixels'];
        assert.deepEqual(
          c.outputs.map((o) => o.name),
          want,
        );
        for (const name of want)
          assert.ok(
            decoded.graph.outputs.some((o) => o.name === name),
            name,
          );
        assert.deepEqual(c.outputs.find((o) => o.name === 'map')?.shape ?? ['batch', 14, 14], [
          'batch',
          14,
          14,
        ]);
        assert.deepEqual(c.layers, spec.output === 'pixels' && !spec.needs.finalMapOf ? [] : ['features2']);
      }
    }
    await model.release();
  });

  test('seed input: a float [N, K] input instead of class_index', async () => {
    const model = await tinyModel();
    const c = compileExplainer(model.source.bytes, model.model, {
      method: 'gradcam',
      shapes: await model.shapes(),
      seedInput: 'seed',
    });
    assert.deepEqual(
      c.inputs.map((i) => [i.name, i.dtype, i.shape]),
      [
        ['input', 'float32', ['batch', 3, 14, 14]],
        ['seed', 'float32', ['batch', 3]],
      ],
    );
    await model.release();
  });

  test('MobileNetV2, every method and profile: only ai.onnx ops', { skip: skipNoShared }, async () => {
    const model = await openImageModel(modelPath('mobilenet_v2_1.0_224_quant'));
    const shapes = await model.shapes();
    for (const method of COMPILABLE_METHODS) {
      for (const profile of ['cpu', 'web'] as const) {
        const c = compileExplainer(model.source.bytes, model.model, { method, shapes, profile });
        assertStandardOps(c.bytes, model.model.graph.nodes.length);
      }
    }
    await model.release();
  });
});

describe('in-graph resize', () => {
  // [h, w] → [H, W], and the opset (11–12 take roi and scales as empty tensors).
  const cases: [number, number, number, number, number][] = [
    [7, 7, 224, 224, 13],
    [4, 4, 14, 14, 13],
    [3, 5, 10, 17, 11],
    [14, 14, 224, 224, 18],
  ];
  for (const [h, w, H, W, opset] of cases) {
    test(`Resize linear half_pixel ${h}x${w} → ${H}x${W} (opset ${opset}) equals OpenCV INTER_LINEAR`, async () => {
      const base = buildModel({
        opset,
        inputs: [{ name: 'x', shape: ['n', 1, h, w] }],
        outputs: [{ name: 'x0', shape: ['n', 1, h, w] }],
        nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['x0'] }],
      });
      const e = new Emitter(opset, 'test');
      const y = resizeLinear(e, 'x0', H, W);
      const bytes = appendGraphPatch(base, {
        node: e.nodes,
        initializer: e.initializers,
        output: [{ name: y }],
      });
      const session = await nodeRuntime.createSession(bytes);
      const data = Float32Array.from(seededValues(2 * h * w, 5), (v) => v * 3);
      const out = await session.run({ x: { dtype: 'float32', dims: [2, 1, h, w], data } }, [y]);
      await session.release();
      assert.deepEqual(out[y]!.dims, [2, 1, H, W]);
      let diff = 0;
      for (let r = 0; r < 2; r++) {
        const want = resizeBilinearFloat(
          { width: w, height: h, data: data.subarray(r * h * w, (r + 1) * h * w) },
          W,
          H,
        );
        const got = (out[y]!.data as Float32Array).subarray(r * H * W, (r + 1) * H * W);
        for (let i = 0; i < H * W; i++) diff = Math.max(diff, Math.abs(got[i]! - want.data[i]!));
      }
      // Values in [−3, 3]: a few float32 ulps, from ORT's float32 scale (out/in) vs OpenCV's double.
      assert.ok(diff < 2e-6, `max abs diff ${diff}`);
    });
  }
});

describe('errors', () => {
  test('unknown method: bad-argument listing the compilable ones', async () => {
    const model = await tinyModel();
    const shapes = await model.shapes();
    assert.throws(
      () => compileExplainer(model.source.bytes, model.model, { method: 'gradkam', shapes }),
      (e) => isGradsightError(e, 'bad-argument') && e.hint!.includes(COMPILABLE_METHODS.join(', ')),
    );
    await model.release();
  });

  test('a method that cannot be compiled: method-not-applicable', async () => {
    const model = await tinyModel();
    const shapes = await model.shapes();
    for (const method of ['scorecam', 'eigencam', 'gradcam++']) {
      assert.throws(
        () => compileExplainer(model.source.bytes, model.model, { method, shapes }),
        (e) => isGradsightError(e, 'method-not-applicable') && e.message.includes(method),
      );
    }
    await model.release();
  });

  test('unknown layer: layer-not-found with the closest names', async () => {
    const model = await tinyModel();
    const shapes = await model.shapes();
    assert.throws(
      () =>
        compileExplainer(model.source.bytes, model.model, {
          method: 'gradcam',
          shapes,
          layers: ['feature2'],
        }),
      (e) => isGradsightError(e, 'layer-not-found') && e.hint!.includes('features2'),
    );
    await model.release();
  });

  test('class_index on scores that are not [N, K]: bad-argument pointing to the seed input', async () => {
    const model = await tinyModel();
    const shapes = await model.shapes();
    assert.throws(
      () =>
        compileExplainer(model.source.bytes, model.model, {
          method: 'gradcam',
          shapes,
          output: 'conv2',
          layers: ['features1'],
        }),
      (e) => isGradsightError(e, 'bad-argument') && e.hint!.includes('seed'),
    );
    await model.release();
  });
});

describe('gradientPatch', () => {
  test('prefix names every emitted tensor; an in-graph seed adds no input', async () => {
    const model = await tinyModel();
    const p = gradientPatch(model.model, {
      wrt: ['features1'],
      shapes: await model.shapes(),
      prefix: 'mine',
      seed: 'my_seed',
    });
    assert.deepEqual(p.patch.input, []);
    assert.equal(p.seed.name, 'my_seed');
    for (const node of p.patch.node ?? []) {
      for (const o of node.output ?? []) assert.ok(o.startsWith('mine/'), o);
    }
    for (const init of p.patch.initializer ?? []) assert.ok(init.name!.startsWith('mine/'), init.name);
    assert.ok((p.patch.node ?? []).some((n) => n.input?.includes('my_seed')));
    assert.equal(p.outputs[0]!.grad, 'mine/grad/features1');
    await model.release();
  });
});
