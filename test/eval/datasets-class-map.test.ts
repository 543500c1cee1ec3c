// Class mapping on hand-made labels: direct matches (full label or synonym, case and _ insensitive),
// class-map entries (labels, indices, [] on purpose), and its errors with the closest labels.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { loadClassMap, mapClasses } from '../../src/eval/datasets/index.ts';
import { tempDir, writeFile } from './datasets-fixtures.ts';

const LABELS = [
  'background',
  'tabby, tabby cat',
  'tiger cat',
  'crane',
  'crane',
  'golden retriever',
  'sea lion',
];

function rejects(f: () => unknown, code: string, ...parts: string[]) {
  try {
    f();
  } catch (e) {
    assert.ok(isGradsightError(e), String(e));
    assert.equal(e.code, code, e.message);
    for (const part of parts) assert.ok(e.message.includes(part), `"${e.message}" should include "${part}"`);
    assert.ok(e.hint && e.hint.length > 10, 'a hint');
    return e;
  }
  assert.fail(`expected a ${code} error`);
}

describe('class maps', () => {
  test('direct: a full label or a synonym, case-insensitive, spaces and underscores alike', () => {
    const m = mapClasses(['Tabby_Cat', 'tabby', 'tiger  cat', 'sea_lion', 'crane'], LABELS);
    assert.deepEqual(Object.fromEntries(m), {
      Tabby_Cat: [1],
      tabby: [1],
      'tiger  cat': [2],
      sea_lion: [6],
      crane: [3, 4],
    });
  });

  test('a class map: labels, synonyms, indices, [] on purpose; it overrides a direct match', () => {
    const map = {
      source: 'test',
      entries: { cat: ['tabby cat', 'tiger cat', 1], dog: [5], tabby: ['tiger cat'], person: [] },
    };
    const m = mapClasses(['cat', 'dog', 'tabby', 'person'], LABELS, map);
    assert.deepEqual(Object.fromEntries(m), { cat: [1, 2], dog: [5], tabby: [2], person: [] });
  });

  test('a class map file', () => {
    const dir = tempDir();
    const path = writeFile(
      join(dir, 'map.json'),
      JSON.stringify({ feline: ['tabby'], DOG: ['Golden_Retriever'] }),
    );
    assert.deepEqual(Object.fromEntries(mapClasses(['feline', 'dog'], LABELS, path)), {
      feline: [1],
      dog: [5],
    });
    assert.equal(loadClassMap(path).source, path);
    assert.equal(loadClassMap('voc-imagenet').source, 'voc-imagenet');
  });

  test('a class the model lacks names the closest labels; several are listed', () => {
    const e = rejects(
      () => mapClasses(['tiger', 'lion', 'tabby'], LABELS),
      'label-unknown',
      'the dataset class "tiger" is not a label of the model',
      '(and 1 more: lion)',
      '"tiger cat"',
    );
    assert.deepEqual(e.details.unknown, ['tiger', 'lion']);
    assert.doesNotMatch(e.hint!, /voc-imagenet/);
    // A VOC class name suggests the shipped VOC → ImageNet map.
    assert.match(rejects(() => mapClasses(['cat'], LABELS), 'label-unknown', '"cat"').hint!, /voc-imagenet/);
    rejects(
      () => mapClasses(['tiger'], LABELS, { source: 'm.json', entries: {} }),
      'label-unknown',
      'the class map m.json does not map it',
    );
  });

  test('bad class-map entries: an unknown label, an ambiguous name, an index out of range', () => {
    const map = (entries: Record<string, (string | number)[]>) => ({ source: 'm.json', entries });
    rejects(
      () => mapClasses(['cat'], LABELS, map({ cat: ['tabby kitty'] })),
      'label-unknown',
      'maps "cat" to "tabby kitty", which is not a label',
      'closest',
    );
    rejects(
      () => mapClasses(['bird'], LABELS, map({ bird: ['crane'] })),
      'label-unknown',
      'several labels match (3: "crane", 4: "crane")',
    );
    rejects(() => mapClasses(['cat'], LABELS, map({ cat: [7] })), 'label-unknown', 'outputs 0..6');
  });

  test('malformed class-map files', () => {
    const dir = tempDir();
    rejects(() => loadClassMap(join(dir, 'none.json')), 'dataset-invalid', 'does not exist');
    rejects(
      () => loadClassMap(writeFile(join(dir, 'a.json'), '{"cat": ')),
      'dataset-invalid',
      'not valid JSON',
    );
    rejects(
      () => loadClassMap(writeFile(join(dir, 'b.json'), '["cat"]')),
      'dataset-invalid',
      'not a JSON object',
    );
    rejects(
      () => loadClassMap(writeFile(join(dir, 'c.json'), '{"cat": "tabby"}')),
      'dataset-invalid',
      'maps "cat" to "tabby", not a list',
    );
    rejects(
      () => loadClassMap(writeFile(join(dir, 'd.json'), '{"cat": [1.5]}')),
      'dataset-invalid',
      'not a list of labels or indices',
    );
  });
});
