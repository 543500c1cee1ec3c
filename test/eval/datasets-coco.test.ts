// COCO instances: a hand-made JSON with hand-computed boxes and class mask (polygon, uncompressed and
// compressed RLE, a crowd region), rasterising checked pixel by pixel against an independent NumPy/PIL
// oracle (coco_reference.py), and each malformed-annotation error.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isGradsightError } from '../../src/errors.ts';
import { decodeRleString, paintPolygon, paintRle } from '../../src/eval/datasets/coco-raster.ts';
import { openDataset } from '../../src/eval/datasets/index.ts';
import { rows, tempDir, writeFile, writeImage } from './datasets-fixtures.ts';

type Json = Record<string, unknown>;

const baseJson = (): { images: Json[]; annotations: Json[]; categories: Json[] } => ({
  images: [
    { id: 7, file_name: 'x.png', width: 6, height: 4 },
    { id: 9, file_name: 'y.png', width: 5, height: 5 },
  ],
  // Out of id order on purpose: mask indices follow the ids (cat 17 → 1, dog 18 → 2).
  categories: [
    { id: 18, name: 'dog' },
    { id: 17, name: 'cat' },
  ],
  annotations: [
    {
      id: 1,
      image_id: 7,
      category_id: 17,
      iscrowd: 0,
      bbox: [1, 0.5, 3, 2],
      segmentation: [[1, 0, 4, 0, 4, 3, 1, 3]],
    },
    // Row 3, column-major runs: per column 3 background then 1 object.
    {
      id: 2,
      image_id: 7,
      category_id: 18,
      iscrowd: 0,
      bbox: [0, 3, 6, 1],
      segmentation: { counts: [3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1], size: [4, 6] },
    },
    // Columns 4–5: runs [16, 8], compressed by hand: 16 → '`0' (5 bits 10000 with "more", then 0), 8 → '8'.
    {
      id: 3,
      image_id: 7,
      category_id: 17,
      iscrowd: 1,
      bbox: [4, 0, 2, 4],
      segmentation: { counts: '`08', size: [4, 6] },
    },
  ],
});

/** root/annotations/instances_val.json with the images in root/val/ (found by the name's split). */
function cocoFolder(json: Json = baseJson()) {
  const root = tempDir();
  writeImage(join(root, 'val', 'x.png'), 6, 4);
  writeImage(join(root, 'val', 'y.png'), 5, 5);
  const path = writeFile(join(root, 'annotations', 'instances_val.json'), JSON.stringify(json));
  return { root, path };
}

async function rejects(p: Promise<unknown>, code: string, ...parts: string[]) {
  try {
    await p;
  } catch (e) {
    assert.ok(isGradsightError(e), String(e));
    assert.equal(e.code, code, e.message);
    for (const part of parts) assert.ok(e.message.includes(part), `"${e.message}" should include "${part}"`);
    assert.ok(e.hint && e.hint.length > 10, 'a hint');
    return;
  }
  assert.fail(`expected a ${code} error`);
}

async function firstMask(json: Json) {
  const [s] = [...(await openDataset(cocoFolder(json).path)).samples()];
  return s!.mask!();
}

describe('COCO instances', () => {
  test('boxes, labels and the class mask of a hand-made JSON', async () => {
    const { root, path } = cocoFolder();
    const ds = await openDataset(path);
    assert.equal(ds.format, 'coco');
    assert.equal(ds.root, join(root, 'val'));
    assert.deepEqual(ds.classes, ['cat', 'dog']);
    const [x, y] = [...ds.samples()];
    assert.equal(x!.id, '7');
    assert.equal(x!.image, join(root, 'val', 'x.png'));
    assert.deepEqual(x!.labels, ['cat', 'dog']);
    // [1, 0.5, 3, 2]: centres 1.5..3.5 in [1, 4], 0.5..2.5 in [0.5, 2.5]. The crowd gives no box.
    assert.deepEqual(x!.boxes, [
      { label: 'cat', box: { x0: 1, y0: 0, x1: 3, y1: 2 } },
      { label: 'dog', box: { x0: 0, y0: 3, x1: 5, y1: 3 } },
    ]);
    const m = await x!.mask!();
    assert.deepEqual(m.classes, ['background', 'cat', 'dog']);
    // Crowd (columns 4–5) is void where no other object is; the dog's row stays dog.
    assert.deepEqual(rows(m.data, m.width), ['0111vv', '0111vv', '0111vv', '222222']);
    assert.deepEqual(y!.labels, []);
    assert.deepEqual([...(await y!.mask!()).data], new Array(25).fill(0));
  });

  test('compressed RLE by hand: a negative difference and a multi-character count', () => {
    // counts[3] = 1 is stored as 1 − counts[1] = −1 → 31 → 'O'; 100 = 4 + 3·32 → 'T3'.
    assert.deepEqual(decodeRleString('523O'), [5, 2, 3, 1]);
    assert.deepEqual(decodeRleString('T3'), [100]);
    assert.deepEqual(decodeRleString(''), []);
  });

  const script = fileURLToPath(new URL('coco_reference.py', import.meta.url));
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import numpy, PIL'], { encoding: 'utf8' });
  const noPython =
    probe.status === 0
      ? false
      : `/usr/bin/python3 with numpy and PIL is not available (${probe.error?.message ?? probe.stderr.trim()})`;

  test('RLE and polygons against the NumPy/PIL oracle', { skip: noPython }, () => {
    const out = spawnSync('/usr/bin/python3', [script], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    assert.equal(out.status, 0, out.stderr);
    const ref = JSON.parse(out.stdout) as {
      rle: { height: number; width: number; counts: number[]; string: string; mask: string }[];
      polygons: {
        height: number;
        width: number;
        polygon: number[];
        centre: string;
        pil: string;
        band: string;
      }[];
    };
    const bits = (m: Uint8Array) => Array.from(m, (v) => (v ? '1' : '0')).join('');
    for (const r of ref.rle) {
      assert.deepEqual(decodeRleString(r.string), r.counts, `${r.height}×${r.width} string`);
      for (const counts of [r.counts, decodeRleString(r.string)]) {
        const m = new Uint8Array(r.width * r.height);
        paintRle(m, r.width, r.height, counts, 1);
        assert.equal(bits(m), r.mask, `${r.height}×${r.width} RLE mask, pixel by pixel`);
      }
    }
    let pilDiffs = 0;
    let boundary = 0;
    for (const [k, p] of ref.polygons.entries()) {
      const m = new Uint8Array(p.width * p.height);
      paintPolygon(m, p.width, p.height, p.polygon, 1);
      const got = bits(m);
      // Same convention (centres, even-odd), a different algorithm: equal pixel by pixel.
      assert.equal(got, p.centre, `polygon ${k}: centre rule`);
      // PIL's own convention (spans plus edges drawn between rounded vertices) may differ only near the outline.
      for (let i = 0; i < got.length; i++) {
        if (p.band[i] === '1') boundary++;
        if (got[i] !== p.pil[i]) {
          pilDiffs++;
          assert.equal(p.band[i], '1', `polygon ${k}: pixel ${i} differs from PIL away from the outline`);
        }
      }
    }
    assert.ok(pilDiffs < boundary / 2, `PIL disagrees on ${pilDiffs} of ${boundary} boundary pixels`);
  });

  test('malformed RLE: a character outside the alphabet, a cut count, runs that do not cover the image', async () => {
    const withSeg = (segmentation: unknown) => {
      const j = baseJson();
      j.annotations = [{ id: 5, image_id: 7, category_id: 17, bbox: [0, 0, 1, 1], segmentation }];
      return j;
    };
    await rejects(
      firstMask(withSeg({ counts: '5~', size: [4, 6] })),
      'annotation-invalid',
      'annotation 5',
      'not an RLE character',
    );
    await rejects(
      firstMask(withSeg({ counts: '5`', size: [4, 6] })),
      'annotation-invalid',
      'ends inside a count',
    );
    await rejects(
      firstMask(withSeg({ counts: [3, 1], size: [4, 6] })),
      'annotation-invalid',
      'cover 4 pixels, not the 4×6 = 24',
    );
    await rejects(
      firstMask(withSeg({ counts: [30], size: [4, 6] })),
      'annotation-invalid',
      'more than the 4×6',
    );
    await rejects(
      firstMask(withSeg({ counts: [24], size: [6, 4] })),
      'annotation-invalid',
      'RLE size [6, 4]',
    );
    await rejects(
      firstMask(withSeg({ counts: { a: 1 }, size: [4, 6] })),
      'annotation-invalid',
      'neither a list nor a compressed string',
    );
    await rejects(firstMask(withSeg({ size: 3 })), 'annotation-invalid', 'neither polygons nor an RLE');
    await rejects(firstMask(withSeg([[0, 0, 1, 1]])), 'annotation-invalid', '≥ 3 points');
  });

  test('boxes outside the image or inverted, unknown categories, missing images', async () => {
    const withBox = (bbox: unknown) => {
      const j = baseJson();
      j.annotations = [{ id: 6, image_id: 7, category_id: 17, bbox }];
      return j;
    };
    await rejects(
      openDataset(cocoFolder(withBox([5, 0, 4, 2])).path),
      'annotation-invalid',
      'annotation 6',
      'outside the 6×4 image',
    );
    await rejects(openDataset(cocoFolder(withBox([1, 1, -2, 2])).path), 'annotation-invalid', 'x1 < x0');
    await rejects(openDataset(cocoFolder(withBox([1, 1])).path), 'annotation-invalid', 'not [x, y, w, h]');
    const j = baseJson();
    j.annotations = [{ id: 8, image_id: 7, category_id: 99, bbox: [0, 0, 1, 1] }];
    await rejects(openDataset(cocoFolder(j).path), 'annotation-invalid', 'unknown category_id 99');
    const missing = baseJson();
    missing.images.push({ id: 11, file_name: 'z.png', width: 5, height: 5 });
    await rejects(openDataset(cocoFolder(missing).path), 'dataset-image-missing', 'image 11', 'z.png');
    const nowhere = baseJson();
    nowhere.images = [{ id: 1, file_name: 'none.png', width: 5, height: 5 }];
    await rejects(openDataset(cocoFolder(nowhere).path), 'dataset-invalid', 'cannot find its images');
  });
});
