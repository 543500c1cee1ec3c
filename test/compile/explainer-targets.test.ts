// Compiled explainers use the same target contract as explain: a head (probability, log-probability)
// appended before the backward pass gives the same map as `explain -t prob:c`, and a model with an
// extra input (token ids) compiles with that input kept, its map equal to explain's with the feed.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileExplainer } from '../../src/compile/index.ts';
import { Explainer } from '../../src/explain/explainer.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { logSoftmaxHead, softmaxHead } from '../../src/targets/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { seededValues, tinyStridedCnn, tinyTwoInputModel } from '../helpers/tiny-models.ts';

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

async function compare(
  bytes: Uint8Array,
  x: Tensor,
  opts: { head?: typeof softmaxHead; target: (c: number) => string; feeds?: Record<string, Tensor> },
) {
  const model = await ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });
  const ex = Explainer.fromModel(model);
  try {
    const compiled = compileExplainer(bytes, model.model, {
      method: 'gradcam',
      shapes: await model.shapes(),
      ...(opts.head ? { head: opts.head } : {}),
    });
    assert.deepEqual(
      compiled.inputs.map((i) => i.name),
      [model.input.name, ...model.extraInputs.map((i) => i.name), 'class_index'],
    );
    const session = await nodeRuntime.createSession(compiled.bytes);
    try {
      const maps: Float32Array[] = [];
      for (const c of [0, 1, 2]) {
        const out = await session.run({
          [model.input.name]: x,
          ...opts.feeds,
          class_index: { dtype: 'int64', dims: [1], data: BigInt64Array.of(BigInt(c)) },
        });
        const got = out.map!.data as Float32Array;
        const r = await ex.explain(x as never, {
          method: 'gradcam',
          target: opts.target(c),
          ...(opts.feeds ? { feeds: opts.feeds } : {}),
        });
        const want = r.explanations[0]!.map!;
        assert.ok(maxDiff(got, want) < 1e-5, `class ${c}: ${maxDiff(got, want)}`);
        maps.push(want);
      }
      return maps;
    } finally {
      await session.release();
    }
  } finally {
    await ex.release();
  }
}

describe('compiled explainers and the target contract', () => {
  const x = {
    dtype: 'float32' as const,
    dims: [1, 3, 14, 14],
    data: Float32Array.from(seededValues(588, 31)),
  };

  test('--score prob: the softmax head in-graph equals explain -t prob:c, and differs from the logit map', async () => {
    const bytes = tinyStridedCnn();
    const prob = await compare(bytes, x, { head: softmaxHead, target: (c) => `prob:${c}` });
    const logit = await compare(bytes, x, { target: (c) => String(c) });
    // ∂p_c/∂z = p_c(e_c − p) mixes the other classes in: the maps are not the logit maps.
    assert.ok(prob.some((m, c) => maxDiff(m, logit[c]!) > 1e-3));
  });

  test('--score logprob equals explain -t logprob:c', async () => {
    await compare(tinyStridedCnn(), x, { head: logSoftmaxHead, target: (c) => `logprob:${c}` });
  });

  test('a two-input model keeps its token input; the map equals explain with the feed', async () => {
    const image = {
      dtype: 'float32' as const,
      dims: [1, 3, 8, 8],
      data: Float32Array.from(seededValues(192, 7)),
    };
    const tokens: Tensor = { dtype: 'int64', dims: [1, 3], data: BigInt64Array.of(1n, 4n, 7n) };
    await compare(tinyTwoInputModel(), image, { target: (c) => String(c), feeds: { tokens } });
  });
});
