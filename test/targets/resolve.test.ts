// targetOf + resolveRows + scoreOf: the rows, seeds and explained scalars of every built-in target
// kind, on values built here (no model): hand values for linear targets; for nonlinear ones the head
// each target asks for, with T computed here in float64 from the scores (an independent softmax /
// sigmoid), and the counterfactual modifier in its three forms. The heads' gradients themselves are
// checked against finite differences on real models in test/targets/heads.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Decoder, Detection } from '../../src/detect/types.ts';
import { GradsightError } from '../../src/errors.ts';
import {
  counterfactual,
  logSoftmaxHead,
  parseTarget,
  resolveRows,
  scoreOf,
  sigmoidHead,
  softmaxHead,
  type Target,
  type TargetEnv,
  type TargetRow,
  type TargetSpec,
  type TargetValues,
  targetOf,
} from '../../src/targets/index.ts';

const LABELS = ['tench', 'tabby, tabby cat', 'tiger cat', 'Persian cat', 'dog'];
const LOGITS = [0.5, 3, 2.25, -1, 1];

type Values = Omit<TargetValues, 'image'>;

/** What a target sees of one image: x (the scores) and T (= x, or a head applied to x here). */
function values(x: readonly number[], over: Partial<Values> = {}): Values {
  const xs = Float32Array.from(x);
  return {
    x: xs,
    xDims: [x.length],
    t: xs,
    tDims: [x.length],
    labels: LABELS,
    inputSize: [8, 8],
    originalSize: undefined,
    ...over,
  };
}

const asTarget = (t: string | TargetSpec, env: TargetEnv = {}): Target =>
  targetOf(typeof t === 'string' ? parseTarget(t) : t, env);

/** The rows of one target over images whose values are given, images outer. */
function rowsOf(
  t: string | TargetSpec | Target,
  images: readonly Values[],
  env: TargetEnv = {},
): TargetRow[] {
  const target = typeof t === 'object' && 'rows' in t ? t : asTarget(t, env);
  return resolveRows(
    [target],
    images.map((v) => [v]),
  );
}
const rows = (t: string | TargetSpec, over: Partial<Values> = {}) => rowsOf(t, [values(LOGITS, over)]);
const oneHot = (n: number, c: number) => Array.from({ length: n }, (_, i) => (i === c ? 1 : 0));

// ---- the tests' own float64 arithmetic ----
const softmax64 = (z: readonly number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const sigmoid64 = (z: readonly number[]) => z.map((v) => 1 / (1 + Math.exp(-v)));

function throwsBad(f: () => unknown, code: string, hint?: RegExp, message?: RegExp) {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof GradsightError, `not a GradsightError: ${e}`);
    assert.equal(e.code, code);
    assert.ok((e.hint ?? '').length > 0, 'a hint');
    if (hint) assert.match(e.hint ?? '', hint);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('targets on a classifier output', () => {
  test('pred: the argmax logit, no head, one-hot seed, score = that logit', () => {
    const t = asTarget('pred');
    assert.equal(t.head, undefined, 'a logit is linear: no head');
    const [r, ...rest] = rows('pred');
    assert.equal(rest.length, 0);
    assert.equal(r!.index, 1);
    assert.equal(r!.image, 0);
    assert.equal(r!.kind, 'predicted');
    assert.deepEqual([...r!.seed], oneHot(5, 1));
    assert.equal(scoreOf(r!.seed, Float32Array.from(LOGITS)), 3);
    assert.equal(r!.counterfactual, false);
    assert.match(r!.description, /tabby, tabby cat \(1\)/);
  });

  test('top:3 gives rows in descending score order; two images give 2 × 3 rows, image-major', () => {
    assert.deepEqual(
      rows('top:3').map((r) => r.index),
      [1, 2, 4],
    );
    const rs = rowsOf('top:3', [values(LOGITS), values([9, 0, 0, 8, 7])]);
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

  test('several targets: image outer, targets in the order given', () => {
    const v = values(LOGITS);
    const w = values([9, 0, 0, 8, 7]);
    const rs = resolveRows(
      [asTarget('3'), asTarget('top:2')],
      [
        [v, v],
        [w, w],
      ],
    );
    assert.deepEqual(
      rs.map((r) => [r.image, r.index]),
      [
        [0, 3],
        [0, 1],
        [0, 2],
        [1, 3],
        [1, 0],
        [1, 3],
      ],
    );
  });

  test('class index and exact label (case-insensitive)', () => {
    assert.equal(rows('3')[0]!.index, 3);
    assert.equal(rows('tiger cat')[0]!.index, 2);
    assert.equal(rows('PERSIAN CAT')[0]!.index, 3);
    assert.equal(rows('tabby, tabby cat')[0]!.index, 1);
    assert.equal(rows({ kind: 'class', index: 4 })[0]!.label, 'dog');
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

  test('out-of-range class index, in every kind that names a class', () => {
    for (const t of ['5', '5-vs-1', '1-vs-5', 'prob:7', 'logprob:5', 'sigmoid:9'])
      throwsBad(() => rows(t), 'bad-argument', /0 to 4/);
    throwsBad(
      () => rows('99'),
      'bad-argument',
      /0 to 4/,
      /class 99 is out of range: the model has 5 outputs/,
    );
  });

  test('contrast: no head, seed e_a − e_b, score y_a − y_b, by index and by label', () => {
    for (const t of ['1-vs-2', 'tabby-vs-tiger cat']) {
      assert.equal(asTarget(t).head, undefined);
      const [r] = rows(t);
      assert.equal(r!.index, 1);
      assert.equal(r!.kind, 'contrast');
      assert.deepEqual([...r!.seed], [0, 1, -1, 0, 0]);
      assert.equal(scoreOf(r!.seed, Float32Array.from(LOGITS)), 3 - 2.25);
      assert.match(r!.description, /tabby.*\(1\) vs tiger cat \(2\)/);
    }
  });

  test('probability: a softmax head, a one-hot seed on T = p; the score ⟨seed, T⟩ is p_c', () => {
    const p = softmax64(LOGITS);
    for (const [t, c] of [
      ['prob', 1],
      ['prob:3', 3],
      ['prob:dog', 4],
      ['probability:tiger cat', 2],
    ] as const) {
      const target = asTarget(t);
      assert.equal(target.head, softmaxHead, `${t}: the softmax head`);
      // T's row is the softmax of the scores (what the head computes in the graph), here in float64.
      const [r, ...rest] = rowsOf(target, [values(LOGITS, { t: Float32Array.from(p) })]);
      assert.equal(rest.length, 0);
      assert.equal(r!.index, c, `${t}: the class`);
      assert.equal(r!.kind, 'probability');
      assert.deepEqual([...r!.seed], oneHot(5, c), `${t}: one-hot on T, not a linearised seed`);
      assert.ok(Math.abs(scoreOf(r!.seed, Float32Array.from(p)) - p[c]!) < 1e-7);
      assert.equal(r!.description, `p(${LABELS[c]} (${c}))`);
    }
    // The default class is the argmax of the scores x, whatever T holds.
    const [r] = rowsOf('prob', [values(LOGITS, { t: Float32Array.of(0.9, 0, 0, 0, 0.1) })]);
    assert.equal(r!.index, 1);
  });

  test('log-probability: a log-softmax head, one-hot seed, score log p_c', () => {
    const logp = softmax64(LOGITS).map(Math.log);
    const target = asTarget('logprob:tiger cat');
    assert.equal(target.head, logSoftmaxHead);
    assert.equal(asTarget('log-probability').head, logSoftmaxHead);
    const [r] = rowsOf(target, [values(LOGITS, { t: Float32Array.from(logp) })]);
    assert.equal(r!.index, 2);
    assert.equal(r!.kind, 'log-probability');
    assert.deepEqual([...r!.seed], oneHot(5, 2));
    assert.ok(Math.abs(scoreOf(r!.seed, Float32Array.from(logp)) - logp[2]!) < 1e-6);
    assert.match(r!.description, /^log p\(tiger cat \(2\)\)$/);
  });

  test('sigmoid: a sigmoid head; prob on a multi-label model is the sigmoid too', () => {
    const s = sigmoid64(LOGITS);
    for (const [t, env] of [
      ['sigmoid:3', {}],
      ['prob:3', { task: 'multi-label' }],
    ] as const) {
      const target = asTarget(t, env);
      assert.equal(target.head, sigmoidHead, t);
      const [r] = rowsOf(target, [values(LOGITS, { t: Float32Array.from(s) })]);
      assert.equal(r!.index, 3);
      assert.deepEqual([...r!.seed], oneHot(5, 3));
      assert.ok(Math.abs(scoreOf(r!.seed, Float32Array.from(s)) - s[3]!) < 1e-7);
      assert.match(r!.description, /^σ\(Persian cat \(3\)\)$/);
    }
    assert.equal(asTarget('prob', { task: 'classification' }).head, softmaxHead);
  });

  test('raw seed: used as is; score is seed · T; a wrong length is a typed error', () => {
    const seed = Float32Array.from([0.5, 0, 0, -2, 1]);
    const [r] = rows({ kind: 'seed', seed });
    assert.deepEqual([...r!.seed], [0.5, 0, 0, -2, 1]);
    assert.equal(scoreOf(r!.seed, Float32Array.from(LOGITS)), 0.25 + 2 + 1);
    throwsBad(() => rows({ kind: 'seed', seed: new Float32Array(3) }), 'bad-argument', /\[5\]/);
  });

  test('direction: up/down of every output, or of one', () => {
    assert.deepEqual([...rows('up')[0]!.seed], [1, 1, 1, 1, 1]);
    assert.equal(scoreOf(rows('down')[0]!.seed, Float32Array.from(LOGITS)), -5.75);
    const [r] = rows('down:2');
    assert.deepEqual([...r!.seed], [0, 0, -1, 0, 0]);
    assert.equal(r!.index, 2);
    assert.equal(r!.description, 'output 2 down');
    throwsBad(() => rows('up:5'), 'bad-argument', /0 to 4/);
  });

  test('cosine: a cosine head with T [1], seed 1; a reference of the wrong length is a typed error', () => {
    const reference = Float32Array.of(1, 0, 0, 0, 1);
    const target = asTarget({ kind: 'cosine', reference });
    assert.ok(target.head?.key.startsWith('cosine:'));
    assert.notEqual(
      target.head?.key,
      asTarget({ kind: 'cosine', reference: Float32Array.of(1, 0, 0, 1, 0) }).head?.key,
    );
    const [r] = rowsOf(target, [values(LOGITS, { t: Float32Array.of(0.25), tDims: [1] })]);
    assert.deepEqual([...r!.seed], [1]);
    assert.equal(r!.kind, 'cosine');
    throwsBad(
      () => rowsOf(asTarget({ kind: 'cosine', reference: new Float32Array(4) }), [values(LOGITS)]),
      'bad-argument',
      /reference/,
    );
  });

  test('a custom Target: its own head and rows; a seed of the wrong size is a typed error', () => {
    const head = { key: 'test-square', description: 'y²', build: () => 'never built here' };
    const custom: Target = {
      head,
      rows: (v) => [
        { index: 0, label: 'y0²', description: 'y0²', kind: 'square', seed: Float32Array.of(1) },
        {
          index: undefined,
          label: 'twice',
          description: 'twice',
          kind: 'square',
          seed: Float32Array.of(2 * v.x[0]!),
        },
      ],
    };
    assert.equal(targetOf({ kind: 'custom', target: custom }), custom);
    const rs = rowsOf(custom, [values(LOGITS, { t: Float32Array.of(0.25), tDims: [1] })]);
    assert.deepEqual(
      rs.map((r) => [r.image, r.kind, r.counterfactual, [...r.seed]]),
      [
        [0, 'square', false, [1]],
        [0, 'square', false, [1]],
      ],
    );
    throwsBad(
      () => rowsOf(custom, [values(LOGITS)]),
      'bad-argument',
      /one value per element/,
      /seed has 1 values/,
    );
  });

  test('region targets need a dense output', () => {
    throwsBad(() => rows('region:1'), 'bad-argument', /classifier/);
  });
});

describe('counterfactual: a modifier of any target', () => {
  const forms: readonly string[] = [
    'pred',
    'top:2',
    '2',
    'tabby',
    '1-vs-2',
    'prob:3',
    'logprob',
    'sigmoid:1',
    'up:0',
  ];

  for (const t of forms) {
    test(`${t}: counterfactual:${t}, {...spec, counterfactual: true} and counterfactual(target) negate every seed`, () => {
      const plain = rows(t);
      const spec = parseTarget(t);
      const variants: [string, Target][] = [
        ['string form', asTarget(`counterfactual:${t}`)],
        ['cf: string form', asTarget(`cf:${t}`)],
        ['spec modifier', targetOf({ ...spec, counterfactual: true })],
        ['global option', counterfactual(targetOf(spec))],
      ];
      for (const [how, target] of variants) {
        // The head is unchanged: only the seeds are negated.
        assert.equal(target.head, asTarget(t).head, `${how}: same head`);
        const cf = rowsOf(target, [values(LOGITS)]);
        assert.equal(cf.length, plain.length, how);
        cf.forEach((r, i) => {
          assert.equal(r.counterfactual, true, how);
          assert.equal(r.index, plain[i]!.index, how);
          assert.equal(r.kind, plain[i]!.kind, how);
          assert.deepEqual(
            [...r.seed],
            [...plain[i]!.seed].map((v) => -v),
            how,
          );
          const out = Float32Array.from(LOGITS);
          assert.equal(scoreOf(r.seed, out), -scoreOf(plain[i]!.seed, out), how);
          assert.equal(r.description, `counterfactual: ${plain[i]!.description}`, how);
        });
      }
    });
  }

  test('the modifier twice is the plain target (cf:cf:pred); the plain rows are not counterfactual', () => {
    assert.equal(parseTarget('cf:cf:pred').counterfactual, false);
    const [r] = rowsOf(asTarget('cf:cf:pred'), [values(LOGITS)]);
    assert.equal(r!.counterfactual, false);
    assert.deepEqual([...r!.seed], oneHot(5, 1));
  });

  test('the modifier on a counterfactual target (the global option on cf:pred) gives the plain rows back', () => {
    const [r] = rowsOf(counterfactual(asTarget('cf:pred')), [values(LOGITS)]);
    assert.equal(r!.counterfactual, false);
    assert.deepEqual([...r!.seed], oneHot(5, 1));
    assert.equal(r!.description, rows('pred')[0]!.description);
  });

  test('a counterfactual custom target: the seeds the user returns, negated', () => {
    const custom: Target = {
      rows: () => [
        { index: 0, label: 'a', description: 'a', kind: 'mine', seed: Float32Array.of(1, -2, 0, 0, 0) },
      ],
    };
    const [r] = rowsOf(targetOf({ kind: 'custom', target: custom, counterfactual: true }), [values(LOGITS)]);
    assert.equal(r!.counterfactual, true);
    assert.deepEqual(
      Array.from(r!.seed, (v) => v + 0),
      [-1, 2, 0, 0, 0],
    );
  });
});

describe('targets on a dense [1, C, H, W] output', () => {
  // 3 classes on 2×3 pixels; argmax per pixel: [0, 1, 1 / 2, 1, 0] (class 1 wins 3, 0 wins 2, 2 wins 1).
  const dense = [
    // class 0
    5, 0, 0, 0, 0, 4,
    // class 1
    1, 2, 3, 1, 6, 1,
    // class 2
    0, 1, 1, 7, 2, 0,
  ];
  const denseValues = (over: Partial<Values> = {}) =>
    values(dense, { xDims: [3, 2, 3], tDims: [3, 2, 3], labels: ['bg', 'cat', 'dog'], ...over });
  const d = (t: string | TargetSpec, env: TargetEnv = {}, over: Partial<Values> = {}) =>
    rowsOf(t, [denseValues(over)], env);
  const T = Float32Array.from(dense);

  test('region:c seeds the pixels where c wins the argmax; score = Σ of y_c there', () => {
    const [r] = d('region:1');
    assert.equal(r!.index, 1);
    assert.equal(r!.kind, 'region');
    assert.deepEqual([...r!.seed], [0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(scoreOf(r!.seed, T), 2 + 3 + 6);
    assert.match(r!.description, /its 3 pixels/);
    const [bg] = d('region:bg');
    assert.deepEqual([...bg!.seed], [1, 0, 0, 0, 0, 1, ...new Array(12).fill(0)]);
    assert.equal(scoreOf(bg!.seed, T), 9);
  });

  test('a class index, and pred / top:k rank classes by pixel share, each with its region seed', () => {
    assert.deepEqual([...d('2')[0]!.seed], [...new Array(12).fill(0), 0, 0, 0, 1, 0, 0]);
    assert.deepEqual(
      d('top:3').map((r) => r.index),
      [1, 0, 2],
    );
    assert.equal(d('pred')[0]!.index, 1);
    assert.equal(d('dog')[0]!.index, 2);
  });

  test('an explicit mask replaces the argmax region; a mask of the wrong size is a typed error', () => {
    const mask = Float32Array.from([1, 1, 0, 0, 0, 0.5]);
    const [r] = d({ kind: 'region', of: 2, mask });
    assert.deepEqual([...r!.seed], [...new Array(12).fill(0), 1, 1, 0, 0, 0, 0.5]);
    assert.equal(scoreOf(r!.seed, T), 0 + 1 + 0);
    assert.match(r!.description, /the given region/);
    throwsBad(() => d({ kind: 'region', of: 2, mask: new Float32Array(5) }), 'bad-argument', /2×3/);
  });

  test('an NHWC dense output ([H, W, C] rows): the class is the last axis', () => {
    // The same scores transposed to [2, 3, 3] (pixel-major).
    const nhwc = Array.from({ length: 18 }, (_, i) => dense[(i % 3) * 6 + Math.floor(i / 3)]!);
    const env: TargetEnv = { task: 'segmentation', denseLayout: 'NHWC' };
    const v = { x: Float32Array.from(nhwc), t: Float32Array.from(nhwc), xDims: [2, 3, 3], tDims: [2, 3, 3] };
    const [r] = d('region:1', env, v);
    const want = new Array(18).fill(0);
    for (const p of [1, 2, 4]) want[p * 3 + 1] = 1;
    assert.deepEqual([...r!.seed], want);
    assert.equal(scoreOf(r!.seed, v.t), 11);
    assert.deepEqual(
      d('top:3', env, v).map((x) => x.index),
      [1, 0, 2],
    );
  });

  test('counterfactual negates the region seed', () => {
    for (const t of ['cf:region:1', { kind: 'region', of: 1, counterfactual: true } as const]) {
      const [r] = d(t);
      assert.equal(r!.counterfactual, true);
      assert.equal(r!.seed[7], -1);
      assert.equal(scoreOf(r!.seed, T), -11);
    }
  });

  test('contrast and probability need a classifier output', () => {
    throwsBad(() => d('1-vs-2'), 'bad-argument', /region/);
    throwsBad(() => d('prob'), 'bad-argument', /region/);
    throwsBad(() => d('logprob:1'), 'bad-argument', /region/);
  });
});

describe('detection targets', () => {
  // A stand-in decoder: the output row is [cells, 6] = (x0, y0, x1, y1, class, score) per cell, in
  // model-input pixels; its "head" is the score column, so cell k of T is detection k's score.
  const decoder: Decoder = {
    id: 'test',
    describe: '[N, cells, 6] (test)',
    fits: () => ({ ok: true }),
    classes: () => 3,
    scoreDims: (d) => [d[0]!],
    decode: (row, dims, _size, opts) => {
      const out: Detection[] = [];
      for (let k = 0; k < dims[0]!; k++) {
        const [x0, y0, x1, y1, c, score] = row.subarray(k * 6, k * 6 + 6);
        if (score! >= opts.scoreThreshold)
          out.push({ box: { x0: x0!, y0: y0!, x1: x1!, y1: y1! }, classIndex: c!, score: score!, cell: k });
      }
      return out;
    },
    head: { key: 'test-scores', description: 'score column', build: () => 'unused' },
  };
  const env: TargetEnv = {
    task: 'detection',
    detection: { decoder, scoreThreshold: 0.5, iouThreshold: 0.5 },
  };
  // Cell 1 overlaps cell 0 (same class, IoU 0.81: suppressed); cell 3 is below the threshold.
  const cells = [
    [0, 0, 10, 10, 0, 0.9],
    [0, 0, 9, 9, 0, 0.8],
    [20, 20, 30, 30, 1, 0.7],
    [40, 0, 60, 20, 2, 0.3],
    [40, 40, 60, 60, 2, 0.95],
  ];
  const detValues = (over: Partial<Values> = {}) =>
    values(cells.flat(), {
      xDims: [5, 6],
      t: Float32Array.from(cells, (c) => c[5]!),
      tDims: [5],
      labels: ['person', 'kite', 'dog'],
      inputSize: [64, 64],
      ...over,
    });
  const det = (t: string | TargetSpec, over: Partial<Values> = {}) => rowsOf(t, [detValues(over)], env);

  test('det (and pred on a detector): every detection kept after threshold and NMS, best first', () => {
    for (const t of ['det', 'pred']) {
      const target = asTarget(t, env);
      assert.equal(target.head, decoder.head, `${t}: the decoder's head`);
      const rs = det(t);
      assert.deepEqual(
        rs.map((r) => r.detection?.cell),
        [4, 0, 2],
        t,
      );
      rs.forEach((r) => {
        assert.equal(r.kind, 'detection');
        assert.deepEqual([...r.seed], oneHot(5, r.detection!.cell), 'one-hot at the detection’s cell');
        assert.equal(scoreOf(r.seed, detValues().t), r.detection!.score);
        assert.equal(r.index, r.detection!.classIndex);
      });
      assert.match(rs[0]!.description, /^dog \(2\) at \[40, 40, 60, 60\], score 0\.95$/);
    }
  });

  test('det:K the K best, top:K the same; det:label those of one class', () => {
    assert.deepEqual(
      det('det:2').map((r) => r.detection?.cell),
      [4, 0],
    );
    assert.deepEqual(
      det('top:1').map((r) => r.detection?.cell),
      [4],
    );
    assert.deepEqual(
      det('det:kite').map((r) => [r.detection?.cell, r.label]),
      [[2, 'kite']],
    );
    // A number after det: is a count, so det:0 asks for nothing.
    throwsBad(() => det('det:0'), 'bad-argument', /for example/);
  });

  test('det:box=… picks the detection best matching the box, given in original image pixels', () => {
    assert.deepEqual(
      det('det:box=21,19,31,29').map((r) => r.detection?.cell),
      [2],
    );
    // The image was 128×256 (H×W) before resizing to 64×64: the box scales by 0.25 and 0.5.
    assert.deepEqual(
      det('det:box=160,80,240,120', { originalSize: [128, 256] }).map((r) => r.detection?.cell),
      [4],
    );
    assert.deepEqual(det('det:box=100,100,110,110'), [], 'no overlap: no row');
  });

  test('counterfactual of a detection negates its one-hot seed', () => {
    const [r] = det('cf:det:1');
    assert.equal(r!.counterfactual, true);
    assert.deepEqual(
      Array.from(r!.seed, (v) => v + 0),
      [0, 0, 0, 0, -1],
    );
  });

  test('a detection target on a model without a decoder is a typed error', () => {
    throwsBad(() => asTarget('det'), 'bad-argument', /preprocess\.json/, /no decoder/);
  });
});
