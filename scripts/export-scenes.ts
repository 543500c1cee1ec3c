// Writes the language demos' scene splits as .npy for scripts/train-language-models.py, so the captioner
// and the VQA model are trained on exactly the generator's bytes and words. Output (git-ignored):
// demo/.cache/scenes/ (or the first argument).
//   node --import tsx scripts/export-scenes.ts [outDir]
//
// Per split <s> (train, val, test), N scenes and M questions:
//   <s>_images.npy   uint8 [N,3,64,64]      <s>_captions.npy int64 [N,12] (<bos> … <eos>, <pad> after)
//   <s>_questions.npy int64 [M,8] (left-padded with <pad>)    <s>_answers.npy int64 [M] (answers.txt index)
//   <s>_question_scenes.npy int64 [M] (the scene of each question)   <s>_question_kinds.npy int64 [M]
//   <s>_objects.npy int64 [N,3,3] (shape, colour, size; −1 pads)   <s>_boxes.npy int32 [N,3,4] (x0,y0,x1,y1)
//   <s>_masks.npy uint8 [N,3,64,64]
//   <s>_caption_objects.npy int64 [N,12]: per caption token, the object (index into objects) its word
//     names, −1 for none (<bos>, "a", relation words, <eos>, <pad>)
//   <s>_question_objects.npy int64 [M]: the object each answer is about, −1 for none (counts)
// plus vocab.txt, answers.txt and meta.json (sizes, splits, token ids, question kinds).

import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  ANSWERS,
  answerIndex,
  BOS,
  CAPTION_MAX_LENGTH,
  captionTokens,
  captionWords,
  EOS,
  encodeQuestion,
  PAD,
  QUESTION_KINDS,
  QUESTION_LENGTH,
  sceneQuestions,
  UNK,
  VOCAB,
} from '../src/demo/language.ts';
import {
  SCENE_SIZE,
  SCENE_SPLITS,
  type SceneSplit,
  type SceneSplitName,
  splitScene,
} from '../src/demo/scenes.ts';
import { writeNpy } from '../src/tensor/npy-node.ts';

const outDir = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'demo', '.cache', 'scenes'));
const MAX_OBJECTS = 3;

async function exportSplit(name: SceneSplitName, split: SceneSplit): Promise<void> {
  const n = split.count;
  const hw = SCENE_SIZE * SCENE_SIZE;
  const images = new Uint8Array(n * 3 * hw);
  const captions = new BigInt64Array(n * CAPTION_MAX_LENGTH).fill(BigInt(PAD));
  const captionObjects = new BigInt64Array(n * CAPTION_MAX_LENGTH).fill(-1n);
  const objects = new BigInt64Array(n * MAX_OBJECTS * 3).fill(-1n);
  const boxes = new Int32Array(n * MAX_OBJECTS * 4).fill(-1);
  const masks = new Uint8Array(n * MAX_OBJECTS * hw);
  const questions: number[] = [];
  const answers: number[] = [];
  const questionScenes: number[] = [];
  const questionKinds: number[] = [];
  const questionObjects: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = splitScene(split, i);
    const px = s.image.data;
    for (let p = 0; p < hw; p++) {
      for (let c = 0; c < 3; c++) images[(i * 3 + c) * hw + p] = px[p * 3 + c]!;
    }
    captions.set(captionTokens(s).map(BigInt), i * CAPTION_MAX_LENGTH);
    // Token k + 1 is word k (token 0 is <bos>).
    captionObjects.set(
      captionWords(s).map((w) => BigInt(w.object ?? -1)),
      i * CAPTION_MAX_LENGTH + 1,
    );
    s.objects.forEach((o, k) => {
      const at = i * MAX_OBJECTS + k;
      objects.set([BigInt(o.shape), BigInt(o.color), BigInt(o.size)], at * 3);
      boxes.set([o.box.x0, o.box.y0, o.box.x1, o.box.y1], at * 4);
      masks.set(o.mask, at * hw);
    });
    for (const q of sceneQuestions(s)) {
      questions.push(...encodeQuestion(q.question));
      answers.push(answerIndex(q.answer));
      questionScenes.push(i);
      questionKinds.push(QUESTION_KINDS.indexOf(q.kind));
      questionObjects.push(q.object ?? -1);
    }
  }
  const m = answers.length;
  const file = (what: string) => join(outDir, `${name}_${what}.npy`);
  const i64 = (xs: number[]) => BigInt64Array.from(xs, BigInt);
  const [H, W] = [SCENE_SIZE, SCENE_SIZE];
  await writeNpy(file('images'), { dtype: 'uint8', dims: [n, 3, H, W], data: images });
  await writeNpy(file('captions'), { dtype: 'int64', dims: [n, CAPTION_MAX_LENGTH], data: captions });
  await writeNpy(file('questions'), { dtype: 'int64', dims: [m, QUESTION_LENGTH], data: i64(questions) });
  await writeNpy(file('answers'), { dtype: 'int64', dims: [m], data: i64(answers) });
  await writeNpy(file('question_scenes'), { dtype: 'int64', dims: [m], data: i64(questionScenes) });
  await writeNpy(file('question_kinds'), { dtype: 'int64', dims: [m], data: i64(questionKinds) });
  await writeNpy(file('question_objects'), { dtype: 'int64', dims: [m], data: i64(questionObjects) });
  await writeNpy(file('caption_objects'), {
    dtype: 'int64',
    dims: [n, CAPTION_MAX_LENGTH],
    data: captionObjects,
  });
  await writeNpy(file('objects'), { dtype: 'int64', dims: [n, MAX_OBJECTS, 3], data: objects });
  await writeNpy(file('boxes'), { dtype: 'int32', dims: [n, MAX_OBJECTS, 4], data: boxes });
  await writeNpy(file('masks'), { dtype: 'uint8', dims: [n, MAX_OBJECTS, H, W], data: masks });
  process.stdout.write(`${name}: ${n} scenes, ${m} questions (seed ${split.seed})\n`);
}

await mkdir(outDir, { recursive: true });
const t0 = performance.now();
for (const [name, split] of Object.entries(SCENE_SPLITS) as [SceneSplitName, SceneSplit][]) {
  await exportSplit(name, split);
}
await writeFile(join(outDir, 'vocab.txt'), `${VOCAB.join('\n')}\n`);
await writeFile(join(outDir, 'answers.txt'), `${ANSWERS.join('\n')}\n`);
const meta = {
  size: [SCENE_SIZE, SCENE_SIZE],
  splits: SCENE_SPLITS,
  tokens: { pad: PAD, bos: BOS, eos: EOS, unk: UNK },
  captionMaxLength: CAPTION_MAX_LENGTH,
  questionLength: QUESTION_LENGTH,
  questionKinds: QUESTION_KINDS,
};
await writeFile(join(outDir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
process.stdout.write(`wrote ${outDir} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
