// The two common YOLO ONNX export layouts, boxes in model-input pixels as (cx, cy, w, h) and scores
// already through their sigmoid in the graph:
//   yolov5: [N, boxes, 4 + 1 + classes], per box cx, cy, w, h, objectness, class scores (YOLOv5, v7,
//           YOLOX-style exports); score = obj · cls, T [N, boxes, classes].
//   yolov8: [N, 4 + classes, boxes], per box cx, cy, w, h, class scores, boxes last (YOLOv8, v11);
//           score = cls, T [N, classes, boxes].

import type { Shape } from '../onnx/index.ts';
import type { TargetHead } from '../targets/head.ts';
import { argmaxStrided, OK, requireFit, requireRow, showShape, unfit } from './fit.ts';
import type { Box, Decoder, Detection } from './types.ts';

const centreBox = (cx: number, cy: number, w: number, h: number): Box => ({
  x0: cx - w / 2,
  y0: cy - h / 2,
  x1: cx + w / 2,
  y1: cy + h / 2,
});

/** A 3-D layout with a static per-box axis of `extra` + classes values at `axis`. */
function fitsBoxes(shape: Shape, axis: 1 | 2, extra: number, layout: string): ReturnType<Decoder['fits']> {
  if (shape.length !== 3) return unfit(`the layout is 3-D ${layout}, not ${showShape(shape)}`);
  const k = shape[axis];
  if (typeof k !== 'number') return unfit(`its axis ${axis} (${extra} + classes) has no static size`);
  if (k <= extra)
    return unfit(`axis ${axis} has ${k} values, leaving no class scores (${extra} + classes needed)`);
  // Exports score hundreds of boxes or more: fewer boxes than values per box means the other layout.
  const boxes = shape[3 - axis];
  if (typeof boxes === 'number' && boxes < k) {
    return unfit(
      `it would have ${boxes} boxes of ${k} values each: boxes and values look swapped (the other YOLO layout)`,
    );
  }
  return OK;
}

const V5_LAYOUT = '[N, boxes, 4 + 1 + classes]';

const yolov5Head: TargetHead = {
  key: 'detect/yolov5',
  description: 'obj·cls (YOLOv5 layout)',
  build(e, x, xShape) {
    requireFit(yolov5, xShape);
    const k = xShape[2] as number;
    const obj = e.slice(x, [4], [5], [2]); // [N, boxes, 1], broadcast over the classes
    return e.mul(obj, e.slice(x, [5], [k], [2]));
  },
};

export const yolov5: Decoder = {
  id: 'yolov5',
  describe: `${V5_LAYOUT}: cx, cy, w, h (input pixels), objectness, class scores per box (YOLOv5-style export)`,
  fits: (shape) => fitsBoxes(shape, 2, 5, V5_LAYOUT),
  classes: (shape) => (shape[2] as number) - 5,
  scoreDims: ([b, k]) => [b!, k! - 5],
  decode(row, rowDims, _inputSize, { scoreThreshold }) {
    requireRow(yolov5, row.length, rowDims);
    const [boxes, k] = rowDims as [number, number];
    const classes = k - 5;
    const out: Detection[] = [];
    for (let b = 0; b < boxes; b++) {
      const at = b * k;
      const best = argmaxStrided(row, at + 5, 1, classes);
      const score = row[at + 4]! * best.value;
      if (!(score >= scoreThreshold)) continue;
      out.push({
        box: centreBox(row[at]!, row[at + 1]!, row[at + 2]!, row[at + 3]!),
        classIndex: best.index,
        score,
        cell: b * classes + best.index,
      });
    }
    return out;
  },
  head: yolov5Head,
};

const V8_LAYOUT = '[N, 4 + classes, boxes]';

const yolov8Head: TargetHead = {
  key: 'detect/yolov8',
  description: 'cls (YOLOv8 layout)',
  build(e, x, xShape) {
    requireFit(yolov8, xShape);
    return e.slice(x, [4], [xShape[1] as number], [1]);
  },
};

export const yolov8: Decoder = {
  id: 'yolov8',
  describe: `${V8_LAYOUT}: cx, cy, w, h (input pixels), class scores, boxes last (YOLOv8-style export)`,
  fits: (shape) => fitsBoxes(shape, 1, 4, V8_LAYOUT),
  classes: (shape) => (shape[1] as number) - 4,
  scoreDims: ([k, b]) => [k! - 4, b!],
  decode(row, rowDims, _inputSize, { scoreThreshold }) {
    requireRow(yolov8, row.length, rowDims);
    const [k, boxes] = rowDims as [number, number];
    const out: Detection[] = [];
    for (let b = 0; b < boxes; b++) {
      const best = argmaxStrided(row, 4 * boxes + b, boxes, k - 4);
      if (!(best.value >= scoreThreshold)) continue;
      const v = (i: number) => row[i * boxes + b]!;
      out.push({
        box: centreBox(v(0), v(1), v(2), v(3)),
        classIndex: best.index,
        score: best.value,
        cell: best.index * boxes + b,
      });
    }
    return out;
  },
  head: yolov8Head,
};
