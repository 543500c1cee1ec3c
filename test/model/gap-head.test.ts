// Reading a GAP + linear head's weights (CAM's): the [classes, channels] matrix of the linear layer,
// read once per graph, layer, target and layer shape and then shared.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gapHeadWeights } from '../../src/model/gap-head.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import type { ValueInfo } from '../../src/onnx/ir.ts';
import { BLOCK_FC, gapModel } from '../helpers/hand-models.ts';

const shapesAt = (size: number): Map<string, ValueInfo> =>
  new Map([['features', { name: 'features', dtype: 'float32', shape: [1, 3, size, size] }]]);

test('the head is the linear layer as [classes, channels], read once and then shared', () => {
  const g = decodeModel(gapModel({ fc: BLOCK_FC, size: 4 })).graph;
  const head = gapHeadWeights(g, shapesAt(4), 'features', 'logits');
  assert.equal(head.classes, 3);
  assert.equal(head.channels, 3);
  assert.deepEqual([...head.weights], BLOCK_FC.flat());
  assert.equal(gapHeadWeights(g, shapesAt(4), 'features', 'logits'), head, 'the second read is the first');
  // Another layer shape is another question (a full-size AveragePool pools globally at one size only).
  const other = gapHeadWeights(g, shapesAt(8), 'features', 'logits');
  assert.notEqual(other, head);
  assert.deepEqual([...other.weights], BLOCK_FC.flat());
  // Another graph (another model) reads its own weights.
  const fc2 = BLOCK_FC.map((row) => row.map((v) => 2 * v));
  const g2 = decodeModel(gapModel({ fc: fc2, size: 4 })).graph;
  assert.deepEqual([...gapHeadWeights(g2, shapesAt(4), 'features', 'logits').weights], fc2.flat());
});

test('a head that is not GAP + linear is refused every time, not cached', () => {
  const g = decodeModel(gapModel({ fc: BLOCK_FC, size: 4, head: 'gap-relu' })).graph;
  for (let i = 0; i < 2; i++) {
    assert.throws(
      () => gapHeadWeights(g, shapesAt(4), 'features', 'logits'),
      (e: Error & { code?: string }) => e.code === 'method-not-applicable',
    );
  }
});
