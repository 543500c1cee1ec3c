// Caption-word targets on a tiny captioner computed by hand in float64 (language-fixtures.ts): greedy
// decoding gives the hand-decoded caption; each word's score is its log-probability given the prefix;
// Grad-CAM, its counterfactual, Guided Backprop and Guided Grad-CAM of each word equal the hand maps;
// the input gradient equals finite differences of the hand score; every method runs on every word.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { Explainer } from '../../src/explain/explainer.ts';
import { targetGradients } from '../../src/explain/gradients.ts';
import { greedyCaptions } from '../../src/explain/language.ts';
import { METHOD_IDS } from '../../src/methods/table.ts';
import type { ImageModel } from '../../src/model/image-model.ts';
import { parseTarget } from '../../src/targets/parse.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { seededValues } from '../helpers/tiny-models.ts';
import {
  CONV_W,
  F,
  handFeatures,
  handGreedy,
  handLogits,
  handScoreGrad,
  logSoftmax,
  openLanguageModel,
  tinyCaptioner,
  VOCAB,
} from './language-fixtures.ts';

const images = [1, 11].map((s) => seededValues(192, s).map((v) => v * 2));
const batch: Float32Tensor = { dtype: 'float32', dims: [2, 3, 8, 8], data: Float32Array.from(images.flat()) };
const one = (i: number): Float32Tensor => ({
  dtype: 'float32',
  dims: [1, 3, 8, 8],
  data: Float32Array.from(images[i]!),
});
const MAX = 6;

const open = (length: number | string = 'T', maxLength = MAX) =>
  openLanguageModel(tinyCaptioner(length), { task: 'captioning', maxLength }, VOCAB);

/** Hand Grad-CAM of word i (1-based) of `ids` on image x: relu(Σ_f α_f A_f), α_f = (d score/d flat_f)/64. */
function handCam(x: number[], ids: number[], i: number, sign = 1): Float64Array {
  const { a, flat1 } = handFeatures(x);
  const prev = i === 1 ? 1 : ids[i - 2]!;
  const g = handScoreGrad(flat1, prev, ids[i - 1]!);
  const cam = new Float64Array(64);
  for (let p = 0; p < 64; p++) {
    let s = 0;
    for (let f = 0; f < F; f++) s += ((sign * g[f]!) / 64) * a[f * 64 + p]!;
    cam[p] = Math.max(0, s);
  }
  return cam;
}

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(got.length, want.length, what);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++)
    assert.ok(
      Math.abs(got[i]! - want[i]!) <= tol * Math.max(scale, 1e-6),
      `${what}[${i}]: ${got[i]} vs ${want[i]}`,
    );
};

describe('caption-word targets', () => {
  let model: ImageModel;
  let ex: Explainer;
  const captions = images.map((x) => handGreedy(x, MAX));
  before(async () => {
    model = await open();
    ex = Explainer.fromModel(model);
  });
  after(async () => ex.release());

  test('the description names the token input, the vocabulary and the special tokens', () => {
    const l = model.description.language!;
    assert.deepEqual(
      [l.task, l.tokenInput, l.bos, l.eos, l.pad, l.maxLength],
      ['captioning', 'tokens', 1, 2, 0, MAX],
    );
    assert.equal(model.description.classes, VOCAB.length);
    assert.deepEqual(model.labels, VOCAB);
  });

  test('greedy decoding gives the hand-decoded caption, for a dynamic and a fixed token length', async () => {
    assert.ok(
      captions.every((c) => c.length >= 2),
      'captions of several words',
    );
    const got = await greedyCaptions(model, batch);
    assert.deepEqual(got.ids, captions);
    assert.deepEqual(
      got.words[0],
      captions[0]!.map((i) => VOCAB[i]),
    );
    const fixed = await open(8, 5);
    try {
      const f = await greedyCaptions(fixed, batch);
      assert.deepEqual(
        f.ids,
        images.map((x) => handGreedy(x, 5)),
      );
      assert.deepEqual(f.feed.dims, [2, 8]);
      // <bos>, the words, <eos>, then <pad> to the input's length.
      assert.deepEqual(
        Array.from(f.feed.data as BigInt64Array, Number).slice(0, 8),
        [1, ...f.ids[0]!, 2, 0, 0, 0].slice(0, 8),
      );
    } finally {
      await fixed.release();
    }
  });

  test('one row per word: its log-probability given the prefix, by default for a captioner', async () => {
    const r = await ex.explain(batch, { method: 'gradcam' });
    assert.deepEqual(
      r.language?.captions,
      captions.map((c) => c.map((i) => VOCAB[i]!)),
    );
    assert.equal(r.explanations.length, captions[0]!.length + captions[1]!.length);
    for (const e of r.explanations) {
      const ids = captions[e.image]!;
      const i = e.target.word!.position;
      const { flat1 } = handFeatures(images[e.image]!);
      const want = logSoftmax(handLogits(flat1, i === 1 ? 1 : ids[i - 2]!))[ids[i - 1]!]!;
      assert.ok(Math.abs(e.target.score - want) < 1e-4, `score ${e.target.score} vs ${want}`);
      assert.equal(e.target.kind, 'caption-word');
      assert.equal(e.target.label, VOCAB[ids[i - 1]!]);
      assert.equal(e.target.index, ids[i - 1]);
      assert.deepEqual(
        e.target.word!.words,
        ids.map((t) => VOCAB[t]),
      );
    }
  });

  test('Grad-CAM and its counterfactual of each word equal the hand maps', async () => {
    for (const [name, sign] of [
      ['caption', 1],
      ['cf:caption', -1],
    ] as const) {
      const r = await ex.explain(batch, {
        method: 'gradcam',
        target: name,
        normalize: 'none',
        layers: ['features'],
      });
      for (const e of r.explanations) {
        const want = handCam(images[e.image]!, captions[e.image]!, e.target.word!.position, sign);
        close(e.map!, want, 1e-4, `${name} image ${e.image} word ${e.target.word!.position}`);
      }
      // Words are explained differently: the maps of words 1 and 2 are not the same map.
      const [m1, m2] = r.explanations.filter((e) => e.image === 0).map((e) => e.map!);
      assert.ok(
        m1!.some((v, p) => Math.abs(v - m2![p]!) > 1e-3 * Math.max(...m1!)),
        'words differ',
      );
    }
  });

  test('caption:i and caption:WORD pick words; a word not in the caption is a typed error', async () => {
    assert.deepEqual(parseTarget('caption:2'), { kind: 'caption', word: 2 });
    assert.deepEqual(parseTarget('caption:circle'), { kind: 'caption', word: 'circle' });
    const r = await ex.explain(one(0), { method: 'gradcam', target: 'caption:2' });
    assert.deepEqual(
      r.explanations.map((e) => e.target.word!.position),
      [2],
    );
    const word = VOCAB[captions[0]![0]!]!;
    const hits = captions[0]!.flatMap((id, i) => (VOCAB[id] === word ? [i + 1] : []));
    const w = await ex.explain(one(0), { method: 'gradcam', target: `caption:${word}` });
    assert.deepEqual(
      w.explanations.map((e) => e.target.word!.position),
      hits,
    );
    await assert.rejects(
      ex.explain(one(0), { target: 'caption:square' }),
      (e) => isGradsightError(e, 'bad-argument') && /no word "square"/.test(e.message),
    );
    await assert.rejects(
      ex.explain(one(0), { target: 'caption:99' }),
      (e) => isGradsightError(e, 'bad-argument') && /no word 99/.test(e.message),
    );
  });

  test('Guided Backprop equals the hand guided gradient; Guided Grad-CAM is it times the Grad-CAM map', async () => {
    const r = await ex.explain(one(0), {
      method: ['guided-backprop', 'guided-gradcam', 'gradcam'],
      target: 'caption:2',
      layers: ['features'],
    });
    const [gb, ggc, cam] = ['guided-backprop', 'guided-gradcam', 'gradcam'].map(
      (m) => r.explanations.find((e) => e.method === m)!,
    );
    // Guided ReLU: the gradient passes where the forward input and the gradient are both positive.
    const x = images[0]!;
    const ids = captions[0]!;
    const { pre, flat1 } = handFeatures(x);
    const g = handScoreGrad(flat1, ids[0]!, ids[1]!);
    const want = new Float64Array(192);
    for (let k = 0; k < 3; k++)
      for (let p = 0; p < 64; p++)
        for (let f = 0; f < F; f++) {
          const up = g[f]! / 64;
          if (pre[f * 64 + p]! > 0 && up > 0) want[k * 64 + p]! += CONV_W[f * 3 + k]! * up;
        }
    close(gb!.pixels!, want, 1e-4, 'guided backprop');
    const product = gb!.pixels!.map((v, i) => v * cam!.map![i % 64]!);
    close(ggc!.pixels!, product, 1e-5, 'guided grad-cam');
  });

  test('the input gradient of a word equals finite differences of its hand log-probability', async () => {
    const feeds = { tokens: (await greedyCaptions(model, one(0))).feed };
    const g = await targetGradients(model, one(0), { wrt: ['image'], target: 'caption:2', feeds });
    const ids = captions[0]!;
    const score = (x: number[]) => logSoftmax(handLogits(handFeatures(x).flat1, ids[0]!))[ids[1]!]!;
    const grad = g.grads.image!.data;
    const h = 1e-4;
    for (const i of [0, 17, 64, 100, 191]) {
      const up = [...images[0]!];
      const down = [...images[0]!];
      up[i]! += h;
      down[i]! -= h;
      const fd = (score(up) - score(down)) / (2 * h);
      assert.ok(
        Math.abs(grad[i]! - fd) < 1e-3 * Math.max(1, Math.abs(fd)),
        `d/dx[${i}]: ${grad[i]} vs ${fd}`,
      );
    }
  });

  test('a given caption is explained word by word; every method runs on every word', async () => {
    const r = await ex.explain(one(1), {
      method: [...METHOD_IDS].filter((m) => m !== 'cam'),
      caption: 'The circle, is red!',
    });
    const words = r.explanations.filter((e) => e.method === 'gradcam').map((e) => e.target.label);
    assert.deepEqual(words, ['the', 'circle', 'is', 'red']);
    const { flat1 } = handFeatures(images[1]!);
    const red = r.explanations.find((e) => e.method === 'gradcam' && e.target.word!.position === 4)!;
    assert.ok(
      Math.abs(red.target.score - logSoftmax(handLogits(flat1, VOCAB.indexOf('is')))[VOCAB.indexOf('red')]!) <
        1e-4,
    );
    for (const e of r.explanations) {
      const v = (e.map ?? e.pixels)!;
      assert.ok(v.every(Number.isFinite), `${e.method} finite`);
    }
    // CAM reads a GAP + linear head; a log-probability is not one of its class scores.
    await assert.rejects(ex.explain(one(1), { method: 'cam' }), (e) => isGradsightError(e));
  });

  test('typed errors: out-of-vocabulary caption words, a question for a captioner', async () => {
    await assert.rejects(ex.explain(one(0), { caption: 'a red circel' }), (e) => {
      assert.ok(isGradsightError(e, 'out-of-vocabulary'));
      assert.match(e.message, /"circel"/);
      assert.match(e.hint!, /circel → circle/);
      return true;
    });
    await assert.rejects(ex.explain(one(0), { question: 'what colour is it' }), (e) =>
      isGradsightError(e, 'bad-argument'),
    );
  });
});
