// parseTarget on every form the CLI and the library accept, and on malformed forms (a typed
// 'bad-argument' error with a hint, never a silent label lookup).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import { parseTarget } from '../../src/targets/index.ts';

describe('parseTarget', () => {
  test('predicted class', () => {
    assert.deepEqual(parseTarget('pred'), { kind: 'predicted' });
    assert.deepEqual(parseTarget('predicted'), { kind: 'predicted' });
    assert.deepEqual(parseTarget('  pred '), { kind: 'predicted' });
  });
  test('top-k', () => {
    assert.deepEqual(parseTarget('top:3'), { kind: 'top', k: 3 });
    assert.deepEqual(parseTarget('top=5'), { kind: 'top', k: 5 });
    assert.deepEqual(parseTarget('TOP2'), { kind: 'top', k: 2 });
  });
  test('class index and label text', () => {
    assert.deepEqual(parseTarget('281'), { kind: 'class', index: 281 });
    assert.deepEqual(parseTarget('0'), { kind: 'class', index: 0 });
    assert.deepEqual(parseTarget('tabby cat'), { kind: 'label', text: 'tabby cat' });
    assert.deepEqual(parseTarget(' Egyptian cat '), { kind: 'label', text: 'Egyptian cat' });
  });
  test('A-vs-B contrast by index or label', () => {
    assert.deepEqual(parseTarget('281-vs-282'), { kind: 'contrast', a: 281, b: 282 });
    assert.deepEqual(parseTarget('cat-vs-dog'), { kind: 'contrast', a: 'cat', b: 'dog' });
    assert.deepEqual(parseTarget('tabby cat -vs- 282'), { kind: 'contrast', a: 'tabby cat', b: 282 });
  });
  test('probability, of the prediction or of a class', () => {
    assert.deepEqual(parseTarget('prob'), { kind: 'probability' });
    assert.deepEqual(parseTarget('probability'), { kind: 'probability' });
    assert.deepEqual(parseTarget('prob:5'), { kind: 'probability', of: 5 });
    assert.deepEqual(parseTarget('prob:tabby'), { kind: 'probability', of: 'tabby' });
  });
  test('region of a dense output', () => {
    assert.deepEqual(parseTarget('region:12'), { kind: 'region', of: 12 });
    assert.deepEqual(parseTarget('region:dog'), { kind: 'region', of: 'dog' });
  });
  for (const bad of [
    '',
    '   ',
    'top:0',
    'top:',
    'top:x',
    'top:-1',
    'prob:',
    'region:',
    '-vs-dog',
    'cat-vs-',
  ]) {
    test(`malformed ${JSON.stringify(bad)} is a bad-argument error with a hint`, () => {
      assert.throws(
        () => parseTarget(bad),
        (e: unknown) =>
          e instanceof GradsightError &&
          e.code === 'bad-argument' &&
          typeof e.hint === 'string' &&
          e.hint.length > 0,
      );
    });
  }
});
