// The map metrics on real ground truth: the 14 VOC 2012 val images of ../shared/data/voc-samples
// (class masks with void borders, index.json class boxes). Maps built from the ground truth itself have
// known scores: the class mask as a map points at the class, keeps all its energy inside and is its own
// seed (IoU 1, mIoU 1); the class box as a map is localized exactly, and shifted by d pixels its IoU
// falls to (w − d) / (w + d).

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Box } from '../../src/eval/localization.ts';
import { discriminationOf } from '../../src/eval/metrics/discrimination.ts';
import { localizationRecord } from '../../src/eval/metrics/localization-error.ts';
import { energyPointing, locDelta, pointingGame } from '../../src/eval/metrics/pointing.ts';
import { boxesToMask, classPixels, type LabelMask, voidPixels } from '../../src/eval/metrics/regions.ts';
import { meanIoU, seedIoU, seedRecord, sumConfusion } from '../../src/eval/metrics/segmentation-seeds.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { sharedDir } from '../helpers/shared.ts';

const ROOT = join(sharedDir, 'data', 'voc-samples');
const skip = existsSync(join(ROOT, 'index.json'))
  ? false
  : `${ROOT} not found (shared VOC samples are not part of a clone)`;

interface Item {
  image: string;
  mask: string;
  size: [number, number];
  objects: { class: number; name: string; pixels: number; box: [number, number, number, number] }[];
}

async function load(): Promise<{ classes: string[]; items: (Item & { labels: LabelMask })[] }> {
  const index = JSON.parse(readFileSync(join(ROOT, 'index.json'), 'utf8')) as {
    classes: string[];
    void: number;
    items: Item[];
  };
  const items = [];
  for (const it of index.items) {
    const png = await decodeImageFile(join(ROOT, it.mask));
    // An 8-bit grey mask decodes to R = G = B = the class index.
    const data = Uint8Array.from({ length: png.width * png.height }, (_, p) => png.data[3 * p]!);
    items.push({
      ...it,
      labels: { width: png.width, height: png.height, data, classes: index.classes, void: index.void },
    });
  }
  return { classes: index.classes, items };
}

/** index.json boxes end exclusively ([x0, y0, x1, y1) as slices); gradsight's boxes are inclusive. */
const inclusive = ([x0, y0, x1, y1]: [number, number, number, number]): Box => ({
  x0,
  y0,
  x1: x1 - 1,
  y1: y1 - 1,
});
const asMap = (mask: Uint8Array) => Float32Array.from(mask);

describe('map metrics on the VOC samples', { skip }, () => {
  test('a class mask as its own map: pointing hit, energy 1, Loc(0.5) 1, seed IoU 1, mIoU 1', async () => {
    const { classes, items } = await load();
    assert.equal(items.length, 14);
    const seeds = [];
    let objects = 0;
    for (const it of items) {
      const { width: w, height: h } = it.labels;
      const maps = [];
      for (const o of it.objects) {
        const pixels = classPixels(it.labels, o.class);
        // The mask agrees with index.json (the test reads the masks it thinks it reads).
        assert.equal(
          pixels.reduce((a, b) => a + b, 0),
          o.pixels,
          `${it.mask} ${o.name} pixels`,
        );
        const map = asMap(pixels);
        const box = { boxes: [inclusive(o.box)] };
        assert.equal(pointingGame(map, w, h, box).hit, true, `${it.image} ${o.name} pointing (box)`);
        assert.equal(pointingGame(map, w, h, { mask: pixels }, 0).distance, 0);
        assert.equal(energyPointing(map, w, h, box), 1, `${it.image} ${o.name} energy`);
        assert.equal(energyPointing(map, w, h, { mask: pixels }), 1);
        assert.equal(locDelta(map, w, h, box, 0.5), 1);
        assert.equal(seedIoU(map, it.labels, o.class).iou, 1, `${it.image} ${o.name} seed IoU`);
        maps.push({ cls: o.class, map });
        objects++;
      }
      seeds.push(seedRecord(maps, it.labels));
    }
    assert.equal(objects, 17);
    const conf = sumConfusion(seeds, classes.length);
    assert.equal(meanIoU(conf, classes.length), 1);
    assert.equal(meanIoU(conf, classes.length, 'exclude'), 1);
  });

  test('a uniform map seeds the whole image: IoU = energy (void ignored) = class pixels / non-void pixels', async () => {
    const { items } = await load();
    for (const it of items.filter((i) => i.objects.length === 1)) {
      const o = it.objects[0]!;
      const nonVoid = it.labels.data.filter((v) => v !== it.labels.void).length;
      const uniform = new Float32Array(it.labels.data.length).fill(1);
      const r = seedIoU(uniform, it.labels, o.class);
      assert.ok(
        Math.abs(r.iou - o.pixels / nonVoid) < 1e-12,
        `${it.image}: ${r.iou} vs ${o.pixels}/${nonVoid}`,
      );
      // The same share is the uniform map's energy in the class with void left out (W·H with void in).
      const { width: w, height: h } = it.labels;
      const truth = { mask: classPixels(it.labels, o.class) };
      const e = energyPointing(uniform, w, h, { ...truth, ignore: voidPixels(it.labels) });
      assert.ok(Math.abs(e - o.pixels / nonVoid) < 1e-12);
      assert.ok(Math.abs(energyPointing(uniform, w, h, truth) - o.pixels / (w * h)) < 1e-12);
    }
  });

  test('the class box as a map is localized exactly; shifted by d its IoU is (w − d) / (w + d)', async () => {
    const { items } = await load();
    const bird = items.find((i) => i.image === 'images/voc_114.png')!;
    const { width: w, height: h } = bird.labels;
    const box = inclusive(bird.objects[0]!.box); // x 76..381: 306 wide
    const truth = { labels: ['bird'], boxes: [{ label: 'bird', box }] };
    const at = (d: number) => {
      const shifted = asMap(boxesToMask([{ ...box, x0: box.x0 + d, x1: box.x1 + d }], w, h));
      return localizationRecord([{ label: 'bird', map: shifted }], w, h, truth);
    };
    const width = box.x1 - box.x0 + 1;
    assert.equal(width, 306);
    assert.equal(at(0).ranks[0]!.iou, 1);
    for (const d of [50, 100, 110]) {
      const r = at(d);
      assert.ok(
        Math.abs(r.ranks[0]!.iou - (width - d) / (width + d)) < 1e-12,
        `shift ${d}: ${r.ranks[0]!.iou}`,
      );
      // 256/356, 206/406 localize; 196/416 < 0.5 does not.
      assert.equal(r.localizedAt, d <= 100 ? 1 : null);
    }
  });

  test('pointing 10 px left of a box: hit at 15 px, miss at 9', async () => {
    const { items } = await load();
    const it = items.find((i) => i.image === 'images/voc_60.png')!; // bird, x from 94
    const { width: w, height: h } = it.labels;
    const box = inclusive(it.objects[0]!.box);
    const map = new Float32Array(w * h);
    const y = Math.round((box.y0 + box.y1) / 2);
    map[y * w + box.x0 - 10] = 1;
    const r = pointingGame(map, w, h, { boxes: [box] });
    assert.equal(r.distance, 10);
    assert.equal(r.hit, true);
    assert.equal(pointingGame(map, w, h, { boxes: [box] }, 9).hit, false);
  });

  test('two-class images: a class mask as the map is all own mass; the other class mask, none', async () => {
    const { items } = await load();
    const pairs = items.filter((i) => i.objects.length === 2);
    assert.equal(pairs.length, 3);
    for (const it of pairs) {
      const { width: w, height: h } = it.labels;
      const [a, b] = it.objects as [Item['objects'][0], Item['objects'][0]];
      const truth = { boxes: [], mask: it.labels };
      const own = discriminationOf(asMap(classPixels(it.labels, a.class)), w, h, a.name, truth)!;
      assert.deepEqual([own.own, own.others, own.ownShare], [1, 0, 1], `${it.image} own`);
      const other = discriminationOf(asMap(classPixels(it.labels, b.class)), w, h, a.name, truth)!;
      assert.deepEqual([other.own, other.others, other.ownShare], [0, 1, 0], `${it.image} other`);
    }
  });
});
