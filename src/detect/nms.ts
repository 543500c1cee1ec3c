// Greedy non-maximum suppression, per class: visit detections by score (ties: the earlier one in the
// input first, so results never depend on sort stability) and drop any whose IoU with a kept box of
// the same class exceeds the threshold (strictly, as torchvision.ops.nms).

import { boxIou } from './box.ts';
import type { Detection } from './types.ts';

export const DEFAULT_IOU_THRESHOLD = 0.45;

/** The kept detections, best score first. */
export function nms(detections: readonly Detection[], iouThreshold = DEFAULT_IOU_THRESHOLD): Detection[] {
  const order = detections
    .map((d, i) => ({ d, i }))
    .sort((a, b) => b.d.score - a.d.score || a.i - b.i)
    .map((x) => x.d);
  const kept: Detection[] = [];
  for (const d of order) {
    const suppressed = kept.some((k) => k.classIndex === d.classIndex && boxIou(k.box, d.box) > iouThreshold);
    if (!suppressed) kept.push(d);
  }
  return kept;
}
