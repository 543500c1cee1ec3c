// topK against the full sort it replaces for small k: value descending, the lower index first among
// equal values (the order the in-graph TopK of target-graph.ts is checked against).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../../src/demo/prng.ts';
import { topK } from '../../src/tensor/tensor.ts';

const bySort = (v: ArrayLike<number>, k: number) =>
  Array.from({ length: v.length }, (_, i) => i)
    .sort((a, b) => v[b]! - v[a]! || a - b)
    .slice(0, Math.max(0, Math.min(k, v.length)));

test('topK equals the full sort, with ties and every k', () => {
  const rng = mulberry32(7);
  const rand = () => rng.next();
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(rand() * 300);
    // Few distinct values, so ties are common.
    const v = Float32Array.from({ length: n }, () => Math.floor(rand() * 12) - 6);
    for (const k of [0, 1, 2, 5, 31, 32, 33, n, n + 3])
      assert.deepEqual(topK(v, k), bySort(v, k), `n=${n} k=${k}`);
  }
});

test('topK keeps ±Infinity in order and returns nothing for k ≤ 0', () => {
  const v = [1, Number.POSITIVE_INFINITY, -2, Number.NEGATIVE_INFINITY, 1];
  assert.deepEqual(topK(v, 3), [1, 0, 4]);
  assert.deepEqual(topK(v, 5), [1, 0, 4, 2, 3]);
  assert.deepEqual(topK(v, -1), []);
});
