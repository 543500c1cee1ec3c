// Detection targets: decode the output at the clean input (score threshold, NMS), pick detections
// (all kept, the K best, one class, or the one best matching a box, as pytorch-grad-cam's
// FasterRCNNBoxScoreTarget), and explain each one's score through the decoder's in-graph head: the
// seed is a one-hot at the detection's cell of the head's score tensor.

import { boxIou, toOriginalPixels } from '../detect/box.ts';
import { nms } from '../detect/nms.ts';
import type { Detection } from '../detect/types.ts';
import { GradsightError } from '../errors.ts';
import { labelFor } from '../image/labels.ts';
import { classIndex } from './class-index.ts';
import type { TargetEnv } from './resolve.ts';
import type { Target, TargetRowInit, TargetValues } from './types.ts';

export interface DetectionPick {
  readonly count?: number;
  readonly of?: number | string;
  /** [x0, y0, x1, y1] in original image pixels (model-input pixels without an image). */
  readonly box?: readonly [number, number, number, number];
}

export function detectionTarget(pick: DetectionPick, env: TargetEnv): Target {
  const det = env.detection;
  if (!det) {
    throw new GradsightError('bad-argument', 'detection targets need a detector: the model has no decoder', {
      hint: 'describe the output in preprocess.json, e.g. {"task":"detection","decoder":"fastestdet"}',
    });
  }
  return {
    head: det.decoder.head,
    rows: (v) => {
      const all = det.decoder.decode(v.x, v.xDims, v.inputSize, { scoreThreshold: det.scoreThreshold });
      let kept = nms(all, det.iouThreshold);
      if (pick.of !== undefined) {
        const c = classIndex(pick.of, det.decoder.classes([1, ...v.xDims]), v.labels);
        kept = kept.filter((d) => d.classIndex === c);
      }
      kept = [...kept].sort((a, b) => b.score - a.score || a.cell - b.cell);
      if (pick.box) kept = bestMatch(kept, pick.box, v);
      if (pick.count !== undefined) kept = kept.slice(0, pick.count);
      return kept.map((d) => detectionRow(d, v));
    },
  };
}

function bestMatch(dets: readonly Detection[], box: readonly number[], v: TargetValues): Detection[] {
  const [x0, y0, x1, y1] = box as [number, number, number, number];
  const model = { height: v.inputSize[0], width: v.inputSize[1] };
  // The given box is in original pixels: bring it to model-input pixels, where detections live.
  const given = v.originalSize
    ? toOriginalPixels({ x0, y0, x1, y1 }, { height: v.originalSize[0], width: v.originalSize[1] }, model)
    : { x0, y0, x1, y1 };
  let best: Detection | undefined;
  let bestIou = 0;
  for (const d of dets) {
    const iou = boxIou(d.box, given);
    if (iou > bestIou) {
      best = d;
      bestIou = iou;
    }
  }
  return best ? [best] : [];
}

function detectionRow(d: Detection, v: TargetValues): TargetRowInit {
  const seed = new Float32Array(v.t.length);
  seed[d.cell] = 1;
  const label = labelFor(v.labels, d.classIndex);
  const b = d.box;
  const at = [b.x0, b.y0, b.x1, b.y1].map((x) => Math.round(x)).join(', ');
  return {
    index: d.classIndex,
    label,
    description: `${label} (${d.classIndex}) at [${at}], score ${d.score.toFixed(2)}`,
    kind: 'detection',
    seed,
    detection: d,
  };
}
