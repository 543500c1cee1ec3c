// Bias: the share of map mass inside a region (mask, box or relative box), and the per-class
// aggregation that flags classes whose mass concentrates there.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import { biasByClass, biasRecord, massInside, regionMask } from '../../src/eval/metrics/bias.ts';

test('share and area of a region, from a mask, a box or a relative box', () => {
  // 4×4 map: 1 everywhere, 9 at (3, 3), one negative value; positive sum 14 + 9 = 23.
  const map = new Float32Array(16).fill(1);
  map[15] = 9;
  map[0] = -2;
  const box = biasRecord(map, 4, 4, { box: { x0: 2, y0: 2, x1: 3, y1: 3 } });
  assert.ok(Math.abs(box.share - 12 / 23) < 1e-12);
  assert.equal(box.area, 4 / 16);
  // The bottom-right quarter in fractions: pixel centres 2.5 and 3.5 fall in [2, 4].
  assert.deepEqual(biasRecord(map, 4, 4, { relative: { left: 0.5, top: 0.5, right: 1, bottom: 1 } }), box);
  const mask = new Uint8Array(16);
  mask[15] = 1;
  assert.deepEqual(biasRecord(map, 4, 4, { mask }), { share: 9 / 23, area: 1 / 16 });
  assert.equal(massInside(map, mask), 9 / 23);
  assert.equal(massInside(new Float32Array(16), mask), 0);
  assert.deepEqual(
    [...regionMask({ relative: { left: 0, top: 0, right: 0.5, bottom: 0.25 } }, 4, 4)],
    [1, 1, 0, 0, ...new Array(12).fill(0)],
  );
  assert.throws(
    () => biasRecord(map, 4, 4, { mask: new Uint8Array(15) }),
    (e: unknown) => e instanceof GradsightError && e.code === 'shape-mismatch',
  );
});

test('per method and class: mean share, concentration over the area share, and the flag', () => {
  const rows = biasByClass([
    { method: 'gradcam', label: 'a', share: 0.6, area: 0.1 },
    { method: 'gradcam', label: 'a', share: 0.4, area: 0.1 }, // mean 0.5 / 0.1 = 5: flagged
    { method: 'gradcam', label: 'b', share: 0.2, area: 0.1 }, // 2
    { method: 'cam', label: 'a', share: 0.04, area: 0.01 }, // 4
  ]);
  assert.deepEqual(
    rows.map((r) => [r.method, r.label, r.images, r.flagged]),
    [
      ['cam', 'a', 1, false],
      ['gradcam', 'a', 2, true],
      ['gradcam', 'b', 1, false],
    ],
  );
  assert.ok(Math.abs(rows[1]!.concentration - 5) < 1e-12);
  assert.ok(Math.abs(rows[1]!.share - 0.5) < 1e-12);
  // A lower threshold flags cam's 4×; no mass is never flagged, however small the region.
  assert.equal(biasByClass([{ method: 'cam', label: 'a', share: 0.04, area: 0.01 }], 4)[0]!.flagged, true);
  assert.equal(biasByClass([{ method: 'cam', label: 'a', share: 0, area: 0 }])[0]!.flagged, false);
  assert.throws(
    () => biasByClass([], 0),
    (e: unknown) => e instanceof GradsightError && e.code === 'bad-argument',
  );
});
