// Every map metric against a NumPy reimplementation written from the papers' definitions
// (test/eval/map_metrics_reference.py): seeded random maps (blobs, noise, negative values) on small
// images with two classes each, boxes and a class mask with void pixels. Skips when /usr/bin/python3
// or NumPy is missing.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mulberry32, type Rng } from '../../src/demo/prng.ts';
import type { Box } from '../../src/eval/localization.ts';
import { biasRecord } from '../../src/eval/metrics/bias.ts';
import { type DiscriminationRecord, discriminationOf } from '../../src/eval/metrics/discrimination.ts';
import {
  boxBaselineRecord,
  centreBaselineBox,
  fullImageBaselineBox,
  type LocalizationRecord,
  localizationError,
  localizationRecord,
  localizationSweep,
} from '../../src/eval/metrics/localization-error.ts';
import { energyPointing, LOC_DELTAS, locDelta, pointingGame } from '../../src/eval/metrics/pointing.ts';
import {
  boxesOf,
  boxesToMask,
  classPixels,
  type LabelMask,
  voidPixels,
} from '../../src/eval/metrics/regions.ts';
import {
  meanIoU,
  type SeedRecord,
  seedIoU,
  seedRecord,
  sumConfusion,
} from '../../src/eval/metrics/segmentation-seeds.ts';

const PYTHON = '/usr/bin/python3';
const ORACLE = join(dirname(fileURLToPath(import.meta.url)), 'map_metrics_reference.py');
const noNumpy = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' });
    return false;
  } catch {
    return `${PYTHON} with numpy not available: the NumPy oracle is not run`;
  }
})();

const CLASSES = ['background', 'cat', 'dog', 'bird', 'car'];
const VOID = 255;
const TOLERANCE = 2;

interface Case {
  width: number;
  height: number;
  classes: string[];
  void: number;
  mask: number[];
  boxes: { label: string; box: [number, number, number, number] }[];
  labels: string[];
  predictions: { label: string | null; map: number[] }[];
  class_maps: { cls: number; map: number[] }[];
  tolerance: number;
  relative: [number, number, number, number];
}

/** Gaussian blobs (one often on the given box) plus noise and a negative offset, as float32. */
function randomMap(rng: Rng, w: number, h: number, on?: Box): Float32Array {
  const blobs = Array.from({ length: rng.int(1, 3) }, () => ({
    x: rng.uniform(0, w),
    y: rng.uniform(0, h),
    s: rng.uniform(1.5, 6),
    a: rng.uniform(0.3, 1),
  }));
  if (on && rng.chance(0.7))
    blobs.push({
      x: (on.x0 + on.x1) / 2,
      y: (on.y0 + on.y1) / 2,
      s: Math.max(1.5, (on.x1 - on.x0) / 3),
      a: 1.2,
    });
  return Float32Array.from({ length: w * h }, (_, i) => {
    const x = i % w;
    const y = Math.floor(i / w);
    let v = -0.05 + 0.05 * rng.next();
    for (const b of blobs) v += b.a * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.s * b.s));
    return v;
  });
}

function randomBox(rng: Rng, w: number, h: number): Box {
  const x0 = rng.int(0, w - 4);
  const y0 = rng.int(0, h - 4);
  return { x0, y0, x1: rng.int(x0 + 2, w - 1), y1: rng.int(y0 + 2, h - 1) };
}

function makeCase(rng: Rng, width: number, height: number): Case {
  const first = rng.int(1, 4);
  const second = 1 + ((first - 1 + rng.int(1, 3)) % 4);
  const labels = [CLASSES[first]!, CLASSES[second]!];
  const boxes = labels.flatMap((label) =>
    Array.from({ length: rng.int(1, 2) }, () => ({ label, box: randomBox(rng, width, height) })),
  );
  const mask = new Array<number>(width * height).fill(0);
  for (const { label, box } of boxes) {
    const cls = CLASSES.indexOf(label);
    const cx = (box.x0 + box.x1) / 2;
    const cy = (box.y0 + box.y1) / 2;
    const rx = (box.x1 - box.x0) / 2 + 0.5;
    const ry = (box.y1 - box.y0) / 2 + 0.5;
    for (let y = box.y0; y <= box.y1; y++)
      for (let x = box.x0; x <= box.x1; x++)
        if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) mask[y * width + x] = cls;
  }
  for (let p = 0; p < mask.length; p++) if (rng.chance(0.04)) mask[p] = VOID;
  const boxOf = (label: string) => boxes.find((b) => b.label === label)!.box;
  const pool: (string | null)[] = [...labels, 'bird', 'car', null];
  const predictions = Array.from({ length: 3 }, () => {
    const label = pool[rng.int(0, pool.length - 1)]!;
    return {
      label,
      map: Array.from(
        randomMap(rng, width, height, label ? boxes.find((b) => b.label === label)?.box : undefined),
      ),
    };
  });
  return {
    width,
    height,
    classes: CLASSES,
    void: VOID,
    mask,
    boxes: boxes.map(({ label, box }) => ({ label, box: [box.x0, box.y0, box.x1, box.y1] })),
    labels,
    predictions,
    class_maps: labels.map((l) => ({
      cls: CLASSES.indexOf(l),
      map: Array.from(randomMap(rng, width, height, boxOf(l))),
    })),
    tolerance: TOLERANCE,
    relative: [rng.uniform(0, 0.5), rng.uniform(0, 0.5), rng.uniform(0.5, 1), rng.uniform(0.5, 1)],
  };
}

interface OracleCase {
  localizedAt: number | null;
  sweep: (number | null)[];
  ious: number[];
  centreAt: number | null;
  fullAt: number | null;
  pointingBox: { hit: boolean; distance: number | null };
  pointingMask: { hit: boolean; distance: number | null };
  energyBox: number;
  energyMask: number;
  energyMaskVoid: number;
  locDeltaMaskVoid: number[];
  locDelta: number[];
  discriminationBox: { own: number; others: number; ownShare: number | null };
  discriminationMask: { own: number; others: number; ownShare: number | null };
  seedIoU: (number | null)[];
  confusion: number[];
  confusion50: number[];
  biasRelative: { share: number; area: number };
  biasBox: { share: number; area: number };
}

const close = (a: number, b: number, what: string, tol = 1e-9): void => {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs oracle ${b}`);
};
const nanToNull = (v: number) => (Number.isNaN(v) ? null : v);

function sameDiscrimination(
  got: DiscriminationRecord | undefined,
  want: OracleCase['discriminationBox'],
  what: string,
) {
  assert.ok(got, `${what}: defined`);
  close(got.own, want.own, `${what} own`);
  close(got.others, want.others, `${what} others`);
  if (want.ownShare === null) assert.ok(Number.isNaN(got.ownShare), `${what} ownShare NaN`);
  else close(got.ownShare, want.ownShare, `${what} ownShare`);
}

describe('map metrics against the NumPy oracle', { skip: noNumpy }, () => {
  test('localization, pointing, energy, Loc(δ), seeds, mIoU, discrimination and bias agree', () => {
    const rng = mulberry32(2024);
    const sizes = [
      [24, 18],
      [31, 31],
      [40, 25],
      [17, 29],
      [36, 36],
      [20, 44],
    ] as const;
    const cases = sizes.flatMap(([w, h]) => [makeCase(rng, w, h), makeCase(rng, w, h)]);
    const oracle = JSON.parse(
      execFileSync(PYTHON, [ORACLE], { input: JSON.stringify(cases), encoding: 'utf8' }),
    ) as {
      cases: OracleCase[];
      dataset: { mIoU: number; mIoUForeground: number; locError1: number; locError3: number };
    };
    const records: LocalizationRecord[] = [];
    const seeds: SeedRecord[] = [];
    cases.forEach((c, i) => {
      const o = oracle.cases[i]!;
      const { width: w, height: h } = c;
      const what = `case ${i} (${w}×${h})`;
      const boxes = c.boxes.map(({ label, box: [x0, y0, x1, y1] }) => ({ label, box: { x0, y0, x1, y1 } }));
      const truth = { labels: c.labels, boxes };
      const predictions = c.predictions.map((p) => ({
        label: p.label ?? undefined,
        map: Float32Array.from(p.map),
      }));
      const mask: LabelMask = {
        width: w,
        height: h,
        data: Uint8Array.from(c.mask),
        classes: CLASSES,
        void: VOID,
      };

      const rec = localizationRecord(predictions, w, h, truth);
      records.push(rec);
      assert.equal(rec.localizedAt, o.localizedAt, `${what} localizedAt`);
      for (const [j, r] of rec.ranks.entries()) close(r.iou, o.ious[j]!, `${what} IoU of rank ${j + 1}`);
      assert.deepEqual(
        localizationSweep(predictions, w, h, truth).map((p) => p.localizedAt),
        o.sweep,
        `${what} sweep`,
      );
      const labels = predictions.map((p) => p.label);
      assert.equal(
        boxBaselineRecord(labels, centreBaselineBox(w, h), truth).localizedAt,
        o.centreAt,
        `${what} centre`,
      );
      assert.equal(
        boxBaselineRecord(labels, fullImageBaselineBox(w, h), truth).localizedAt,
        o.fullAt,
        `${what} full`,
      );

      const map = predictions[0]!.map;
      const label = c.labels[0]!;
      const inBoxes = { boxes: boxesOf(boxes, label) };
      const inMask = { mask: classPixels(mask, CLASSES.indexOf(label)) };
      for (const [truthOf, want, name] of [
        [inBoxes, o.pointingBox, 'box'],
        [inMask, o.pointingMask, 'mask'],
      ] as const) {
        const p = pointingGame(map, w, h, truthOf, TOLERANCE);
        assert.equal(p.hit, want.hit, `${what} pointing ${name}`);
        if (want.distance !== null) close(p.distance, want.distance, `${what} pointing distance ${name}`);
      }
      close(energyPointing(map, w, h, inBoxes), o.energyBox, `${what} energy box`);
      close(energyPointing(map, w, h, inMask), o.energyMask, `${what} energy mask`);
      const withVoid = { ...inMask, ignore: voidPixels(mask) };
      close(energyPointing(map, w, h, withVoid), o.energyMaskVoid, `${what} energy mask, void ignored`);
      for (const [j, d] of LOC_DELTAS.entries())
        close(
          locDelta(map, w, h, withVoid, d),
          o.locDeltaMaskVoid[j]!,
          `${what} Loc(${d}) mask, void ignored`,
        );
      for (const [j, d] of LOC_DELTAS.entries())
        close(locDelta(map, w, h, inBoxes, d), o.locDelta[j]!, `${what} Loc(${d})`);
      sameDiscrimination(
        discriminationOf(map, w, h, label, { boxes }),
        o.discriminationBox,
        `${what} discrimination boxes`,
      );
      sameDiscrimination(
        discriminationOf(map, w, h, label, { boxes, mask }),
        o.discriminationMask,
        `${what} discrimination mask`,
      );

      const classMaps = c.class_maps.map((m) => ({ cls: m.cls, map: Float32Array.from(m.map) }));
      classMaps.forEach((m, j) => {
        const got = nanToNull(seedIoU(m.map, mask, m.cls).iou);
        if (o.seedIoU[j] === null || got === null) assert.equal(got, o.seedIoU[j], `${what} seed IoU ${j}`);
        else close(got, o.seedIoU[j]!, `${what} seed IoU ${j}`);
      });
      const seed = seedRecord(classMaps, mask);
      seeds.push(seed);
      assert.deepEqual([...sumConfusion([seed], CLASSES.length)], o.confusion, `${what} confusion at 0.2`);
      assert.deepEqual(
        [...sumConfusion([seedRecord(classMaps, mask, 0.5)], CLASSES.length)],
        o.confusion50,
        `${what} confusion at 0.5`,
      );

      const [left, top, right, bottom] = c.relative;
      const rel = biasRecord(map, w, h, { relative: { left, top, right, bottom } });
      close(rel.share, o.biasRelative.share, `${what} bias share (relative region)`);
      close(rel.area, o.biasRelative.area, `${what} bias area (relative region)`);
      const inBox = biasRecord(map, w, h, { mask: boxesToMask(inBoxes.boxes, w, h) });
      close(inBox.share, o.biasBox.share, `${what} bias share (boxes)`);
      close(inBox.area, o.biasBox.area, `${what} bias area (boxes)`);
    });
    const conf = sumConfusion(seeds, CLASSES.length);
    close(meanIoU(conf, CLASSES.length, 'include'), oracle.dataset.mIoU, 'mIoU with background');
    close(meanIoU(conf, CLASSES.length, 'exclude'), oracle.dataset.mIoUForeground, 'mIoU without background');
    close(localizationError(records, 1), oracle.dataset.locError1, 'top-1 localization error');
    close(localizationError(records, 3), oracle.dataset.locError3, 'top-3 localization error');
    // The cases exercise both outcomes (else agreement would say little).
    const at = records.map((r) => r.localizedAt);
    assert.ok(at.includes(null) && at.some((a) => a !== null), `localizedAt varies: ${at}`);
    const hits = oracle.cases.map((o) => o.pointingBox.hit);
    assert.ok(hits.includes(true) && hits.includes(false), `pointing varies: ${hits}`);
  });
});
