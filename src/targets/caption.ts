// Caption-word targets (the Grad-CAM paper's Fig. 6): a captioner reads the image and a token prefix
// [N, L] and scores the next token at every position, logits [N, L, V]; word i of the caption (token i,
// after <bos> at 0) is explained by its log-probability given the prefix,
//
//   log p(w_i | w_0..w_{i-1}, image) = log softmax(logits[i − 1])[w_i],
//
// a log-softmax head over the vocabulary in the graph and a one-hot seed at (i − 1, w_i). The caption
// is the token feed of the image (greedy decoding or the user's caption, explain/caption-decode.ts):
// one forward pass teacher-forces every position, so all of a caption's words are rows of one run.

import { GradsightError } from '../errors.ts';
import type { LanguageDescription } from '../model/language-description.ts';
import { logSoftmaxHead } from './heads.ts';
import type { TargetEnv } from './resolve.ts';
import type { Target, TargetRowInit, TargetValues } from './types.ts';

/** All words (default), the word at a 1-based position, or every occurrence of a word. */
export interface CaptionPick {
  readonly word?: number | string;
}

export function captionTarget(pick: CaptionPick, env: TargetEnv): Target {
  const language = env.language;
  if (language?.task !== 'captioning') {
    throw new GradsightError('bad-argument', 'caption targets need a captioning model', {
      hint: 'describe the model in preprocess.json: {"task":"captioning","vocabulary":"vocab.txt"}',
    });
  }
  return {
    head: logSoftmaxHead,
    rows: (v) => {
      const words = captionIds(v, language);
      const texts = words.map((id) => language.vocabulary[id]!);
      const positions = chosen(pick, texts);
      const vocab = language.vocabulary.length;
      return positions.map((i) => {
        const id = words[i - 1]!;
        const seed = new Float32Array(v.t.length);
        // Word i (1-based) is token i; the logits at position i − 1 score it.
        seed[(i - 1) * vocab + id] = 1;
        const prefix = texts.slice(0, i - 1).join(' ');
        return {
          index: id,
          label: texts[i - 1]!,
          description: `log p("${texts[i - 1]}"${prefix ? ` | "${prefix}"` : ''}), word ${i}`,
          kind: 'caption-word',
          seed,
          word: { position: i, words: texts },
        } satisfies TargetRowInit;
      });
    },
  };
}

/** The caption's word ids of one image: its token feed after <bos>, up to <eos> or padding. */
export function captionIds(v: TargetValues, language: LanguageDescription): number[] {
  const feed = v.feeds?.[language.tokenInput];
  if (!feed) {
    throw new GradsightError(
      'bad-argument',
      `caption targets read the caption from the input ${language.tokenInput}, which is not given`,
      {
        hint: 'let explain() decode the caption (no feed for it), or give one with the caption option (--caption "...")',
      },
    );
  }
  const [positions, vocab] = v.xDims as [number, number];
  if (v.xDims.length !== 2 || vocab !== language.vocabulary.length) {
    throw new GradsightError(
      'bad-argument',
      `caption targets read next-word logits [N, L, ${language.vocabulary.length}]; the read tensor's rows are [${v.xDims.join(', ')}]`,
      { hint: 'read the captioner’s logits output (--target-output)' },
    );
  }
  const tokens = Array.from(feed.data as ArrayLike<number | bigint>, Number);
  if (tokens[0] !== language.bos) {
    throw new GradsightError(
      'bad-argument',
      `the caption tokens must start with <bos> (${language.bos}), got ${tokens[0]}`,
      {
        hint: 'frame the caption as the model was trained: <bos> w1 w2 ... <eos>',
      },
    );
  }
  const ids: number[] = [];
  for (let i = 1; i < Math.min(tokens.length, positions + 1); i++) {
    const id = tokens[i]!;
    if (id === language.eos || id === language.pad) break;
    if (!Number.isInteger(id) || id < 0 || id >= vocab) {
      throw new GradsightError(
        'bad-argument',
        `caption token ${i} is ${id}: not a word of the vocabulary (0 to ${vocab - 1})`,
        {
          hint: 'give token ids of the model’s vocabulary',
        },
      );
    }
    ids.push(id);
  }
  return ids;
}

function chosen(pick: CaptionPick, texts: readonly string[]): number[] {
  const all = texts.map((_, i) => i + 1);
  if (pick.word === undefined) return all;
  if (typeof pick.word === 'number') {
    if (!Number.isInteger(pick.word) || pick.word < 1 || pick.word > texts.length) {
      throw new GradsightError(
        'bad-argument',
        `the caption "${texts.join(' ')}" has ${texts.length} words; there is no word ${pick.word}`,
        { hint: `give a word position from 1 to ${texts.length}, or the word itself` },
      );
    }
    return [pick.word];
  }
  const want = pick.word.toLowerCase();
  const hits = all.filter((i) => texts[i - 1]!.toLowerCase() === want);
  if (hits.length === 0) {
    throw new GradsightError(
      'bad-argument',
      `the caption "${texts.join(' ')}" has no word ${JSON.stringify(pick.word)}`,
      { hint: `its words: ${texts.join(', ')}` },
    );
  }
  return hits;
}
