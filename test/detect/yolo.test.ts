// The two YOLO layouts on small hand-made models (boxes passed through, scores through a Sigmoid in
// the graph, as exports do): decode and NMS against hand-computed boxes, and the score head's T and
// its gradient against the decoder and finite differences.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Decoder, nms, yolov5, yolov8 } from '../../src/detect/index.ts';
import { isGradsightError } from '../../src/errors.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { finiteDifferences, headGradient, headValue, withHead } from './head-run.ts';

/**
 * x [N, K, B] (K = 4 + scores per box) → boxes as they are, scores through a Sigmoid → y [N, K, B]
 * (yolov8) or its transpose [N, B, K] (yolov5).
 */
function yoloModel(layout: 'yolov5' | 'yolov8', k: number, b: number): Uint8Array {
  const out = layout === 'yolov8' ? 'y' : 'yt';
  return buildModel({
    opset: 17,
    inputs: [{ name: 'x', shape: ['N', k, b] }],
    outputs: [{ name: 'y', shape: layout === 'yolov8' ? ['N', k, b] : ['N', b, k] }],
    initializers: [
      { name: 'zero', dtype: 'int64', dims: [1], values: [0] },
      { name: 'four', dtype: 'int64', dims: [1], values: [4] },
      { name: 'end', dtype: 'int64', dims: [1], values: [k] },
      { name: 'one', dtype: 'int64', dims: [1], values: [1] },
    ],
    nodes: [
      { op: 'Slice', inputs: ['x', 'zero', 'four', 'one'], outputs: ['xywh'] },
      { op: 'Slice', inputs: ['x', 'four', 'end', 'one'], outputs: ['logits'] },
      { op: 'Sigmoid', inputs: ['logits'], outputs: ['scores'] },
      { op: 'Concat', inputs: ['xywh', 'scores'], outputs: [out], attrs: { axis: 1 } },
      ...(layout === 'yolov5'
        ? [{ op: 'Transpose', inputs: ['yt'], outputs: ['y'], attrs: { perm: [0, 2, 1] } }]
        : []),
    ],
  });
}

const logit = (p: number) => Math.log(p / (1 - p));

/** Per box: cx, cy, w, h (input pixels), then probabilities (objectness for yolov5, class scores). */
function input(boxes: readonly (readonly number[])[]): Float32Tensor {
  const k = boxes[0]!.length;
  const b = boxes.length;
  const data = new Float32Array(k * b);
  boxes.forEach((v, j) => {
    v.forEach((value, i) => {
      data[i * b + j] = i < 4 ? value : logit(value);
    });
  });
  return { dtype: 'float32', dims: [1, k, b], data };
}

/** Boxes scoring 0.01 (exports have more boxes than values per box, which `fits` checks). */
const PAD = (probabilities: number) =>
  [0, 1, 2].map((i) => [60, 8 * i, 4, 4, ...Array<number>(probabilities).fill(0.01)]);

// Five boxes and three pads, two classes. Boxes 0 and 1 tie on score 0.72 for class 1 (the same float32 products)
// and overlap with IoU 0.6; box 3 is box 0's box for class 0; box 4 is below the threshold and its
// classes tie (argmax: the lower index).
const V5 = [
  [10, 20, 4, 6, 0.9, 0.2, 0.8],
  [11, 20, 4, 6, 0.8, 0.1, 0.9],
  [30, 30, 10, 10, 0.5, 0.6, 0.3],
  [10, 20, 4, 6, 0.9, 0.7, 0.1],
  [50, 50, 2, 2, 0.2, 0.5, 0.5],
  ...PAD(3),
];
// The same detections in the YOLOv8 layout: class scores only (box 1's 0.72 is not box 0's float32
// product, so its tie is exact only in the v5 case; here box 1's score is set to box 0's).
const V8 = [
  [10, 20, 4, 6, 0.2, 0.72],
  [11, 20, 4, 6, 0.1, 0.72],
  [30, 30, 10, 10, 0.3, 0.1],
  [10, 20, 4, 6, 0.63, 0.1],
  [50, 50, 2, 2, 0.1, 0.1],
  ...PAD(2),
];

const BOX0 = { x0: 8, y0: 17, x1: 12, y1: 23 };
const BOX2 = { x0: 25, y0: 25, x1: 35, y1: 35 };

const cases: { decoder: Decoder; boxes: number[][]; cells: (b: number, c: number) => number }[] = [
  { decoder: yolov5, boxes: V5, cells: (b, c) => b * 2 + c },
  { decoder: yolov8, boxes: V8, cells: (b, c) => c * 8 + b },
];

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

for (const { decoder, boxes, cells } of cases) {
  describe(`${decoder.id} decoder on a hand-made model`, () => {
    const bytes = yoloModel(decoder.id as 'yolov5' | 'yolov8', boxes[0]!.length, boxes.length);
    const x = input(boxes);
    const run = () => headValue({ bytes, t: 'y', input: 'x' }, x);

    it('decodes boxes, classes, scores and cells as computed by hand', async () => {
      const y = await run();
      const rowDims = y.dims.slice(1);
      assert.equal(decoder.fits(y.dims).ok, true);
      assert.equal(decoder.classes(y.dims), 2);
      const dets = decoder.decode(y.data, rowDims, [64, 64], { scoreThreshold: 0.25 });
      assert.deepEqual(
        dets.map((d) => [d.classIndex, d.cell]),
        [
          [1, cells(0, 1)],
          [1, cells(1, 1)],
          [0, cells(2, 0)],
          [0, cells(3, 0)],
        ],
      );
      for (const [i, score] of [0.72, 0.72, 0.3, 0.63].entries()) close(dets[i]!.score, score);
      for (const [k, v] of Object.entries(BOX0)) close(dets[0]!.box[k as keyof typeof BOX0], v);
      for (const [k, v] of Object.entries(BOX2)) close(dets[2]!.box[k as keyof typeof BOX2], v);
      close(dets[1]!.box.x0, 9);

      const all = decoder.decode(y.data, rowDims, [64, 64], { scoreThreshold: 0 });
      assert.equal(all.length, 8);
      assert.equal(all[4]!.classIndex, 0, 'a class tie goes to the lower index');
    });

    it('NMS keeps the best box per class, breaking the score tie by index', async () => {
      const y = await run();
      const dets = decoder.decode(y.data, y.dims.slice(1), [64, 64], { scoreThreshold: 0.25 });
      assert.equal(dets[0]!.score, dets[1]!.score, 'boxes 0 and 1 tie exactly');
      const kept = nms(dets, 0.45);
      assert.deepEqual(
        kept.map((d) => d.cell),
        [cells(0, 1), cells(3, 0), cells(2, 0)],
      );
      // IoU(box 0, box 1) = 18 / 30 = 0.6: a threshold above it keeps both, in index order.
      assert.deepEqual(
        nms(dets, 0.61).map((d) => d.cell),
        [cells(0, 1), cells(1, 1), cells(3, 0), cells(2, 0)],
      );
    });

    it("the head's T equals the decoder's scores, and d T[cell] / dx equals finite differences", async () => {
      const m = withHead(bytes, decoder, 'y', decoder.id === 'yolov5' ? ['N', 8, 7] : ['N', 6, 8]);
      const y = await run();
      const dets = decoder.decode(y.data, y.dims.slice(1), [64, 64], { scoreThreshold: 0 });
      for (const d of dets) {
        const { t, grad } = await headGradient(m, x, 0, d.cell);
        assert.deepEqual(t.dims.slice(1), decoder.scoreDims(y.dims.slice(1)));
        close(t.data[d.cell]!, d.score, 1e-6);
        const fd = await finiteDifferences(m, x, 0, d.cell);
        let scale = 0;
        for (const v of fd) scale = Math.max(scale, Math.abs(v));
        if (d.score > 0.05) assert.ok(scale > 0.01, 'the score depends on the input');
        for (let i = 0; i < fd.length; i++) close(grad[i]!, fd[i]!, 2e-3 * scale + 1e-4);
      }
    });

    it('refuses an output of another layout with a typed error', () => {
      const wrong = decoder.id === 'yolov5' ? [1, 5, 4] : [1, 4, 2];
      assert.equal(decoder.fits(wrong).ok, false);
      // The real export shapes fit their own decoder only.
      assert.equal(yolov5.fits([1, 25200, 85]).ok && !yolov8.fits([1, 25200, 85]).ok, true);
      assert.equal(yolov8.fits(['N', 84, 8400]).ok && !yolov5.fits(['N', 84, 8400]).ok, true);
      assert.equal(decoder.fits([1, 85, 22, 22]).ok, false);
      assert.throws(
        () =>
          decoder.decode(new Float32Array(wrong[1]! * wrong[2]!), wrong.slice(1), [64, 64], {
            scoreThreshold: 0,
          }),
        (e: unknown) => isGradsightError(e, 'shape-mismatch') && /decoder/.test(e.hint ?? ''),
      );
      assert.throws(
        () =>
          decoder.decode(new Float32Array(3), decoder.id === 'yolov5' ? [8, 7] : [6, 8], [64, 64], {
            scoreThreshold: 0,
          }),
        (e: unknown) => isGradsightError(e, 'shape-mismatch') && /3 were given/.test(e.message),
      );
    });
  });
}
