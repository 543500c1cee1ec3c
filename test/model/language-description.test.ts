// Captioning and VQA model descriptions: read from a model folder (preprocess.json naming vocab.txt
// and answers.txt), checked against the model's inputs and outputs when it is opened, with a typed
// error and a hint for each contradiction (no vocabulary, a vocabulary or answer list that does not fit
// the logits, no token input, no <bos>/<eos>, a language key on another task).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type ErrorCode, isGradsightError } from '../../src/errors.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { tinyTwoInputModel } from '../helpers/tiny-models.ts';
import { ANSWERS, tinyCaptioner, tinyVqa, VOCAB, writeModelFolder } from '../targets/language-fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'gradsight-language-'));
after(() => rmSync(root, { recursive: true, force: true }));
let k = 0;
const folder = (
  bytes: Uint8Array,
  pre: Record<string, unknown>,
  files: Record<string, readonly string[]> = {},
) => writeModelFolder(join(root, `m${k++}`), bytes, pre, files);

const fails = (code: ErrorCode, re: RegExp, hint?: RegExp) => (e: unknown) => {
  assert.ok(isGradsightError(e, code), `expected ${code}, got ${String(e)}`);
  assert.match(e.message, re);
  assert.ok(e.hint, 'has a hint');
  if (hint) assert.match(e.hint, hint);
  return true;
};

const CAPTION = { task: 'captioning', vocabulary: 'vocab.txt', maxLength: 8 };
const VQA = { task: 'vqa', vocabulary: 'vocab.txt', answers: 'answers.txt' };

describe('language model descriptions', () => {
  test('a captioner folder: vocabulary as labels, token input, special tokens, maxLength (the prefix length)', async () => {
    const m = await openImageModel(folder(tinyCaptioner(), CAPTION, { 'vocab.txt': VOCAB }));
    try {
      assert.deepEqual(m.description.task, { kind: 'captioning', vocabulary: 'vocab.txt', maxLength: 8 });
      const l = m.description.language!;
      assert.deepEqual(
        [l.tokenInput, l.tokenDtype, l.tokenLength, l.bos, l.eos],
        ['tokens', 'int64', 8, 1, 2],
      );
      assert.deepEqual(m.labels, VOCAB);
    } finally {
      await m.release();
    }
  });

  test('a VQA folder: answers as labels; padding and a fixed length', async () => {
    const m = await openImageModel(
      folder(
        tinyVqa(),
        { ...VQA, padding: 'left', tokenLength: 6 },
        { 'vocab.txt': VOCAB, 'answers.txt': ANSWERS },
      ),
    );
    try {
      const l = m.description.language!;
      assert.deepEqual([l.task, l.tokenInput, l.tokenLength, l.padding], ['vqa', 'question', 6, 'left']);
      assert.deepEqual(m.labels, ANSWERS);
      assert.equal(m.description.classes, 3);
    } finally {
      await m.release();
    }
  });

  test('a captioning model without a vocabulary file: typed errors', async () => {
    await assert.rejects(
      openImageModel(folder(tinyCaptioner(), { task: 'captioning' })),
      fails('bad-description', /captioning model needs a vocabulary file/, /"vocabulary"/),
    );
    await assert.rejects(
      openImageModel(folder(tinyCaptioner(), CAPTION)),
      fails(
        'file-not-found',
        /vocabulary file "vocab.txt" named in preprocess.json is not in/,
        /one token per line/,
      ),
    );
  });

  test('a vocabulary or answers file that does not fit the logits', async () => {
    await assert.rejects(
      openImageModel(folder(tinyCaptioner(), CAPTION, { 'vocab.txt': VOCAB.slice(0, 10) })),
      fails('bad-description', /has 10 words but output logits \[batch, T, 12\] scores 12/, /12 lines/),
    );
    await assert.rejects(
      openImageModel(folder(tinyVqa(), VQA, { 'vocab.txt': VOCAB, 'answers.txt': ['red', 'blue'] })),
      fails(
        'bad-description',
        /answers file answers.txt has 2 lines but output answer_logits \[batch, 3\] scores 3 answers/,
      ),
    );
    await assert.rejects(
      openImageModel(folder(tinyVqa(), { task: 'vqa', vocabulary: 'vocab.txt' }, { 'vocab.txt': VOCAB })),
      fails('bad-description', /needs an answers file/),
    );
  });

  test('outputs, inputs and tokens that contradict the task', async () => {
    // A VQA model's [N, A] output is not next-word logits.
    await assert.rejects(
      openImageModel(folder(tinyVqa(), CAPTION, { 'vocab.txt': VOCAB })),
      fails('bad-description', /needs next-token logits \[N, L, V\]/),
    );
    await assert.rejects(
      openImageModel(
        folder(tinyCaptioner(), CAPTION, { 'vocab.txt': VOCAB.map((w) => (w === '<bos>' ? 'start' : w)) }),
      ),
      fails('bad-description', /no start token/, /<bos>/),
    );
    await assert.rejects(
      openImageModel(folder(tinyCaptioner(), { ...CAPTION, tokenInput: 'tokenz' }, { 'vocab.txt': VOCAB })),
      fails('bad-description', /"tokenInput" "tokenz" is not an input/, /closest: tokens/),
    );
    await assert.rejects(
      openImageModel(folder(tinyCaptioner(6), { ...CAPTION, maxLength: 9 }, { 'vocab.txt': VOCAB })),
      fails('bad-description', /"maxLength" 9 does not fit the token input tokens of length 6/),
    );
    // The two-input classifier's [N, 3] output with 10 embeddings: not a captioner either.
    await assert.rejects(
      openImageModel(
        folder(
          tinyTwoInputModel(),
          { task: 'vqa', vocabulary: 'v.txt', answers: 'a.txt' },
          { 'v.txt': VOCAB.slice(0, 10), 'a.txt': ['x', 'y'] },
        ),
      ),
      fails('bad-description', /has 2 lines but output logits/),
    );
  });

  test('language keys on another task, and wrong types', async () => {
    await assert.rejects(
      openImageModel(
        folder(tinyVqa(), { task: 'classification', vocabulary: 'vocab.txt' }, { 'vocab.txt': VOCAB }),
      ),
      fails('bad-preprocess', /"vocabulary" is a captioning\/vqa setting, but "task" is "classification"/),
    );
    await assert.rejects(
      openImageModel(folder(tinyCaptioner(), { ...CAPTION, maxLength: 0 }, { 'vocab.txt': VOCAB })),
      fails('bad-preprocess', /"maxLength" must be a whole number/),
    );
    await assert.rejects(
      openImageModel(
        folder(tinyVqa(), { ...VQA, padding: 'middle' }, { 'vocab.txt': VOCAB, 'answers.txt': ANSWERS }),
      ),
      fails('bad-preprocess', /"padding" must be one of left, right/),
    );
  });
});
