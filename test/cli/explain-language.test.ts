// `gradsight explain --caption` and `--question` on tiny captioning and VQA model folders: the caption
// decoded by the CLI is the hand-decoded one, one explanation per word and method with its
// log-probability, the report in the paper's layouts (a strip of word maps with the word under each;
// question and answer above the maps), and typed errors for a flag the model's task does not take.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { runCli } from '../helpers/cli.ts';
import {
  ANSWERS,
  handFeatures,
  handGreedy,
  handLogits,
  logSoftmax,
  tinyCaptioner,
  tinyVqa,
  VOCAB,
  writeModelFolder,
} from '../targets/language-fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'gradsight-cli-language-'));
after(() => rmSync(root, { recursive: true, force: true }));

// An 8×8 RGB image whose pixels are known: the model sees pixel/255 (mean 0, std 1).
const pixels = Uint8Array.from({ length: 192 }, (_, i) => (i * 37 + (i >> 3) * 11) % 256);
const x = Array.from({ length: 192 }, (_, i) => {
  const p = Math.floor(i / 3);
  const c = i % 3;
  return { i: c * 64 + p, v: pixels[i]! / 255 };
})
  .sort((a, b) => a.i - b.i)
  .map((e) => e.v);

describe('explain --caption / --question', () => {
  const captioner = join(root, 'captioner');
  const vqa = join(root, 'vqa');
  const image = join(root, 'scene.png');
  before(async () => {
    writeModelFolder(
      captioner,
      tinyCaptioner(),
      { task: 'captioning', vocabulary: 'vocab.txt', maxLength: 5 },
      { 'vocab.txt': VOCAB },
    );
    writeModelFolder(
      vqa,
      tinyVqa(6),
      { task: 'vqa', vocabulary: 'vocab.txt', answers: 'answers.txt' },
      { 'vocab.txt': VOCAB, 'answers.txt': ANSWERS },
    );
    await sharp(Buffer.from(pixels), { raw: { width: 8, height: 8, channels: 3 } })
      .png()
      .toFile(image);
  });

  test('--caption: the greedy caption, one map per word and method, the Fig. 6 report', async () => {
    const out = join(root, 'out-caption');
    const r = await runCli([
      'explain',
      captioner,
      image,
      '--caption',
      '-m',
      'gradcam,guided-gradcam',
      '-q',
      '-o',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const ids = handGreedy(x, 5);
    const words = ids.map((i) => VOCAB[i]!);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const es = results.images[0].explanations;
    assert.equal(es.length, 2 * words.length);
    const { flat1 } = handFeatures(x);
    for (const e of es) {
      const i = e.target.word.position;
      assert.deepEqual(e.target.word.words, words);
      assert.equal(e.target.label, words[i - 1]);
      const want = logSoftmax(handLogits(flat1, i === 1 ? 1 : ids[i - 2]!))[ids[i - 1]!]!;
      assert.ok(Math.abs(e.target.score - want) < 1e-4, `${e.target.score} vs ${want}`);
    }
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, new RegExp(`caption</span> “${words.join(' ')}”`));
    assert.equal((html.match(/class="caption-strip"/g) ?? []).length, 2, 'one strip per method');
    for (const w of new Set(words)) assert.match(html, new RegExp(`<figcaption>${w}</figcaption>`));
  });

  test('--caption "text": the given caption, word by word', async () => {
    const out = join(root, 'out-given');
    const r = await runCli(['explain', captioner, image, '--caption', 'A red circle.', '-q', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const es = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).images[0].explanations;
    assert.deepEqual(
      es.map((e: { target: { label: string } }) => e.target.label),
      ['a', 'red', 'circle'],
    );
  });

  test('--question: the answer explained with the question, the Fig. 7 report', async () => {
    const out = join(root, 'out-vqa');
    const r = await runCli([
      'explain',
      vqa,
      image,
      '--question',
      'What colour is the square?',
      '-q',
      '-o',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const e = results.images[0].explanations[0];
    assert.equal(e.target.question, 'What colour is the square?');
    assert.ok(ANSWERS.includes(e.target.label));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(
      html,
      new RegExp(
        `Q:</span> What colour is the square\\? <span class="muted">A:</span> <strong>${e.target.label}</strong>`,
      ),
    );
  });

  test('typed errors: out-of-vocabulary words, flags the task does not take', async () => {
    const oov = await runCli([
      'explain',
      vqa,
      image,
      '--question',
      'what colur is the sqare',
      '-q',
      '-o',
      join(root, 'o1'),
    ]);
    assert.notEqual(oov.code, 0);
    assert.match(
      oov.stderr,
      /error\[out-of-vocabulary\]: the question has words the model does not know: "colur", "sqare"/,
    );
    assert.match(oov.stderr, /hint: .*colur → colour/);
    const wrong = await runCli(['explain', vqa, image, '--caption', '-q', '-o', join(root, 'o2')]);
    assert.match(
      wrong.stderr,
      /error\[bad-argument\]: --caption needs a captioning model; this model's task is vqa/,
    );
    const noq = await runCli(['explain', vqa, image, '-q', '-o', join(root, 'o3')]);
    assert.match(noq.stderr, /none is given/);
    assert.match(noq.stderr, /--question/);
  });
});
