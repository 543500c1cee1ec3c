// Gradients on the real shared models against PyTorch autograd (../shared/reference): d logit / d
// the README's Grad-CAM layer (dA_last), the guided input gradient (ReLU and ReLU6 guided), and on
// the random-weight SqueezeNet the plain input gradient (dX), each fed the reference input.npy.
//
// Pass: max|Δ|/max|ref| ≤ 1e-4. Float32 ONNX Runtime and float32 PyTorch sum in different orders, so
// a pre-activation within ~1e-7 of a ReLU boundary can fall on the other side; that flips one unit and
// changes the input gradient in its receptive field (for a unit deep in the net, thousands of input
// pixels). PyTorch itself flips such units between float32 and float64: on squeezenet/dog_segmentation
// gradsight equals float64 PyTorch to 5e-7 while the float32 reference is 3e-2 away. Such entries must
// still agree to 1e-4 on 95% of the elements with cosine similarity ≥ 0.9999; the table reports them,
// and at least 3/4 of all comparisons must be within 1e-4 everywhere.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { guided } from '../../src/autodiff/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { agrees, compareGradients } from '../helpers/compare.ts';
import { oneHotSeed, runGradients } from '../helpers/grad-run.ts';
import { readReference, referenceEntries } from '../helpers/reference.ts';
import { modelPath, skipNoShared } from '../helpers/shared.ts';

const KINDS = ['gradient', 'guided-backprop', 'input-gradient'] as const;

describe('gradients match PyTorch on the shared models', { skip: skipNoShared }, () => {
  const entries = skipNoShared
    ? []
    : referenceEntries().filter((e) => (KINDS as readonly string[]).includes(e.kind));
  const rows: string[] = [];
  for (const model of [...new Set(entries.map((e) => e.model))]) {
    test(model, async (t) => {
      const bytes = readFileSync(modelPath(model));
      for (const e of entries.filter((x) => x.model === model)) {
        const dir = e.file.split('/').slice(0, 2).join('/');
        const input = readReference(`${dir}/input.npy`);
        const logits = readReference(`${dir}/logits.npy`);
        const feeds: Record<string, Tensor> = {
          input: { dtype: 'float32', dims: [1, ...input.dims], data: input.data },
        };
        const wrt = e.kind === 'gradient' ? (e.layer as string) : 'input';
        const run = await runGradients(
          bytes,
          { wrt: [wrt], ...(e.kind === 'guided-backprop' ? { ruleSet: guided } : {}) },
          feeds,
          oneHotSeed(1, logits.data.length, [e.class as number]),
        );
        const c = compareGradients(
          run.grads[wrt]!.data as Float32Array,
          readReference(e.file).data as Float32Array,
        );
        const row = `${model} | ${e.image} | ${e.kind} | ${wrt} | ${c.rel.toExponential(2)} | ${c.outliers} | ${c.cosine.toFixed(7)}`;
        rows.push(row);
        t.diagnostic(row);
        assert.ok(agrees(c), `${e.file}: ${JSON.stringify(c)}`);
      }
    });
  }
  test('summary', (t) => {
    t.diagnostic('model | image | kind | tensor | max|Δ|/max|ref| | elements beyond 1e-4 | cosine');
    for (const r of rows) t.diagnostic(r);
    const exact = rows.filter((r) => Number(r.split(' | ')[4]) <= 1e-4).length;
    t.diagnostic(`${exact} of ${rows.length} comparisons within 1e-4 everywhere`);
    // Flips are rare: most comparisons must be within tolerance everywhere.
    assert.ok(exact >= rows.length * 0.75, `${exact} of ${rows.length}`);
  });
});
