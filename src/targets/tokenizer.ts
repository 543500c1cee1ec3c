// Text → token ids with a model's vocabulary (a captioner's or a VQA model's): lowercased, punctuation
// stripped, split on white space, each word looked up as a whole line of the vocabulary. A word the
// vocabulary lacks is an 'out-of-vocabulary' error naming every such word and the closest known ones,
// never a silent <unk>: a question the model cannot read would be explained wrongly.

import { closestNames, GradsightError } from '../errors.ts';
import type { LanguageDescription } from '../model/language-description.ts';
import { tensorFromJson } from '../tensor/json-tensor.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** The words of a text as the vocabulary spells them: "What colour is the square?" → what colour is the square. */
export function textWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** Token ids of `text`; `what` names it in errors ("the question"). */
export function tokenize(text: string, vocabulary: readonly string[], what = 'the text'): number[] {
  if (typeof text !== 'string')
    throw new GradsightError('bad-argument', `${what} must be a string, got ${String(text)}`, {
      hint: 'for example "what colour is the square?"',
    });
  const index = new Map<string, number>();
  vocabulary.forEach((w, i) => {
    const key = w.toLowerCase();
    if (!index.has(key)) index.set(key, i);
  });
  const words = textWords(text);
  if (words.length === 0)
    throw new GradsightError('bad-argument', `${what} has no words: ${JSON.stringify(text)}`, {
      hint: 'give a few words, e.g. "what colour is the square?"',
    });
  const unknown = [...new Set(words.filter((w) => !index.has(w)))];
  if (unknown.length) {
    const known = vocabulary.filter((w) => !/^<.*>$/.test(w));
    const closest = Object.fromEntries(unknown.map((w) => [w, closestNames(w, known, 3)]));
    throw new GradsightError(
      'out-of-vocabulary',
      `${what} has ${unknown.length === 1 ? 'a word' : 'words'} the model does not know: ${unknown.map((w) => JSON.stringify(w)).join(', ')}`,
      {
        hint: `closest words in its vocabulary: ${unknown.map((w) => `${w} → ${closest[w]!.join(', ')}`).join('; ')}`,
        details: { words: unknown, closest },
      },
    );
  }
  return words.map((w) => index.get(w)!);
}

/**
 * The token input's feed for one text (one row): `ids` framed as the model reads them (<bos> first for
 * a caption prefix) and padded to the input's declared length with <pad> (or 0).
 */
export function tokenFeed(ids: readonly number[], language: LanguageDescription, what = 'the text'): Tensor {
  const length = language.tokenLength;
  if (length !== undefined && ids.length > length) {
    throw new GradsightError(
      'bad-argument',
      `${what} has ${ids.length} tokens; the model's input ${language.tokenInput} takes ${length}`,
      { hint: `shorten it to ${length} tokens or fewer` },
    );
  }
  const pad = Array<number>(length === undefined ? 0 : length - ids.length).fill(language.pad ?? 0);
  const row = language.padding === 'left' ? [...pad, ...ids] : [...ids, ...pad];
  return tensorFromJson([row], language.tokenDtype, language.tokenInput);
}

/** A question's feed: its tokens, padded. */
export function questionFeed(question: string, language: LanguageDescription): Tensor {
  return tokenFeed(tokenize(question, language.vocabulary, 'the question'), language, 'the question');
}

/** Several questions' feed, one row each: padded to the input's length, or on a dynamic input to the longest. */
export function questionsFeed(questions: readonly string[], language: LanguageDescription): Tensor {
  const ids = questions.map((t) => tokenize(t, language.vocabulary, 'the question'));
  const length = language.tokenLength ?? Math.max(...ids.map((q) => q.length));
  const padded = { ...language, tokenLength: length };
  const rows = ids.map((q) =>
    Array.from(tokenFeed(q, padded, 'the question').data as ArrayLike<number | bigint>, Number),
  );
  return tensorFromJson(rows, language.tokenDtype, language.tokenInput);
}

/** A given caption's feed: <bos>, its words, <eos>, padded (what greedy decoding would have fed). */
export function captionFeed(caption: string, language: LanguageDescription): Tensor {
  const words = tokenize(caption, language.vocabulary, 'the caption');
  const framed = [language.bos!, ...words, ...(language.eos !== undefined ? [language.eos] : [])];
  // A caption as long as the input: no room for <eos>, which is not explained anyway.
  const length = language.tokenLength;
  return tokenFeed(
    length !== undefined && framed.length === length + 1 ? framed.slice(0, -1) : framed,
    language,
    'the caption',
  );
}
