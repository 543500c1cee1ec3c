// Parity with pytorch-grad-cam over every `cam` entry of ../shared/reference/index.json (and the
// guided-backprop, guided-gradcam and guided-gradcam-display entries): same input.npy, layers, class
// and counterfactual flag. Pass: max |gradsight − reference| ≤ 1e-3 on the final map; display images at
// most 1 grey level apart. Prints the table method × model × image → max error.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Explainer } from '../../src/explain/explainer.ts';
import type { MethodId } from '../../src/methods/types.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { deprocessImage } from '../../src/render/deprocess.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { type ReferenceEntry, readReference, referenceEntries } from '../helpers/reference.ts';
import { modelPath, skipNoShared } from '../helpers/shared.ts';

const KINDS = ['cam', 'guided-backprop', 'guided-gradcam', 'guided-gradcam-display'];

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function methodOf(e: ReferenceEntry): MethodId {
  if (e.kind === 'cam') return e.method as MethodId;
  return e.kind === 'guided-backprop' ? 'guided-backprop' : 'guided-gradcam';
}

describe('parity with pytorch-grad-cam', { skip: skipNoShared }, () => {
  const entries = skipNoShared ? [] : referenceEntries().filter((e) => KINDS.includes(e.kind));
  const table: string[] = [];
  for (const model of [...new Set(entries.map((e) => e.model))]) {
    test(model, async (t) => {
      const failures: string[] = [];
      const ex = Explainer.fromModel(await openImageModel(modelPath(model)));
      try {
        for (const e of entries.filter((x) => x.model === model)) {
          const dir = e.file.split('/').slice(0, 2).join('/');
          const x = readReference(`${dir}/input.npy`);
          const input: Float32Tensor = {
            dtype: 'float32',
            dims: [1, ...x.dims],
            data: x.data as Float32Array,
          };
          const method = methodOf(e);
          const layers = (e.layers as string[] | undefined) ?? [];
          const r = await ex.explain(input, {
            method,
            target: String(e.class),
            ...(layers.length ? { layers } : {}),
            counterfactual: e.counterfactual === true,
            batchSize: 64,
          });
          const got = r.explanations[0]!;
          const ref = readReference(e.file);
          let err: number;
          let limit: number;
          if (e.kind === 'guided-gradcam-display') {
            const img = deprocessImage(got.pixels!, { width: got.width, height: got.height });
            err = maxAbs(img.data, ref.data as Uint8Array);
            limit = 1;
          } else if (e.kind === 'cam') {
            err = maxAbs(got.map!, ref.data as Float32Array);
            limit = 1e-3;
          } else {
            // Raw gradients: relative to the reference's largest magnitude.
            const refData = ref.data as Float32Array;
            let scale = 0;
            for (const v of refData) scale = Math.max(scale, Math.abs(v));
            err = maxAbs(got.pixels!, refData) / scale;
            limit = 1e-4;
          }
          const row = `${e.kind === 'cam' ? method : e.kind} | ${model} | ${e.image} | ${e.file.includes('mid+last') ? 'mid+last' : e.file.includes('_mid_') ? 'mid' : 'last'} | c${e.class}${e.counterfactual ? ' cf' : ''} | ${err.toExponential(2)}`;
          table.push(row);
          t.diagnostic(row);
          if (!(err <= limit)) failures.push(`${e.file}: ${err} > ${limit}`);
        }
      } finally {
        await ex.release();
      }
      assert.deepEqual(failures, []);
    });
  }
  test('table', (t) => {
    t.diagnostic('method | model | image | layers | class | max error');
    for (const r of table) t.diagnostic(r);
    assert.equal(table.length, entries.length);
  });
});
