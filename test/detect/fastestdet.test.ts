// FastestDet's grid: a small hand-made grid model (Sigmoid objectness, Softmax classes, as the real
// graph ends) checked against hand-computed boxes, its score head against the decoder and finite
// differences; then the real model on the shared photos.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fastestdet } from '../../src/detect/index.ts';
import { isGradsightError } from '../../src/errors.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { seededValues } from '../helpers/tiny-models.ts';
import { finiteDifferences, headGradient, headValue, withHead } from './head-run.ts';

const C = 3;
const H = 2;
const W = 3;

/** x [N, 5 + C, H, W] → Sigmoid on channel 0, channels 1–4 as they are, Softmax over 5… → y. */
function gridModel(): Uint8Array {
  const i64 = (name: string, v: number) => ({ name, dtype: 'int64' as const, dims: [1], values: [v] });
  return buildModel({
    opset: 11, // the real model's opset
    inputs: [{ name: 'x', shape: ['N', 5 + C, H, W] }],
    outputs: [{ name: 'y', shape: ['N', 5 + C, H, W] }],
    initializers: [i64('s0', 0), i64('s1', 1), i64('s5', 5), i64('end', 5 + C), i64('axis', 1)],
    nodes: [
      { op: 'Slice', inputs: ['x', 's0', 's1', 'axis'], outputs: ['o'] },
      { op: 'Sigmoid', inputs: ['o'], outputs: ['obj'] },
      { op: 'Slice', inputs: ['x', 's1', 's5', 'axis'], outputs: ['geom'] },
      { op: 'Slice', inputs: ['x', 's5', 'end', 'axis'], outputs: ['c'] },
      // Opset 11 Softmax flattens from `axis`: Transpose classes last, as the real graph does.
      { op: 'Transpose', inputs: ['c'], outputs: ['ct'], attrs: { perm: [0, 2, 3, 1] } },
      { op: 'Softmax', inputs: ['ct'], outputs: ['st'], attrs: { axis: 3 } },
      { op: 'Transpose', inputs: ['st'], outputs: ['cls'], attrs: { perm: [0, 3, 1, 2] } },
      { op: 'Concat', inputs: ['obj', 'geom', 'cls'], outputs: ['y'], attrs: { axis: 1 } },
    ],
  });
}

const plane = H * W;
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Seeded logits; cell (h 1, w 2) gets offsets 0 and sizes 0, so tanh = 0 and sigmoid = ½ there. */
function input(): Float32Tensor {
  const data = Float32Array.from(seededValues((5 + C) * plane, 7).map((v) => 2 * v));
  for (const ch of [1, 2, 3, 4]) data[ch * plane + 1 * W + 2] = 0;
  return { dtype: 'float32', dims: [1, 5 + C, H, W], data };
}

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe('fastestdet decoder on a hand-made grid', () => {
  const bytes = gridModel();
  const x = input();

  it('decodes each cell: the box by hand, score = obj^0.6 · max cls^0.4', async () => {
    const y = await headValue({ bytes, t: 'y', input: 'x' }, x);
    assert.equal(fastestdet.classes(y.dims), C);
    const dets = fastestdet.decode(y.data, y.dims.slice(1), [40, 60], { scoreThreshold: 0 });
    assert.equal(dets.length, plane);
    // Cell (1, 2) of a 2×3 grid on a 40×60 input: cx = (2 + 0)/3·60 = 40, cy = (1 + 0)/2·40 = 20,
    // w = ½·60 = 30, h = ½·40 = 20.
    const d = dets[1 * W + 2]!;
    for (const [k, v] of Object.entries({ x0: 25, y0: 10, x1: 55, y1: 30 })) close(d.box[k as 'x0'], v, 1e-4);
    // Scores and classes from the raw logits, independently of the model.
    for (let p = 0; p < plane; p++) {
      const z = [...Array(C).keys()].map((c) => x.data[(5 + c) * plane + p]!);
      const best = z.indexOf(Math.max(...z));
      const cls = Math.exp(z[best]!) / z.reduce((s, v) => s + Math.exp(v), 0);
      const obj = sigmoid(x.data[p]!);
      assert.equal(dets[p]!.classIndex, best);
      assert.equal(dets[p]!.cell, best * plane + p);
      close(dets[p]!.score, obj ** 0.6 * cls ** 0.4, 1e-6);
    }
    const kept = fastestdet.decode(y.data, y.dims.slice(1), [40, 60], { scoreThreshold: 0.3 });
    assert.deepEqual(
      kept.map((k) => k.cell),
      dets.filter((k) => k.score >= 0.3).map((k) => k.cell),
    );
    assert.ok(kept.length > 0 && kept.length < plane, 'the threshold drops some cells and keeps some');
  });

  it("the head's T [N, C, H, W] is every (class, cell) score, and d T[cell] / dx equals finite differences", async () => {
    const m = withHead(bytes, fastestdet, 'y', ['N', 5 + C, H, W]);
    const y = await headValue(m, x, 'y');
    const dets = fastestdet.decode(y.data, y.dims.slice(1), [40, 60], { scoreThreshold: 0 });
    const t = await headValue(m, x);
    assert.deepEqual(t.dims, [1, C, H, W]);
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < plane; p++) {
        close(t.data[c * plane + p]!, y.data[p]! ** 0.6 * y.data[(5 + c) * plane + p]! ** 0.4, 1e-6);
      }
    }
    for (const d of [dets[0]!, dets[1 * W + 2]!]) {
      const { grad } = await headGradient(m, x, 0, d.cell);
      close(t.data[d.cell]!, d.score, 1e-6);
      const fd = await finiteDifferences(m, x, 0, d.cell);
      let scale = 0;
      for (const v of fd) scale = Math.max(scale, Math.abs(v));
      assert.ok(scale > 0.01, 'the score depends on the input');
      for (let i = 0; i < fd.length; i++) close(grad[i]!, fd[i]!, 2e-3 * scale + 1e-4);
    }
  });

  it('the head stays finite where a score underflows to 0 (no NaN from 0^0.6)', async () => {
    const m = withHead(bytes, fastestdet, 'y', ['N', 5 + C, H, W]);
    const dead = Float32Array.from(x.data);
    dead[0] = -200; // obj = sigmoid(−200) = 0 in float32 at cell 0
    dead[(5 + 1) * plane + 0] = -200; // and class 1 there
    const z: Float32Tensor = { ...x, data: dead };
    const best = fastestdet.decode((await headValue(m, z, 'y')).data, [5 + C, H, W], [40, 60], {
      scoreThreshold: 0,
    })[1 * W + 2]!;
    const { t, grad } = await headGradient(m, z, 0, best.cell);
    assert.ok(t.data[0]! < 1e-15 && t.data[plane]! < 1e-15, 'the dead cell scores 0');
    assert.ok(grad.every(Number.isFinite), 'every gradient is finite');
    const fd = await finiteDifferences(m, z, 0, best.cell);
    for (let i = 0; i < fd.length; i++) close(grad[i]!, fd[i]!, 2e-3);
  });

  it('refuses outputs that are not a grid', () => {
    assert.equal(fastestdet.fits([1, 85, 22, 22]).ok, true);
    for (const shape of [
      [1, 8400, 85],
      [1, 5, 22, 22],
      [1, 'c', 22, 22],
    ]) {
      const fit = fastestdet.fits(shape);
      assert.ok(!fit.ok && fit.reason.length > 0, `${shape}`);
    }
    assert.throws(
      () => fastestdet.decode(new Float32Array(5 * 4), [5, 2, 2], [32, 32], { scoreThreshold: 0 }),
      (e: unknown) => isGradsightError(e, 'shape-mismatch') && /fastestdet/.test(e.message),
    );
  });
});

describe('fastestdet head on a batch of two', () => {
  it('each row of T is its own row’s scores, and a cell of row 1 has gradient only in row 1', async () => {
    const m = withHead(gridModel(), fastestdet, 'y', ['N', 5 + C, H, W]);
    const one = input().data;
    const data = new Float32Array(2 * one.length);
    data.set(one, 0);
    data.set(
      one.map((v) => -v),
      one.length,
    );
    const x: Float32Tensor = { dtype: 'float32', dims: [2, 5 + C, H, W], data };
    const y = await headValue(m, x, 'y');
    const row = (i: number) => y.data.subarray(i * one.length, (i + 1) * one.length);
    const dets = fastestdet.decode(row(1), [5 + C, H, W], [40, 60], { scoreThreshold: 0 });
    const best = dets.reduce((a, b) => (b.score > a.score ? b : a));
    const { t, grad } = await headGradient(m, x, 1, best.cell);
    assert.deepEqual(t.dims, [2, C, H, W]);
    for (const d of dets) close(t.data[C * plane + d.cell]!, d.score, 1e-6);
    assert.ok(
      grad.subarray(0, one.length).every((g) => g === 0),
      'row 0 gets no gradient',
    );
    const fd = await finiteDifferences(m, x, 1, best.cell);
    for (let i = 0; i < fd.length; i++) close(grad[i]!, fd[i]!, 2e-3);
  });
});
