// CSV/JSONL manifests and a folder per class on hand-made folders, autodetection, and their errors
// (a missing image names the manifest line; a box outside its image; a mask class list without
// background; duplicate ids; an unrecognised dataset).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { openDataset } from '../../src/eval/datasets/index.ts';
import { rows, tempDir, writeFile, writeImage, writePng } from './datasets-fixtures.ts';

async function rejects(p: Promise<unknown> | (() => unknown), code: string, ...parts: string[]) {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    assert.ok(isGradsightError(e), String(e));
    assert.equal(e.code, code, e.message);
    for (const part of parts) assert.ok(e.message.includes(part), `"${e.message}" should include "${part}"`);
    assert.ok(e.hint && e.hint.length > 10, 'a hint');
    return;
  }
  assert.fail(`expected a ${code} error`);
}

function images(root: string) {
  writeImage(join(root, 'img', 'a.png'), 8, 6);
  writeImage(join(root, 'img', 'b.png'), 4, 4);
  writePng(
    join(root, 'masks', 'a.png'),
    8,
    6,
    new Uint8Array(48).map((_, i) => (i % 8 < 2 ? 1 : i % 8 === 7 ? 255 : 0)),
  );
}

const CSV_HEADER = 'image,labels,boxes,mask,mask_classes';

describe('manifests and class folders', () => {
  test('CSV: quoted JSON boxes, ;-separated labels, a mask with its class list', async () => {
    const root = tempDir();
    images(root);
    writeFile(
      join(root, 'list.csv'),
      `${CSV_HEADER}\r\nimg/a.png,cat;sofa,"[{""label"":""cat"",""x0"":0,""y0"":1,""x1"":7,""y1"":5},{""label"":""dog"",""x0"":1,""y0"":1,""x1"":1,""y1"":1}]",masks/a.png,background;cat\r\nimg/b.png,dog,,,\r\n`,
    );
    const ds = await openDataset(join(root, 'list.csv'));
    assert.equal(ds.format, 'manifest-csv');
    assert.equal(ds.size, 2);
    assert.deepEqual(ds.classes, ['cat', 'sofa', 'dog']);
    const [a, b] = [...ds.samples()];
    assert.equal(a!.id, 'img/a.png');
    assert.equal(a!.image, join(root, 'img', 'a.png'));
    assert.deepEqual(a!.labels, ['cat', 'sofa', 'dog']);
    assert.deepEqual(a!.boxes, [
      { label: 'cat', box: { x0: 0, y0: 1, x1: 7, y1: 5 } },
      { label: 'dog', box: { x0: 1, y0: 1, x1: 1, y1: 1 } },
    ]);
    const m = await a!.mask!();
    assert.deepEqual(m.classes, ['background', 'cat']);
    assert.deepEqual(rows(m.data, 8), new Array(6).fill('1100000v'));
    assert.deepEqual(b!.labels, ['dog']);
    assert.equal(b!.mask, undefined);
  });

  test('JSONL: arrays, mask as { path, classes }, explicit ids; found as manifest.jsonl in a folder', async () => {
    const root = tempDir();
    images(root);
    writeFile(
      join(root, 'manifest.jsonl'),
      [
        JSON.stringify({
          id: 'first',
          image: 'img/a.png',
          labels: ['cat'],
          mask: { path: 'masks/a.png', classes: ['background', 'cat'] },
        }),
        '',
        JSON.stringify({ image: 'img/b.png', boxes: [{ label: 'dog', x0: 0, y0: 0, x1: 3, y1: 3 }] }),
      ].join('\n'),
    );
    const ds = await openDataset(root);
    assert.equal(ds.format, 'manifest-jsonl');
    const [a, b] = [...ds.samples()];
    assert.equal(a!.id, 'first');
    assert.equal((await a!.mask!()).data[0], 1);
    assert.deepEqual(b!.labels, ['dog']);
    assert.deepEqual(b!.boxes, [{ label: 'dog', box: { x0: 0, y0: 0, x1: 3, y1: 3 } }]);
  });

  test('a missing image names the manifest line', async () => {
    const root = tempDir();
    images(root);
    writeFile(join(root, 'm.csv'), `image,labels\nimg/a.png,cat\nimg/nope.png,dog\n`);
    await rejects(
      openDataset(join(root, 'm.csv')),
      'dataset-image-missing',
      `${join(root, 'm.csv')} line 3`,
      join(root, 'img', 'nope.png'),
    );
    writeFile(join(root, 'm.jsonl'), `{"image": "img/a.png"}\n{"image": "gone.jpg"}\n`);
    await rejects(openDataset(join(root, 'm.jsonl')), 'dataset-image-missing', 'm.jsonl line 2', 'gone.jpg');
  });

  test('malformed rows: a box outside its image, an inverted box, bad JSON, no background in the mask classes', async () => {
    const root = tempDir();
    images(root);
    const csv = (row: string) => writeFile(join(root, `t${Math.random()}.csv`), `${CSV_HEADER}\n${row}\n`);
    // b.png is 4×4: x1 = 4 is outside (found when the sample is reached: the size comes from the image header).
    const outside = await openDataset(
      csv('img/b.png,,"[{""label"":""cat"",""x0"":0,""y0"":0,""x1"":4,""y1"":2}]",,'),
    );
    await rejects(
      () => [...outside.samples()],
      'annotation-invalid',
      'line 2 (box of cat)',
      'outside the 4×4 image',
    );
    await rejects(
      openDataset(csv('img/b.png,,"[{""label"":""cat"",""x0"":3,""y0"":0,""x1"":1,""y1"":2}]",,')),
      'annotation-invalid',
      'inverted',
    );
    await rejects(
      openDataset(csv('img/b.png,,"[{""label"":""cat""}]",,')),
      'annotation-invalid',
      'not { label, x0, y0, x1, y1 }',
    );
    await rejects(openDataset(csv('img/b.png,,[oops,,')), 'annotation-invalid', 'is not JSON');
    await rejects(openDataset(csv('img/a.png,,,masks/a.png,cat')), 'annotation-invalid', 'starts with "cat"');
    await rejects(openDataset(csv('img/a.png,cat,"unclosed')), 'annotation-invalid', 'never closed');
    await rejects(openDataset(csv('img/a.png,cat')), 'annotation-invalid', 'has 2 fields, the header 5');
    writeFile(join(root, 'dup.csv'), 'image\nimg/a.png\nimg/a.png\n');
    await rejects(openDataset(join(root, 'dup.csv')), 'dataset-invalid', 'line 3 repeats the id "img/a.png"');
    writeFile(join(root, 'noimage.csv'), 'file,labels\nimg/a.png,cat\n');
    await rejects(openDataset(join(root, 'noimage.csv')), 'dataset-invalid', 'no "image" column');
    writeFile(join(root, 'bad.jsonl'), '{"image": "img/a.png"}\n{nope\n');
    await rejects(openDataset(join(root, 'bad.jsonl')), 'annotation-invalid', 'bad.jsonl line 2', 'not JSON');
  });

  test('a mask of another size than its image', async () => {
    const root = tempDir();
    images(root);
    writeFile(
      join(root, 'm.jsonl'),
      `${JSON.stringify({ image: 'img/b.png', boxes: [{ label: 'cat', x0: 0, y0: 0, x1: 1, y1: 1 }], mask: 'masks/a.png', mask_classes: ['background', 'cat'] })}\n`,
    );
    const [s] = [...(await openDataset(join(root, 'm.jsonl'))).samples()];
    await rejects(s!.mask!(), 'annotation-invalid', 'is 8×6 but its image is 4×4');
  });

  test('a folder per class: sorted classes and files, split folders', async () => {
    const root = tempDir();
    for (const f of ['b/2.png', 'b/10.png', 'a/x.jpg', 'a/.hidden.png', 'a/notes.txt'])
      writeImage(join(root, 'train', f), 2, 2);
    writeImage(join(root, 'test', 'a', 'y.png'), 2, 2);
    writeFile(join(root, 'README.md'), 'hi');
    await rejects(openDataset(root), 'dataset-invalid', 'several splits (test, train)');
    const ds = await openDataset(root, { split: 'train' });
    assert.equal(ds.format, 'folder');
    assert.deepEqual(ds.classes, ['a', 'b']);
    // notes.txt is a PNG named .txt: not an image name, so skipped; hidden files too.
    assert.deepEqual(
      [...ds.samples()].map((s) => [s.id, s.labels]),
      [
        ['a/x.jpg', ['a']],
        ['b/10.png', ['b']],
        ['b/2.png', ['b']],
      ],
    );
    assert.equal(ds.size, 3);
  });

  test('autodetection refuses what it cannot read, and paths that do not exist', async () => {
    const root = tempDir();
    writeFile(join(root, 'x.txt'), 'hello');
    await rejects(openDataset(root), 'dataset-invalid', 'cannot tell the format');
    writeFile(join(root, 'other.json'), '{"a": 1}');
    await rejects(openDataset(join(root, 'other.json')), 'dataset-invalid', 'cannot tell the format');
    writeFile(join(root, 'broken.json'), '{"a": ');
    await rejects(openDataset(join(root, 'broken.json')), 'annotation-invalid', 'is not valid JSON');
    await rejects(openDataset(join(root, 'absent')), 'file-not-found', 'does not exist');
  });
});
