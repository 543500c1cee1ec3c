// VQA answer targets on a tiny VQA model computed by hand (language-fixtures.ts): the question is
// tokenized with the model's vocabulary (left or right padding as described), the predicted or a named
// answer is explained by its logit or log-probability, Grad-CAM equals the hand map, and the
// tokenizer's errors name the unknown words and the closest known ones.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { Explainer } from '../../src/explain/explainer.ts';
import { METHOD_IDS } from '../../src/methods/table.ts';
import type { ImageModel } from '../../src/model/image-model.ts';
import { questionFeed, textWords, tokenize } from '../../src/targets/tokenizer.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { seededValues } from '../helpers/tiny-models.ts';
import {
  ANSWERS,
  EMBED,
  F,
  handFeatures,
  handLogits,
  logSoftmax,
  openLanguageModel,
  tinyVqa,
  VOCAB,
  VQA_W,
} from './language-fixtures.ts';

const x = seededValues(192, 5).map((v) => v * 2);
const image: Float32Tensor = { dtype: 'float32', dims: [1, 3, 8, 8], data: Float32Array.from(x) };
const Q = 6;

/** The question vector by hand: the mean of its (padded) embeddings. */
function handQuestion(ids: number[]): Float64Array {
  const q = new Float64Array(F);
  for (const t of ids) for (let f = 0; f < F; f++) q[f]! += EMBED[t * F + f]! / ids.length;
  return q;
}

/** Answer logits by hand: Σ_f q_f·(flat + 1)_f·W[f, a]. */
function handAnswers(ids: number[]): Float64Array {
  const { flat1 } = handFeatures(x);
  const q = handQuestion(ids);
  const z = new Float64Array(ANSWERS.length);
  for (let a = 0; a < ANSWERS.length; a++)
    for (let f = 0; f < F; f++) z[a]! += q[f]! * flat1[f]! * VQA_W[f * ANSWERS.length + a]!;
  return z;
}

describe('VQA answer targets', () => {
  let model: ImageModel;
  let ex: Explainer;
  before(async () => {
    const bytes = tinyVqa(Q);
    model = await openLanguageModel(
      bytes,
      { task: 'vqa', answers: 'answers.txt', padding: 'left' },
      VOCAB,
      ANSWERS,
    );
    ex = Explainer.fromModel(model);
  });
  after(async () => ex.release());

  test('the tokenizer lowercases, strips punctuation and pads on the described side', () => {
    assert.deepEqual(textWords("What colour's the  SQUARE?!"), ['what', 'colours', 'the', 'square']);
    assert.deepEqual(tokenize('What colour is the square?', VOCAB), [8, 9, 10, 11, 7]);
    const feed = questionFeed('what colour is the square?', model.description.language!);
    assert.deepEqual(feed.dims, [1, Q]);
    assert.deepEqual(Array.from(feed.data as BigInt64Array, Number), [0, 8, 9, 10, 11, 7]);
    const right = { ...model.description.language!, padding: 'right' as const };
    assert.deepEqual(
      Array.from(questionFeed('what colour', right).data as BigInt64Array, Number),
      [8, 9, 0, 0, 0, 0],
    );
  });

  test('out-of-vocabulary words: a typed error naming them and the closest words', () => {
    assert.throws(
      () => tokenize('what colur is the sqare', VOCAB, 'the question'),
      (e) => {
        assert.ok(isGradsightError(e, 'out-of-vocabulary'));
        assert.match(e.message, /the question has words the model does not know: "colur", "sqare"/);
        assert.match(e.hint!, /colur → colour/);
        assert.match(e.hint!, /sqare → square/);
        assert.deepEqual(e.details.words, ['colur', 'sqare']);
        return true;
      },
    );
    assert.throws(
      () => questionFeed('what colour is the red square is', model.description.language!),
      /7 tokens/,
    );
  });

  test('the predicted answer (logit) and a named answer (log-probability), with the question', async () => {
    const question = 'What colour is the square?';
    const ids = [0, 8, 9, 10, 11, 7];
    const z = handAnswers(ids);
    const pred = z.indexOf(Math.max(...z));
    const r = await ex.explain(image, { question, target: ['pred', 'logprob:green'], method: 'gradcam' });
    const [p, g] = r.explanations;
    assert.equal(p!.target.label, ANSWERS[pred]);
    assert.ok(Math.abs(p!.target.score - z[pred]!) < 1e-4, `${p!.target.score} vs ${z[pred]}`);
    assert.equal(g!.target.label, 'green');
    assert.ok(Math.abs(g!.target.score - logSoftmax(z)[2]!) < 1e-4);
    assert.equal(p!.target.question, question);
    assert.deepEqual(r.language?.questions, [question]);
    assert.equal(r.predictions[0]!.top[0]!.label, ANSWERS[pred]);
  });

  test('Grad-CAM of an answer equals the hand map, and depends on the question', async () => {
    const maps: Float32Array[] = [];
    for (const [question, ids] of [
      ['what colour is the square', [0, 8, 9, 10, 11, 7]],
      ['is the circle red', [0, 0, 10, 11, 5, 4]],
    ] as const) {
      const r = await ex.explain(image, {
        question,
        target: 'blue',
        normalize: 'none',
        layers: ['features'],
      });
      const { a, flat1 } = handFeatures(x);
      const q = handQuestion([...ids]);
      const want = new Float64Array(64);
      for (let p = 0; p < 64; p++) {
        let s = 0;
        for (let f = 0; f < F; f++) s += ((q[f]! * VQA_W[f * 3 + 1]!) / 64) * a[f * 64 + p]!;
        want[p] = Math.max(0, s);
      }
      void flat1;
      const got = r.explanations[0]!.map!;
      const scale = Math.max(...want, 1e-6);
      for (let p = 0; p < 64; p++)
        assert.ok(Math.abs(got[p]! - want[p]!) < 1e-4 * scale, `map[${p}] ${got[p]} vs ${want[p]}`);
      maps.push(got);
    }
    assert.ok(
      maps[0]!.some((v, p) => Math.abs(v - maps[1]![p]!) > 1e-6),
      'the question changes the map',
    );
  });

  test('every method explains an answer; Guided Grad-CAM is Guided Backprop times the Grad-CAM map', async () => {
    const methods = METHOD_IDS.filter((m) => m !== 'cam');
    const r = await ex.explain(image, {
      question: 'what colour is the square',
      method: methods,
      target: 'red',
    });
    assert.deepEqual(
      r.explanations.map((e) => e.method),
      methods,
    );
    for (const e of r.explanations) assert.ok((e.map ?? e.pixels)!.every(Number.isFinite), e.method);
    const of = (m: string) => r.explanations.find((e) => e.method === m)!;
    const gb = of('guided-backprop').pixels!;
    const cam = of('gradcam').map!;
    const ggc = of('guided-gradcam').pixels!;
    for (let i = 0; i < ggc.length; i++) assert.ok(Math.abs(ggc[i]! - gb[i]! * cam[i % 64]!) <= 1e-6);
    assert.ok(
      gb.some((v) => v !== 0),
      'a gradient reaches the image',
    );
  });

  test('a question and a token feed together, or a caption for a VQA model, are typed errors', async () => {
    const feeds = { question: questionFeed('what colour', model.description.language!) };
    await assert.rejects(ex.explain(image, { question: 'what colour', feeds }), (e) =>
      isGradsightError(e, 'bad-argument'),
    );
    await assert.rejects(ex.explain(image, { caption: 'a red circle' }), (e) =>
      isGradsightError(e, 'bad-argument'),
    );
    await assert.rejects(
      ex.explain(image, { question: 'what colour', target: 'caption' }),
      (e) => isGradsightError(e, 'bad-argument') && /captioning model/.test(e.message),
    );
    await assert.rejects(
      ex.explain(image, {}),
      (e) =>
        isGradsightError(e, 'bad-argument') && /none is given/.test(e.message) && /--question/.test(e.hint!),
    );
    void handLogits;
  });
});
