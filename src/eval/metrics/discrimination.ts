// Class discrimination (the Grad-CAM paper §5.1 asks humans which of two classes a map shows; this is
// its automatic counterpart on images with several classes): how much of the map's mass for the
// explained class falls in that class's region against the other classes' regions. A pixel covered by
// both (overlapping boxes) belongs to neither: it cannot tell the classes apart.

import { GradsightError } from '../../errors.ts';
import {
  boxesOf,
  type ClassTruth,
  checkMap,
  checkSize,
  type LabelledBox,
  type LabelMask,
  truthMask,
} from './regions.ts';

export interface DiscriminationRecord {
  /** Σ_{own \ others} L⁺ / Σ L⁺: the share of the map's mass in the explained class only. */
  readonly own: number;
  /** Σ_{others \ own} L⁺ / Σ L⁺: the share in the other classes only. */
  readonly others: number;
  /** own / (own + others): 1 = all of the class-specific mass on the explained class (NaN if both 0). */
  readonly ownShare: number;
}

/** Discrimination of one map given the explained class's region and the other classes' region. */
export function classDiscrimination(
  map: Float32Array,
  width: number,
  height: number,
  own: ClassTruth,
  others: ClassTruth,
): DiscriminationRecord {
  checkMap(map, width, height, 'map');
  const a = truthMask(own, width, height, 'explained class');
  const b = truthMask(others, width, height, 'other classes');
  let inOwn = 0;
  let inOthers = 0;
  let total = 0;
  for (let p = 0; p < map.length; p++) {
    const v = Math.max(map[p]!, 0);
    total += v;
    if (a[p] && !b[p]) inOwn += v;
    else if (b[p] && !a[p]) inOthers += v;
  }
  const ownShare = inOwn + inOthers > 0 ? inOwn / (inOwn + inOthers) : Number.NaN;
  return total > 0
    ? { own: inOwn / total, others: inOthers / total, ownShare }
    : { own: 0, others: 0, ownShare };
}

/**
 * Discrimination of the map of `label` against the other classes of the image, from the class mask when
 * given (pixels of the class vs pixels of the other foreground classes) else from the labelled boxes.
 * Undefined when the image has no other class.
 */
export function discriminationOf(
  map: Float32Array,
  width: number,
  height: number,
  label: string,
  truth: { boxes: readonly LabelledBox[]; mask?: LabelMask },
): DiscriminationRecord | undefined {
  if (truth.mask) {
    const m = truth.mask;
    checkSize(m.data, width, height, 'class mask');
    const cls = m.classes.indexOf(label);
    if (cls <= 0)
      throw new GradsightError('bad-argument', `class '${label}' is not a foreground class of the mask`, {
        hint: `use one of: ${m.classes.slice(1).join(', ')}`,
      });
    const own = new Uint8Array(m.data.length);
    const others = new Uint8Array(m.data.length);
    let any = false;
    for (let p = 0; p < own.length; p++) {
      const c = m.data[p]!;
      if (c === cls) own[p] = 1;
      else if (c !== 0 && c !== m.void) {
        others[p] = 1;
        any = true;
      }
    }
    return any ? classDiscrimination(map, width, height, { mask: own }, { mask: others }) : undefined;
  }
  const other = truth.boxes.filter((b) => b.label !== label).map((b) => b.box);
  if (other.length === 0) return undefined;
  return classDiscrimination(map, width, height, { boxes: boxesOf(truth.boxes, label) }, { boxes: other });
}

/** Over images: mean ownShare (images where it is defined) and the win rate |{ownShare > 1/2}| / N. */
export function aggregateDiscrimination(records: readonly DiscriminationRecord[]): {
  readonly images: number;
  readonly meanOwnShare: number;
  readonly winRate: number;
} {
  const defined = records.filter((r) => !Number.isNaN(r.ownShare));
  if (records.length === 0)
    throw new GradsightError('bad-argument', 'class discrimination over no images', {
      hint: 'score images with at least two classes',
    });
  let sum = 0;
  for (const r of defined) sum += r.ownShare;
  return {
    images: records.length,
    meanOwnShare: defined.length > 0 ? sum / defined.length : Number.NaN,
    winRate: records.filter((r) => r.ownShare > 0.5).length / records.length,
  };
}
