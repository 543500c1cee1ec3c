// Compiled explainers read non-NCHW layers through the same views as explain: the in-graph map of a
// channels-last layer and of a token layer equals the map `explain` computes (which the layer-view
// tests check against an NCHW twin and a hand computation).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileExplainer } from '../../src/compile/index.ts';
import { Explainer } from '../../src/explain/explainer.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { seededValues } from '../helpers/tiny-models.ts';
import { channelsLast, tokenModel } from '../model/view-models.ts';

describe('compiled explainer with layer views', () => {
  for (const [name, build] of [
    ['channels-last', channelsLast],
    ['tokens', tokenModel],
  ] as const) {
    for (const method of ['gradcam', 'hirescam'] as const) {
      test(`${name}: ${method} equals explain`, async () => {
        const bytes = build();
        const model = await ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });
        const ex = Explainer.fromModel(model);
        try {
          const x = {
            dtype: 'float32' as const,
            dims: [1, 3, 8, 8],
            data: Float32Array.from(seededValues(192, 21)),
          };
          const compiled = compileExplainer(bytes, model.model, { method, shapes: await model.shapes() });
          const session = await nodeRuntime.createSession(compiled.bytes);
          try {
            for (const c of [0, 1, 2]) {
              const out = await session.run({
                input: x,
                class_index: { dtype: 'int64', dims: [1], data: BigInt64Array.of(BigInt(c)) },
              });
              const got = out.map!.data as Float32Array;
              const want = (await ex.explain(x, { method, target: String(c) })).explanations[0]!.map!;
              let err = 0;
              for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
              assert.ok(err < 1e-5, `class ${c}: ${err}`);
              assert.ok(Math.max(...want) - Math.min(...want) > 0.5, 'a flat map proves nothing');
            }
          } finally {
            await session.release();
          }
        } finally {
          await ex.release();
        }
      });
    }
  }
});
