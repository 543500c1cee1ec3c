// parseTarget on every form the CLI and the library accept (the specs as data), and on malformed
// forms (a typed 'bad-argument' error with a hint, never a silent label lookup).

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
  test('log-probability and sigmoid, of the prediction or of a class', () => {
    assert.deepEqual(parseTarget('logprob'), { kind: 'log-probability' });
    assert.deepEqual(parseTarget('log-prob:3'), { kind: 'log-probability', of: 3 });
    assert.deepEqual(parseTarget('logprobability:tabby cat'), { kind: 'log-probability', of: 'tabby cat' });
    assert.deepEqual(parseTarget('sigmoid'), { kind: 'sigmoid' });
    assert.deepEqual(parseTarget('SIGMOID:7'), { kind: 'sigmoid', of: 7 });
  });
  test('region of a dense output', () => {
    assert.deepEqual(parseTarget('region:12'), { kind: 'region', of: 12 });
    assert.deepEqual(parseTarget('region:dog'), { kind: 'region', of: 'dog' });
  });
  test('detections: all, the K best, one class, the one best matching a box', () => {
    assert.deepEqual(parseTarget('det'), { kind: 'detection' });
    assert.deepEqual(parseTarget('detections'), { kind: 'detection' });
    assert.deepEqual(parseTarget('det:3'), { kind: 'detection', count: 3 });
    assert.deepEqual(parseTarget('det:person'), { kind: 'detection', of: 'person' });
    assert.deepEqual(parseTarget('det:box=10, 20.5,30,40'), { kind: 'detection', box: [10, 20.5, 30, 40] });
  });
  test('a regression output up or down, all outputs or one', () => {
    assert.deepEqual(parseTarget('up'), { kind: 'direction', sign: 1 });
    assert.deepEqual(parseTarget('down'), { kind: 'direction', sign: -1 });
    assert.deepEqual(parseTarget('up:2'), { kind: 'direction', sign: 1, index: 2 });
    assert.deepEqual(parseTarget('DOWN:0'), { kind: 'direction', sign: -1, index: 0 });
  });
  test('counterfactual: (or cf:) is a modifier of any form; twice cancels', () => {
    assert.deepEqual(parseTarget('counterfactual:pred'), { kind: 'predicted', counterfactual: true });
    assert.deepEqual(parseTarget('cf:top:3'), { kind: 'top', k: 3, counterfactual: true });
    assert.deepEqual(parseTarget('CF: 281-vs-282'), {
      kind: 'contrast',
      a: 281,
      b: 282,
      counterfactual: true,
    });
    assert.deepEqual(parseTarget('counterfactual:prob:tabby'), {
      kind: 'probability',
      of: 'tabby',
      counterfactual: true,
    });
    assert.deepEqual(parseTarget('cf:det:2'), { kind: 'detection', count: 2, counterfactual: true });
    assert.deepEqual(parseTarget('cf:tabby cat'), { kind: 'label', text: 'tabby cat', counterfactual: true });
    assert.deepEqual(parseTarget('cf:cf:pred'), { kind: 'predicted', counterfactual: false });
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
    'logprob:',
    'sigmoid:',
    'det:0',
    'det:box=1,2,3',
    'det:box=10,10,5,20',
    'det:box=a,b,c,d',
    'up:x',
    'down:',
    'counterfactual:',
    'cf:top:0',
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
