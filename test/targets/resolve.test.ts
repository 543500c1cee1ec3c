// resolveTargets: rows and seeds for every target kind, checked against hand values and (for the
// probability seed) against central finite differences of a float64 softmax written here.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GradsightError } from '../../src/errors.ts';
import { parseTarget, type ResolveInput, resolveTargets } from '../../src/targets/index.ts';

const LABELS = ['tench', 'tabby, tabby cat', 'tiger cat', 'Persian cat', 'dog'];
const LOGITS = [0.5, 3, 2.25, -1, 1];

function input(over: Partial<ResolveInput> = {}): ResolveInput {
  return { output: Float32Array.from(LOGITS), images: 1, rowDims: [5], labels: LABELS, ...over };
}
const rows = (target: string, over: Partial<ResolveInput> = {}) =>
  resolveTargets([parseTarget(target)], input(over));
const oneHot = (n: number, c: number) => Array.from({ length: n }, (_, i) => (i === c ? 1 : 0));

function throwsBad(f: () => unknown, code: string, hint?: RegExp) {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof GradsightError);
    assert.equal(e.code, code);
    if (hint) assert.match(e.hint ?? '', hint);
    return true;
  });
}

describe('resolveTargets on a classifier output', () => {
  test('pred: the argmax logit, one-hot seed, score = that logit', () => {
    const [r, ...rest] = rows('pred');
    assert.equal(rest.length, 0);
    assert.equal(r!.index, 1);
    assert.deepEqual([...r!.seed], oneHot(5, 1));
    assert.equal(r!.score(Float32Array.from(LOGITS)), 3);
    assert.equal(r!.counterfactual, false);
  });

  test('top:3 gives rows in descending score order; two images give 2 × 3 rows, image-major', () => {
    assert.deepEqual(
      rows('top:3').map((r) => r.index),
      [1, 2, 4],
    );
    const two = Float32Array.from([...LOGITS, 9, 0, 0, 8, 7]);
    const rs = resolveTargets([parseTarget('top:3')], input({ output: two, images: 2 }));
    assert.deepEqual(
      rs.map((r) => [r.image, r.index]),
      [
        [0, 1],
        [0, 2],
        [0, 4],
        [1, 0],
        [1, 3],
        [1, 4],
      ],
    );
    rs.forEach((r) => {
      assert.deepEqual([...r.seed], oneHot(5, r.index!));
    });
  });

  test('class index and exact label (case-insensitive)', () => {
    assert.equal(rows('3')[0]!.index, 3);
    assert.equal(rows('tiger cat')[0]!.index, 2);
    assert.equal(rows('PERSIAN CAT')[0]!.index, 3);
    assert.equal(rows('tabby, tabby cat')[0]!.index, 1);
  });

  test('a synonym of a label line ("tabby" in "tabby, tabby cat")', () => {
    assert.equal(rows('tabby')[0]!.index, 1);
    assert.equal(rows('tabby cat')[0]!.index, 1);
  });

  test('a unique substring resolves; an ambiguous one lists the candidates', () => {
    assert.equal(rows('tenc')[0]!.index, 0);
    throwsBad(
      () => rows('cat'),
      'bad-argument',
      /tabby, tabby cat \(1\).*tiger cat \(2\).*Persian cat \(3\)/,
    );
  });

  test('an unknown label lists the closest labels', () => {
    throwsBad(() => rows('tigr cat'), 'bad-argument', /closest labels: tiger cat \(2\)/);
  });

  test('a label without labels is a bad-labels error', () => {
    throwsBad(() => rows('dog', { labels: undefined }), 'bad-labels', /class index/);
  });

  test('out-of-range class index', () => {
    throwsBad(() => rows('5'), 'bad-argument');
    throwsBad(() => rows('5-vs-1'), 'bad-argument');
    throwsBad(() => rows('prob:7'), 'bad-argument');
    assert.match(
      (() => {
        try {
          rows('99');
        } catch (e) {
          return (e as Error).message;
        }
        return '';
      })(),
      /0 to 4/,
    );
  });

  test('contrast: seed e_a − e_b, score y_a − y_b, by index and by label', () => {
    for (const t of ['1-vs-2', 'tabby-vs-tiger cat']) {
      const [r] = rows(t);
      assert.equal(r!.index, 1);
      assert.deepEqual([...r!.seed], [0, 1, -1, 0, 0]);
      assert.equal(r!.score(Float32Array.from(LOGITS)), 3 - 2.25);
      assert.match(r!.description, /tabby.*\(1\) vs tiger cat \(2\)/);
    }
  });

  test('probability: seed p_c(e_c − p) equals central differences of softmax; score = p_c', () => {
    const soft = (z: readonly number[]) => {
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    };
    for (const [t, c] of [
      ['prob', 1],
      ['prob:3', 3],
      ['prob:dog', 4],
    ] as const) {
      const [r] = rows(t);
      assert.equal(r!.index, c);
      const h = 1e-5;
      for (let j = 0; j < 5; j++) {
        const up = [...LOGITS];
        const down = [...LOGITS];
        up[j]! += h;
        down[j]! -= h;
        const fd = (soft(up)[c]! - soft(down)[c]!) / (2 * h);
        assert.ok(Math.abs(r!.seed[j]! - fd) < 1e-7, `${t} seed[${j}] ${r!.seed[j]} vs ${fd}`);
      }
      assert.ok(Math.abs(r!.score(Float32Array.from(LOGITS)) - soft(LOGITS)[c]!) < 1e-7);
    }
  });

  test('raw seed: used as is; score is the seed · output; wrong length is an error', () => {
    const seed = Float32Array.from([0.5, 0, 0, -2, 1]);
    const [r] = resolveTargets([{ kind: 'seed', seed }], input());
    assert.deepEqual([...r!.seed], [0.5, 0, 0, -2, 1]);
    assert.equal(r!.score(Float32Array.from(LOGITS)), 0.25 + 2 + 1);
    throwsBad(() => resolveTargets([{ kind: 'seed', seed: new Float32Array(3) }], input()), 'bad-argument');
  });

  test('counterfactual negates every seed and score', () => {
    for (const t of ['pred', 'top:2', '2', '1-vs-2', 'prob:3']) {
      const plain = rows(t);
      const cf = rows(t, { counterfactual: true });
      assert.equal(cf.length, plain.length);
      cf.forEach((r, i) => {
        assert.equal(r.counterfactual, true);
        assert.equal(r.index, plain[i]!.index);
        assert.deepEqual(
          [...r.seed],
          [...plain[i]!.seed].map((v) => -v),
        );
        const out = Float32Array.from(LOGITS);
        assert.equal(r.score(out), -plain[i]!.score(out));
        assert.match(r.description, /^counterfactual: /);
      });
    }
  });

  test('region targets need a dense output', () => {
    throwsBad(() => rows('region:1'), 'bad-argument');
  });
});

describe('resolveTargets on a dense [1, C, H, W] output', () => {
  // 3 classes on 2×3 pixels; argmax per pixel: [0, 1, 1 / 2, 1, 0] (class 1 wins 3, 0 wins 2, 2 wins 1).
  const dense = Float32Array.from([
    // class 0
    5, 0, 0, 0, 0, 4,
    // class 1
    1, 2, 3, 1, 6, 1,
    // class 2
    0, 1, 1, 7, 2, 0,
  ]);
  const d = (t: string, over: Partial<ResolveInput> = {}) =>
    rows(t, { output: dense, rowDims: [3, 2, 3], labels: ['bg', 'cat', 'dog'], ...over });

  test('region:c seeds the pixels where c wins the argmax; score = Σ of y_c there', () => {
    const [r] = d('region:1');
    assert.equal(r!.index, 1);
    assert.deepEqual([...r!.seed], [0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(r!.score(dense), 2 + 3 + 6);
    assert.match(r!.description, /its 3 pixels/);
    const [bg] = d('region:bg');
    assert.deepEqual([...bg!.seed], [1, 0, 0, 0, 0, 1, ...new Array(12).fill(0)]);
    assert.equal(bg!.score(dense), 9);
  });

  test('a class index, and pred / top:k rank classes by pixel share, each with its region seed', () => {
    assert.deepEqual([...d('2')[0]!.seed], [...new Array(12).fill(0), 0, 0, 0, 1, 0, 0]);
    assert.deepEqual(
      d('top:3').map((r) => r.index),
      [1, 0, 2],
    );
    assert.equal(d('pred')[0]!.index, 1);
  });

  test('an explicit mask replaces the argmax region', () => {
    const mask = Float32Array.from([1, 1, 0, 0, 0, 0.5]);
    const [r] = resolveTargets(
      [{ kind: 'region', of: 2, mask }],
      input({ output: dense, rowDims: [3, 2, 3] }),
    );
    assert.deepEqual([...r!.seed], [...new Array(12).fill(0), 1, 1, 0, 0, 0, 0.5]);
    assert.equal(r!.score(dense), 0 + 1 + 0);
  });

  test('counterfactual negates the region seed', () => {
    const [r] = d('region:1', { counterfactual: true });
    assert.equal(r!.seed[7], -1);
    assert.equal(r!.score(dense), -11);
  });

  test('contrast and probability need a classifier output', () => {
    throwsBad(() => d('1-vs-2'), 'bad-argument');
    throwsBad(() => d('prob'), 'bad-argument');
  });
});
