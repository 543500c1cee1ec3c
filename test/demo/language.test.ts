// The scenes' language: pinned captions and questions (literal, and SHA-256 over a split's first
// scenes), the vocabulary's layout, and every caption and answer checked against the scene's masks
// (positions from mask centroids, counts from the ground truth), not against the generator's logic.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  ANSWERS,
  answerIndex,
  BOS,
  CAPTION_MAX_LENGTH,
  caption,
  captionTokens,
  captionWords,
  decodeTokens,
  EOS,
  encodeQuestion,
  encodeWords,
  PAD,
  QUESTION_LENGTH,
  sceneQuestions,
  tokenize,
  UNK,
  VOCAB,
} from '../../src/demo/language.ts';
import { CLASSES, COLORS, SCENE_SIZE, SCENE_SPLITS, type Scene, splitScene } from '../../src/demo/scenes.ts';
import { imagesToBatch } from '../../src/image/preprocess.ts';
import type { ImageModel } from '../../src/model/image-model.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { repoRoot } from '../helpers/shared.ts';

const W = SCENE_SIZE;
const scenes = Array.from({ length: 300 }, (_, i) => splitScene(SCENE_SPLITS.train, i));

function centroid(mask: Uint8Array): [number, number] {
  let [sx, sy, n] = [0, 0, 0];
  mask.forEach((v, i) => {
    if (v === 0) return;
    sx += (i % W) + 0.5;
    sy += Math.floor(i / W) + 0.5;
    n++;
  });
  return [sx / n, sy / n];
}

/** Where object a is relative to b, read off the masks: the larger centroid offset wins. */
function seenRelation(s: Scene, a: number, b: number): string {
  const [ax, ay] = centroid(s.objects[a]!.mask);
  const [bx, by] = centroid(s.objects[b]!.mask);
  if (Math.abs(ax - bx) >= Math.abs(ay - by)) return ax < bx ? 'left of' : 'right of';
  return ay < by ? 'above' : 'below';
}

/** The objects an "a [small] <colour> <shape>" phrase can mean. */
function matching(s: Scene, phrase: string[]): number[] {
  assert.equal(phrase[0], 'a');
  const small = phrase[1] === 'small';
  const [color, shape] = phrase.slice(small ? 2 : 1);
  return s.objects.flatMap((o, i) =>
    COLORS[o.color] === color && CLASSES[o.shape] === shape && (o.size === 0) === small ? [i] : [],
  );
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('vocabulary', () => {
  test('special tokens first, words unique, answers unique', () => {
    assert.deepEqual(VOCAB.slice(0, 4), ['<pad>', '<bos>', '<eos>', '<unk>']);
    assert.deepEqual([PAD, BOS, EOS, UNK], [0, 1, 2, 3]);
    assert.equal(new Set(VOCAB).size, VOCAB.length);
    assert.equal(new Set(ANSWERS).size, ANSWERS.length);
    assert.equal(answerIndex('blue'), ANSWERS.indexOf('blue'));
    assert.throws(() => answerIndex('purple'), RangeError);
  });

  test('tokenize, encode, decode', () => {
    assert.deepEqual(tokenize('What colour is the Square?'), ['what', 'colour', 'is', 'the', 'square']);
    const ids = encodeWords(['the', 'purple', 'square']);
    assert.deepEqual(ids, [VOCAB.indexOf('the'), UNK, VOCAB.indexOf('square')]);
    assert.deepEqual(decodeTokens([BOS, ...ids, EOS, VOCAB.indexOf('a'), PAD]), ['the', '<unk>', 'square']);
    const q = encodeQuestion('how many circles?');
    assert.equal(q.length, QUESTION_LENGTH);
    assert.deepEqual(q, [PAD, PAD, PAD, PAD, PAD, ...encodeWords(['how', 'many', 'circles'])]);
    assert.throws(() => encodeQuestion('a b c d e f g h i'), RangeError);
  });

  test('the shipped vocab.txt and answers.txt are these lists', (t) => {
    const dirs = ['captioner', 'vqa'].map((m) => join(repoRoot, 'demo', 'models', m));
    if (!dirs.every((d) => existsSync(join(d, 'vocab.txt')))) return t.skip('models not trained yet');
    const lines = (p: string) => readFileSync(p, 'utf8').trimEnd().split('\n');
    for (const d of dirs) assert.deepEqual(lines(join(d, 'vocab.txt')), VOCAB);
    assert.deepEqual(lines(join(dirs[1]!, 'answers.txt')), ANSWERS);
  });
});

describe('captions', () => {
  test('pinned: literal and SHA-256 of the first 300 training captions', () => {
    assert.deepEqual(scenes.slice(0, 3).map(caption), [
      'a blue circle above a small red triangle',
      'a small red cross below a yellow cross',
      'a small yellow triangle above a small blue circle',
    ]);
    assert.equal(
      sha256(scenes.map(caption).join('\n')),
      '76e0284c92e0a9f7b56b95e6570be0495abfac983c67e5dc6bcaa26cca4daaba',
    );
  });

  test('every caption describes the two leftmost objects and their relation, as the masks show', () => {
    for (const s of scenes) {
      const words = caption(s).split(' ');
      const r = words.findIndex((w) => ['left', 'right', 'above', 'below'].includes(w));
      const split = words.indexOf('a', r);
      const relWords = words.slice(r, split);
      const first = matching(s, words.slice(0, r));
      const second = matching(s, words.slice(split));
      assert.ok(first.length >= 1 && second.length >= 1, caption(s));
      const byX = s.objects.map((o, i) => [centroid(o.mask)[0], i] as const).sort((p, q) => p[0] - q[0]);
      const [left, next] = [byX[0]![1], byX[1]![1]];
      assert.ok(first.includes(left), `${caption(s)}: the first phrase is the leftmost object`);
      assert.ok(second.includes(next), `${caption(s)}: the second phrase is the next object`);
      assert.equal(relWords.join(' '), seenRelation(s, left, next));
      // The word → object map names the objects the phrases are about.
      const objectOf = captionWords(s).map((w) => w.object);
      const want = words.map((w, i) => (w === 'a' || (i >= r && i < split) ? null : i < r ? left : next));
      assert.deepEqual(objectOf, want, caption(s));
      const ids = captionTokens(s);
      assert.ok(ids.length <= CAPTION_MAX_LENGTH);
      assert.deepEqual([ids[0], ids.at(-1)], [BOS, EOS]);
      assert.ok(!ids.includes(UNK));
      assert.deepEqual(decodeTokens(ids).join(' '), caption(s));
    }
  });
});

describe('questions', () => {
  test('pinned: literal and SHA-256 of the first 300 training scenes’ questions and answers', () => {
    assert.deepEqual(sceneQuestions(scenes[1]!), [
      { kind: 'shape', question: 'what shape is the red object?', answer: 'cross', object: 1 },
      { kind: 'shape', question: 'what shape is the yellow object?', answer: 'cross', object: 0 },
      { kind: 'count', question: 'how many circles?', answer: 'zero', object: null },
      { kind: 'count', question: 'how many squares?', answer: 'zero', object: null },
      { kind: 'count', question: 'how many triangles?', answer: 'zero', object: null },
      { kind: 'count', question: 'how many crosses?', answer: 'two', object: null },
    ]);
    const text = scenes.flatMap((s) => sceneQuestions(s).map((q) => `${q.question} ${q.answer}`)).join('\n');
    assert.equal(sha256(text), 'efa03140f9f062f4ffc054e683c6555c355ffd72499985f5049853bf956ee1e9');
  });

  test('every answer is right by the ground truth and the masks, and unique', () => {
    const kinds = new Map<string, number>();
    for (const s of scenes) {
      for (const q of sceneQuestions(s)) {
        kinds.set(q.kind, (kinds.get(q.kind) ?? 0) + 1);
        const words = tokenize(q.question);
        assert.ok(encodeQuestion(q.question).every((id) => id !== UNK));
        assert.ok(ANSWERS.includes(q.answer));
        const last = words.at(-1)!;
        const withShape = (name: string) =>
          s.objects.flatMap((o, i) => (CLASSES[o.shape] === name ? [i] : []));
        if (q.kind === 'count') {
          const plural = last.replace(/(es|s)$/, '');
          const n = withShape(CLASSES.find((c) => c === plural || `${c}s` === last || `${c}es` === last)!);
          assert.equal(q.answer, ['zero', 'one', 'two', 'three'][n.length], q.question);
          continue;
        }
        if (q.kind === 'shape') {
          const hits = s.objects.flatMap((o, i) => (COLORS[o.color] === words[4] ? [i] : []));
          assert.deepEqual(hits, [q.object]);
          assert.equal(q.answer, CLASSES[s.objects[hits[0]!]!.shape]);
          continue;
        }
        const ref = withShape(last);
        assert.equal(ref.length, 1, `${q.question}: the shape it names is unique`);
        const o = s.objects[ref[0]!]!;
        if (q.kind === 'colour') assert.equal(q.answer, COLORS[o.color]);
        if (q.kind === 'size') assert.equal(q.answer, o.size === 0 ? 'small' : 'large');
        if (q.kind === 'relation') {
          const rel = words.slice(3, -2).join(' ');
          const hits = s.objects.flatMap((_, i) =>
            i !== ref[0] && seenRelation(s, i, ref[0]!) === rel ? [i] : [],
          );
          assert.deepEqual(hits, [q.object], q.question);
          assert.equal(q.answer, CLASSES[s.objects[hits[0]!]!.shape]);
        }
        if (q.kind !== 'relation') assert.equal(q.object, ref[0]);
      }
    }
    for (const k of ['colour', 'shape', 'size', 'relation', 'count']) {
      assert.ok((kinds.get(k) ?? 0) >= 200, `${k} questions: ${kinds.get(k)}`);
    }
  });
});

// The held-out accuracies scripts/train-language-models.py measured in PyTorch on the first scenes of
// `test` (metrics.json), recomputed here from scenes and words regenerated in TypeScript and the
// shipped ONNX files run by gradsight: the export, the preprocessing and the vocabulary all agree.
describe('shipped language models', () => {
  const dir = (name: string) => join(repoRoot, 'demo', 'models', name);
  const skip = (name: string) =>
    existsSync(join(dir(name), 'model.onnx')) ? false : `demo/models/${name} is not trained yet`;
  const SUBSET = 300;
  const heldOut = Array.from({ length: SUBSET }, (_, i) => splitScene(SCENE_SPLITS.test, i));
  const stated = (name: string) => JSON.parse(readFileSync(join(dir(name), 'metrics.json'), 'utf8'));
  const int64 = (rows: number[][]): Tensor => ({
    dtype: 'int64',
    dims: [rows.length, rows[0]!.length],
    data: BigInt64Array.from(rows.flat(), BigInt),
  });
  const argmaxRow = (data: Float32Array, at: number, n: number) => {
    let best = 0;
    for (let k = 1; k < n; k++) if (data[at + k]! > data[at + best]!) best = k;
    return best;
  };

  async function opened<T>(name: string, f: (m: ImageModel) => Promise<T>): Promise<T> {
    const model = await openImageModel(dir(name));
    try {
      assert.ok(statSync(join(dir(name), 'model.onnx')).size < 3 * 1024 * 1024, 'small enough to ship');
      assert.deepEqual(model.preprocess.size, [W, W]);
      // The attended map (the image map times the attention), named by preprocess.json's "layer":
      // the search alone would pass over it, since the tokens reach it.
      const layer = await model.defaultLayer();
      assert.equal(layer.name, '/attended/Reshape_1_output_0');
      assert.equal(layer.name, model.description.layer);
      assert.deepEqual(layer.shape.slice(2), [16, 16]);
      return await f(model);
    } finally {
      await model.release();
    }
  }

  test('captioner: word accuracy and greedy captions as stated', { skip: skip('captioner') }, async (t) => {
    await opened('captioner', async (model) => {
      const images = imagesToBatch(
        heldOut.map((s) => s.image),
        model.preprocess,
      );
      const V = VOCAB.length;
      const captions = heldOut.map((s) => {
        const ids = captionTokens(s);
        return [...ids, ...new Array<number>(CAPTION_MAX_LENGTH - ids.length).fill(PAD)];
      });
      const logits = await model.run(images, { tokens: int64(captions.map((c) => c.slice(0, -1))) });
      const T = CAPTION_MAX_LENGTH - 1;
      assert.deepEqual(logits.dims, [SUBSET, T, V]);
      let [right, total] = [0, 0];
      captions.forEach((c, i) => {
        for (let p = 0; p < T; p++) {
          if (c[p + 1] === PAD) continue;
          total++;
          if (argmaxRow(logits.data, (i * T + p) * V, V) === c[p + 1]) right++;
        }
      });
      // Greedy decoding, one token per run, from <bos>.
      let prefixes = heldOut.map(() => [BOS]);
      for (let step = 1; step < CAPTION_MAX_LENGTH; step++) {
        const out = await model.run(images, { tokens: int64(prefixes) });
        prefixes = prefixes.map((p, i) => [...p, argmaxRow(out.data, (i * step + step - 1) * V, V)]);
      }
      const exact = prefixes.filter((p, i) => decodeTokens(p).join(' ') === caption(heldOut[i]!)).length;
      const m = stated('captioner');
      t.diagnostic(`word accuracy ${right / total}, exact captions ${exact / SUBSET}`);
      assert.ok(Math.abs(right / total - m.test_word_accuracy_first_300_scenes) <= 0.003);
      assert.ok(Math.abs(exact / SUBSET - m.test_caption_exact_first_300_scenes) <= 0.01);
      assert.ok(right / total >= 0.8, 'well above the grammar alone (about 60%)');
    });
  });

  test('vqa: answer accuracy as stated', { skip: skip('vqa') }, async (t) => {
    await opened('vqa', async (model) => {
      const qa = heldOut.flatMap((s) => sceneQuestions(s).map((q) => ({ s, q })));
      let right = 0;
      for (let i = 0; i < qa.length; i += 500) {
        const chunk = qa.slice(i, i + 500);
        const out = await model.run(
          imagesToBatch(
            chunk.map((r) => r.s.image),
            model.preprocess,
          ),
          { question: int64(chunk.map((r) => encodeQuestion(r.q.question))) },
        );
        const A = ANSWERS.length;
        chunk.forEach((r, j) => {
          if (argmaxRow(out.data, j * A, A) === answerIndex(r.q.answer)) right++;
        });
      }
      const m = stated('vqa');
      t.diagnostic(`answer accuracy ${right / qa.length} on ${qa.length} questions`);
      assert.equal(qa.length, m.test_questions_first_300_scenes);
      assert.ok(Math.abs(right / qa.length - m.test_answer_accuracy_first_300_scenes) <= 0.003);
      assert.ok(right / qa.length >= m.test_majority_baseline + 0.15, 'well above the answer prior');
    });
  });
});
