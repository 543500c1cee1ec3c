// Labels: parsing (CRLF, trailing newline, BOM), the index → line mapping checked on the real MobileNet
// files (output 286 is "Egyptian cat", index 0 is background), fallbacks and typed errors.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { labelFor, parseLabels } from '../../src/image/labels.ts';
import { loadLabelsFile, loadLabelsNextTo } from '../../src/image/labels-node.ts';
import { modelPath, skipNoShared } from '../helpers/shared.ts';

test('one label per line; a final newline adds no label; CRLF and BOM are handled', () => {
  assert.deepEqual(parseLabels('a\nb\n'), ['a', 'b']);
  assert.deepEqual(parseLabels('a\r\nb\r\n'), ['a', 'b']);
  assert.deepEqual(parseLabels('\uFEFFa\nb'), ['a', 'b']);
  assert.deepEqual(parseLabels('a\n\nc\n'), ['a', '', 'c']);
});

test('labelFor falls back to "class i"', () => {
  const l = parseLabels('cat\n\ndog\n');
  assert.equal(labelFor(l, 0), 'cat');
  assert.equal(labelFor(l, 1), 'class 1'); // blank line
  assert.equal(labelFor(l, 3), 'class 3'); // out of range
  assert.equal(labelFor(undefined, 7), 'class 7');
});

test('empty or binary label files are bad-labels', () => {
  assert.throws(
    () => parseLabels('', 'l.txt'),
    (e: unknown) => isGradsightError(e, 'bad-labels') && /l\.txt is empty/.test(e.message),
  );
  assert.throws(
    () => parseLabels('a\0b', 'l.txt'),
    (e: unknown) => isGradsightError(e, 'bad-labels'),
  );
});

test('real MobileNet labels: output index i is line i (background at 0)', {
  skip: skipNoShared,
}, async () => {
  const v2 = await loadLabelsNextTo(modelPath('mobilenet_v2_1.0_224_quant'));
  assert.equal(v2?.length, 1001);
  assert.equal(labelFor(v2, 0), 'background');
  assert.equal(labelFor(v2, 286), 'Egyptian cat'); // VERIFY.md: "Egyptian cat (286)"
  assert.equal(labelFor(v2, 20), 'chickadee');
  const birds = await loadLabelsNextTo(modelPath('mobilenet_v2_1.0_224_inat_bird_quant'));
  assert.equal(birds?.length, 965);
  assert.equal(labelFor(birds, 964), 'background'); // last = background, labelOffset 0
  assert.equal(await loadLabelsNextTo(modelPath('squeezenet1_1_random')), undefined);
});

test('loadLabelsFile: missing, optional, directory, non-UTF-8', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-labels-'));
  try {
    const missing = join(dir, 'nope.txt');
    await assert.rejects(loadLabelsFile(missing), (e: unknown) => isGradsightError(e, 'file-not-found'));
    assert.equal(await loadLabelsFile(missing, { optional: true }), undefined);
    await assert.rejects(loadLabelsFile(dir), (e: unknown) => isGradsightError(e, 'file-unreadable'));
    await writeFile(join(dir, 'latin1.txt'), new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    await assert.rejects(loadLabelsFile(join(dir, 'latin1.txt')), (e: unknown) =>
      isGradsightError(e, 'bad-labels'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
