// In-graph maps (compileWithViews' `maps`, what explain()'s one run uses): each method's camGraph and
// cam-graph.ts's fusion in ONNX Runtime equal the TypeScript pipeline (the method's own compute on
// the run's activations and gradients, then methods/pipeline.ts fuseLayers), on a model with CAM
// layers at two resolutions upsampled by non-integer factors, with k seed rows per image
// (repeatRows) and a batch of two images.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fuseLayers } from '../../src/methods/pipeline.ts';
import { methodById } from '../../src/methods/table.ts';
import type { MethodContext, MethodId } from '../../src/methods/types.ts';
import { GradientRunner } from '../../src/model/gradient-runner.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { repeatRows } from '../../src/tensor/rows.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { seededValues, tinyStridedCnn } from '../helpers/tiny-models.ts';

const METHODS: MethodId[] = ['gradcam', 'hirescam', 'gradcam-elementwise', 'xgradcam', 'layercam'];
const LAYERS = ['features1', 'features2'];

describe('in-graph maps', () => {
  test('equal the TypeScript pipeline for every in-graph CAM method (2 images × 3 rows, 2 layers)', async () => {
    const bytes = tinyStridedCnn();
    const model = await ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });
    const maps = METHODS.map((id) => ({ key: id, camGraph: methodById(id)!.camGraph!, layers: LAYERS }));
    const runner = await GradientRunner.create(model, { wrt: LAYERS, repeatRows: true, maps });
    try {
      const n = 2;
      const k = 3;
      const x: Float32Tensor = {
        dtype: 'float32',
        dims: [n, 3, 14, 14],
        data: Float32Array.from(seededValues(n * 3 * 14 * 14, 5)),
      };
      // Rows: every class of each image, one a mixed seed.
      const seed = new Float32Array(n * k * 3);
      for (let r = 0; r < n * k; r++) seed[r * 3 + (r % 3)] = 1;
      seed[5 * 3 + 0] = -0.5;
      const r = await runner.run(x, { dtype: 'float32', dims: [n * k, 3], data: seed });
      for (const id of METHODS) {
        // The TypeScript pipeline on the same run's tensors (values repeated per row, as the context does).
        const ctx = {
          layers: LAYERS,
          rows: n * k,
          activations: async (l: string) => repeatRows(r.values[l]!, k),
          gradients: async (l: string) => r.grads[l]!,
        } as unknown as MethodContext;
        const ts = await methodById(id)!.compute(ctx);
        assert.equal(ts.kind, 'cam');
        if (ts.kind !== 'cam') continue;
        const want = fuseLayers(ts.perLayer, 14, 14, 'per-image');
        const got = r.maps[id]!.final;
        assert.deepEqual(got.dims, [n * k, 14, 14]);
        let worst = 0;
        for (let i = 0; i < want.data.length; i++)
          worst = Math.max(worst, Math.abs(got.data[i]! - want.data[i]!));
        assert.ok(worst <= 2e-6, `${id}: in-graph vs TypeScript max |Δ| ${worst}`);
        // The maps are not trivially equal: they span [0, 1] and differ between rows.
        assert.ok(Math.max(...want.data) > 0.99, `${id}: map max`);
        for (const layer of LAYERS) {
          const raw: Float32Tensor = r.maps[id]!.perLayer.get(layer)!;
          const tsRaw: Float32Tensor = ts.perLayer.get(layer)!;
          assert.deepEqual(raw.dims, tsRaw.dims);
          let d = 0;
          let scale = 0;
          for (let i = 0; i < raw.data.length; i++) {
            d = Math.max(d, Math.abs(raw.data[i]! - tsRaw.data[i]!));
            scale = Math.max(scale, Math.abs(tsRaw.data[i]!));
          }
          assert.ok(d <= 1e-5 * scale, `${id} ${layer}: raw CAM |Δ| ${d} (scale ${scale})`);
        }
      }
    } finally {
      await runner.release();
      await model.release();
    }
  });
});
