// The shared datasets (../shared/data): voc-samples' index.json class boxes must equal the boxes around
// each class's pixels in its masks; binary-mnist's 2,115 digits and their labels; the shipped VOC →
// ImageNet class map against the shared MobileNetV2's labels (which start with "background").

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { mapClasses, openDataset } from '../../src/eval/datasets/index.ts';
import { VOC_CLASSES } from '../../src/eval/datasets/voc.ts';
import { sharedDir, skipNoShared } from '../helpers/shared.ts';

const labelsOf = (model: string) =>
  readFileSync(join(sharedDir, 'models', model, 'labels.txt'), 'utf8')
    .trimEnd()
    .split('\n');

describe('shared datasets', { skip: skipNoShared }, () => {
  test('voc-samples: 14 images; index.json class boxes = boxes around the mask pixels of each class', async () => {
    const ds = await openDataset(join(sharedDir, 'data', 'voc-samples'));
    assert.equal(ds.format, 'voc-samples');
    assert.equal(ds.size, 14);
    let boxes = 0;
    for (const s of ds.samples()) {
      const m = await s.mask!();
      assert.equal(m.classes.length, 21);
      const found = new Map<string, { x0: number; y0: number; x1: number; y1: number }>();
      for (let i = 0; i < m.data.length; i++) {
        const v = m.data[i]!;
        if (v === 0 || v === m.void) continue;
        const [x, y] = [i % m.width, Math.floor(i / m.width)];
        const name = m.classes[v]!;
        const b = found.get(name);
        if (!b) found.set(name, { x0: x, y0: y, x1: x, y1: y });
        else
          found.set(name, {
            x0: Math.min(b.x0, x),
            y0: Math.min(b.y0, y),
            x1: Math.max(b.x1, x),
            y1: Math.max(b.y1, y),
          });
      }
      assert.deepEqual([...found.keys()].sort(), [...s.labels].sort(), `${s.id}: classes in the mask`);
      for (const { label, box } of s.boxes) {
        assert.deepEqual(box, found.get(label), `${s.id}: ${label}`);
        boxes++;
      }
    }
    assert.equal(boxes, 17);
    const counts = new Map<string, number>();
    for (const s of ds.samples()) for (const l of s.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    // README: aeroplane ×4, bird ×2, sheep ×2, cow, bus, horse, bicycle + bottle, car + person, motorbike + person.
    assert.deepEqual(Object.fromEntries(counts), {
      aeroplane: 4,
      bird: 2,
      bicycle: 1,
      bottle: 1,
      sheep: 2,
      cow: 1,
      car: 1,
      person: 2,
      bus: 1,
      motorbike: 1,
      horse: 1,
    });
  });

  test('binary-mnist: 2,115 digits, 980 zeros and 1,135 ones, labels mapping to the model outputs', async () => {
    const ds = await openDataset(join(sharedDir, 'data', 'binary-mnist'));
    assert.equal(ds.format, 'folder');
    assert.equal(ds.size, 2115);
    assert.deepEqual(ds.classes, ['0', '1']);
    const counts = { '0': 0, '1': 0 } as Record<string, number>;
    let n = 0;
    for (const s of ds.samples()) {
      counts[s.labels[0]!]!++;
      assert.equal(s.image, join(sharedDir, 'data', 'binary-mnist', 'test', s.labels[0]!, s.id.slice(2)));
      n++;
    }
    assert.equal(n, 2115);
    assert.deepEqual(counts, { '0': 980, '1': 1135 });
    assert.deepEqual(
      mapClasses(ds.classes, labelsOf('binary-mnist')),
      new Map([
        ['0', [0]],
        ['1', [1]],
      ]),
    );
  });

  test('voc-imagenet on MobileNetV2 (background at output 0): every VOC class maps, by label name', () => {
    const labels = labelsOf('mobilenet_v2_1.0_224_quant');
    assert.equal(labels[0], 'background');
    const m = mapClasses(VOC_CLASSES, labels, 'voc-imagenet');
    const names = (c: string) => m.get(c)!.map((i) => labels[i]);
    assert.deepEqual(names('cat'), [
      'tabby, tabby cat',
      'tiger cat',
      'Persian cat',
      'Siamese cat, Siamese',
      'Egyptian cat',
    ]);
    assert.deepEqual(m.get('cat'), [282, 283, 284, 285, 286]);
    assert.deepEqual(names('aeroplane'), ['airliner', 'warplane, military plane']);
    assert.deepEqual(names('sheep'), ['ram, tup']);
    assert.deepEqual(names('bus'), ['minibus', 'school bus', 'trolleybus, trolley coach, trackless trolley']);
    // Every dog breed: ImageNet 151 (Chihuahua) .. 268 (Mexican hairless), outputs +1 here.
    assert.deepEqual(
      m.get('dog'),
      Array.from({ length: 118 }, (_, i) => 152 + i),
    );
    assert.equal(labels[152], 'Chihuahua');
    assert.equal(m.get('bird')!.length, 58);
    for (const c of VOC_CLASSES) assert.ok(m.get(c)!.length > 0, c);
  });
});
