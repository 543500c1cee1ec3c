// PASCAL VOC reading on a hand-made VOC folder: 1-based inclusive XML boxes to 0-based inclusive,
// palette masks read back to class indices by colour, split lists, and each malformed-annotation error.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { openDataset } from '../../src/eval/datasets/index.ts';
import { vocPalette } from '../../src/eval/datasets/mask.ts';
import { rows, tempDir, VOC_COLOURS, writeFile, writeImage, writePng } from './datasets-fixtures.ts';

const xml = (objects: string, size = '<size><width>6</width><height>4</height><depth>3</depth></size>') =>
  `<?xml version="1.0"?>\n<!-- hand-made -->\n<annotation><filename>a.png</filename>${size}${objects}</annotation>`;
const obj = (name: string, [x0, y0, x1, y1]: number[], extra = '') =>
  `<object><name>${name}</name>${extra}<bndbox><xmin>${x0}</xmin><ymin>${y0}</ymin><xmax>${x1}</xmax><ymax>${y1}</ymax></bndbox></object>`;

/** A VOC2012 folder with image `a` (6×4): an XML and a palette mask; `b`: a greyscale mask only. */
function vocFolder(
  annotation = xml(obj('cat', [2, 1, 4, 3]) + obj('dog', [1, 1, 6, 4], '<difficult>1</difficult>')),
) {
  const root = tempDir();
  const voc = join(root, 'VOCdevkit', 'VOC2012');
  writeImage(join(voc, 'JPEGImages', 'a.png'), 6, 4);
  writeImage(join(voc, 'JPEGImages', 'b.png'), 3, 2);
  writeFile(join(voc, 'Annotations', 'a.xml'), annotation);
  // The PNG palette order differs from the class indices: the colour is what names the class.
  const pal = new Uint8Array([
    ...VOC_COLOURS[0]!,
    ...VOC_COLOURS[8]!,
    ...VOC_COLOURS[12]!,
    ...VOC_COLOURS[255]!,
  ]);
  const a = [0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 3, 0, 2, 2, 2, 2, 2, 2, 3, 3, 0, 0, 0, 0];
  writePng(join(voc, 'SegmentationClass', 'a.png'), 6, 4, new Uint8Array(a), { palette: pal });
  writePng(join(voc, 'SegmentationClass', 'b.png'), 3, 2, new Uint8Array([0, 15, 255, 7, 7, 0]));
  writeFile(join(voc, 'ImageSets', 'Segmentation', 'val.txt'), 'a\n');
  return { root, voc };
}

async function rejects(p: Promise<unknown> | (() => unknown), code: string, ...parts: (string | RegExp)[]) {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    assert.ok(isGradsightError(e), String(e));
    assert.equal(e.code, code, e.message);
    for (const part of parts)
      assert.match(
        e.message,
        typeof part === 'string' ? new RegExp(part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : part,
      );
    assert.ok(e.hint && e.hint.length > 10, 'a hint');
    return e;
  }
  assert.fail(`expected a ${code} error`);
}

describe('PASCAL VOC', () => {
  test('the standard palette: known entries of the VOC colour map', () => {
    const p = vocPalette();
    for (const [i, rgb] of Object.entries(VOC_COLOURS))
      assert.deepEqual([...p.subarray(3 * +i, 3 * +i + 3)], rgb, `index ${i}`);
  });

  test('boxes 1-based inclusive → 0-based inclusive; palette mask read back to class indices', async () => {
    const { root, voc } = vocFolder();
    const ds = await openDataset(root);
    assert.equal(ds.format, 'voc');
    assert.equal(ds.root, voc);
    assert.equal(ds.size, 2);
    assert.deepEqual(ds.classes, ['cat', 'dog']);
    const [a, b] = [...ds.samples()];
    assert.equal(a!.id, 'a');
    assert.equal(a!.image, join(voc, 'JPEGImages', 'a.png'));
    assert.deepEqual(a!.labels, ['cat', 'dog']);
    assert.deepEqual(a!.boxes, [
      { label: 'cat', box: { x0: 1, y0: 0, x1: 3, y1: 2 } },
      { label: 'dog', box: { x0: 0, y0: 0, x1: 5, y1: 3 }, difficult: true },
    ]);
    const m = await a!.mask!();
    assert.equal(m.classes[8], 'cat');
    assert.equal(m.classes[12], 'dog');
    assert.equal(m.void, 255);
    assert.deepEqual(rows(m.data, m.width), ['088800', '0888v0', 'cccccc', 'vv0000']);
    // b: a greyscale index mask and no XML (labels come from XML only).
    assert.deepEqual(b!.labels, []);
    const mb = await b!.mask!();
    assert.deepEqual(rows(mb.data, mb.width), ['0fv', '770']);
  });

  test('a split list selects its ids', async () => {
    const { root } = vocFolder();
    const ds = await openDataset(root, { split: 'val' });
    assert.deepEqual(
      [...ds.samples()].map((s) => s.id),
      ['a'],
    );
    await rejects(openDataset(root, { split: 'nope' }), 'dataset-invalid', 'no split "nope"');
  });

  test('malformed XML names the file and the line', async () => {
    const { root, voc } = vocFolder(xml(`<object><name>cat</name>`));
    await rejects(
      openDataset(root),
      'annotation-invalid',
      join(voc, 'Annotations', 'a.xml'),
      'bad XML at line 3',
      '</annotation> closes <object>',
    );
    await rejects(openDataset(vocFolder(xml('</object>')).root), 'annotation-invalid', 'closes <annotation>');
    await rejects(
      openDataset(vocFolder('<annotation><object>').root),
      'annotation-invalid',
      '<object> is never closed',
    );
    await rejects(
      openDataset(vocFolder('<annotation>a & b</annotation>').root),
      'annotation-invalid',
      'a bare "&"',
    );
  });

  test('a box outside the image, an inverted box, a coordinate that is not a number', async () => {
    await rejects(
      openDataset(vocFolder(xml(obj('cat', [2, 1, 7, 3]))).root),
      'annotation-invalid',
      'object 1 (cat',
      'outside the 6×4 image',
    );
    // xmin = 0 is outside VOC's 1-based coordinates.
    await rejects(
      openDataset(vocFolder(xml(obj('cat', [0, 1, 3, 3]))).root),
      'annotation-invalid',
      'outside',
    );
    await rejects(
      openDataset(vocFolder(xml(obj('cat', [4, 1, 2, 3]))).root),
      'annotation-invalid',
      'inverted (x1 < x0',
    );
    await rejects(
      openDataset(vocFolder(xml(obj('cat', [2, 1, NaN, 3]))).root),
      'annotation-invalid',
      '<xmax> is "NaN"',
    );
  });

  test('a mask colour outside the VOC palette', async () => {
    const { root, voc } = vocFolder();
    writePng(join(voc, 'SegmentationClass', 'a.png'), 6, 4, new Uint8Array(24).fill(1), {
      palette: new Uint8Array([0, 0, 0, 1, 2, 3]),
    });
    const [a] = [...(await openDataset(root)).samples()];
    await rejects(
      a!.mask!(),
      'annotation-invalid',
      'pixel (0, 0) has the colour (1, 2, 3)',
      'not in the PASCAL VOC palette',
    );
  });

  test('an annotated image that is missing', async () => {
    const { root, voc } = vocFolder();
    writeFile(join(voc, 'Annotations', 'c.xml'), xml(obj('cat', [1, 1, 2, 2])));
    await rejects(
      openDataset(root),
      'dataset-image-missing',
      join(voc, 'Annotations', 'c.xml'),
      join(voc, 'JPEGImages', 'c.jpg'),
    );
  });
});
