// The token feeds of captioning and VQA models. A caption is decoded greedily by the model (run it
// with a growing prefix, append the most likely next word, stop at <eos> or the longest caption) or
// given as text; a question is given as text. Both become the token input's feed, so every target
// and method then sees an ordinary multi-input model (targets/caption.ts reads the caption from it).

import { GradsightError } from '../errors.ts';
import type { ImageModel } from '../model/image-model.ts';
import type { LanguageDescription } from '../model/language-description.ts';
import { captionFeed, questionsFeed, tokenFeed } from '../targets/tokenizer.ts';
import { concatRows, type Feeds } from '../tensor/rows.ts';
import type { Float32Tensor, Tensor } from '../tensor/tensor.ts';

export interface LanguageOptions {
  /** Captioning: the caption to explain, one for all images or one per image (default: decoded greedily). */
  readonly caption?: string | readonly string[];
  /** VQA: the question, one for all images or one per image. */
  readonly question?: string | readonly string[];
}

/** What the language feeds were, per image: the captions' words, the questions. */
export interface LanguageInfo {
  readonly captions?: readonly (readonly string[])[];
  readonly questions?: readonly string[];
}

/** The caption of each image of the batch, decoded greedily: ids after <bos>, words, and the feed. */
export async function greedyCaptions(
  model: ImageModel,
  batch: Float32Tensor,
  options: { readonly maxLength?: number; readonly feeds?: Feeds } = {},
): Promise<{ ids: number[][]; words: string[][]; feed: Tensor }> {
  const language = languageOf(model, 'captioning', 'greedy captions');
  const n = batch.dims[0]!;
  // maxLength counts <bos> and <eos>: at most maxLength − 1 tokens are generated after <bos>.
  const max = (options.maxLength ?? language.maxLength) - 1;
  const fixed = language.tokenLength;
  const fill = language.pad ?? language.eos!;
  const ids: number[][] = Array.from({ length: n }, () => []);
  const done = new Array<boolean>(n).fill(false);
  const vocab = language.vocabulary.length;
  for (let step = 0; step < max && done.some((d) => !d); step++) {
    const prefixes = ids.map((w) => [language.bos!, ...w]);
    const feed = rowsFeed(prefixes, language, fixed ?? step + 1, fill);
    const logits = await model.run(batch, { ...options.feeds, [language.tokenInput]: feed });
    const positions = logits.data.length / (n * vocab);
    for (let b = 0; b < n; b++) {
      if (done[b]) continue;
      // The logits at position `step` score the token after the prefix <bos> w1..w_step.
      const at = (b * positions + step) * vocab;
      let best = 0;
      for (let k = 1; k < vocab; k++) if (logits.data[at + k]! > logits.data[at + best]!) best = k;
      if (best === language.eos) done[b] = true;
      else ids[b]!.push(best);
    }
  }
  const framed = ids.map((w) => [language.bos!, ...w, language.eos!]);
  const width = fixed ?? Math.max(...framed.map((f) => f.length));
  const feed = rowsFeed(
    framed.map((f) => f.slice(0, width)),
    language,
    width,
    fill,
  );
  return { ids, words: ids.map((w) => w.map((id) => language.vocabulary[id]!)), feed };
}

/**
 * The feeds explain() runs with: the given ones, plus the token input of a captioning model (the
 * given caption, or the greedy one when no token feed is given) or of a VQA model (the question).
 */
export async function languageFeeds(
  model: ImageModel,
  batch: Float32Tensor,
  feeds: Feeds | undefined,
  options: LanguageOptions,
): Promise<{ feeds: Feeds | undefined; info: LanguageInfo | undefined }> {
  const language = model.description.language;
  const { caption, question } = options;
  if (!language) {
    if (caption === undefined && question === undefined) return { feeds, info: undefined };
    throw new GradsightError(
      'bad-argument',
      `${caption !== undefined ? 'a caption' : 'a question'} needs a ${caption !== undefined ? 'captioning' : 'VQA'} model; this model's task is ${model.description.task.kind}`,
      {
        hint: `describe the model in preprocess.json, e.g. ${caption !== undefined ? '{"task":"captioning","vocabulary":"vocab.txt"}' : '{"task":"vqa","vocabulary":"vocab.txt","answers":"answers.txt"}'}`,
      },
    );
  }
  const n = batch.dims[0]!;
  const given = feeds?.[language.tokenInput];
  const wrongKind = language.task === 'captioning' ? question : caption;
  if (wrongKind !== undefined) {
    throw new GradsightError(
      'bad-argument',
      `a ${language.task === 'captioning' ? 'question' : 'caption'} was given, but this is a ${language.task} model`,
      {
        hint: language.task === 'captioning' ? 'give a caption (or none: it is decoded)' : 'give a question',
      },
    );
  }
  const text = language.task === 'captioning' ? caption : question;
  if (text !== undefined && given) {
    throw new GradsightError(
      'bad-argument',
      `both a ${language.task === 'captioning' ? 'caption' : 'question'} and a feed for ${language.tokenInput} were given`,
      { hint: 'give one of them: the text is tokenized into that feed' },
    );
  }
  if (given) {
    const fitted = fitTokens(given, language);
    if (fitted !== given) feeds = { ...feeds, [language.tokenInput]: fitted };
  }
  if (language.task === 'captioning') {
    if (given) return { feeds, info: undefined };
    if (text === undefined) {
      const decoded = await greedyCaptions(model, batch, feeds ? { feeds } : {});
      return { feeds: { ...feeds, [language.tokenInput]: decoded.feed }, info: { captions: decoded.words } };
    }
    const texts = perImage(text, n, 'caption');
    const feed = concatRows(texts.map((t) => captionFeed(t, language)));
    return { feeds: { ...feeds, [language.tokenInput]: feed }, info: undefined };
  }
  if (text === undefined) {
    if (given) return { feeds, info: undefined };
    throw new GradsightError(
      'bad-argument',
      'a VQA model explains its answer to a question, and none is given',
      {
        hint: `give one: --question "what colour is the square?" (library: explain(images, { question })), or its tokens with --feed ${language.tokenInput}=ids.json`,
      },
    );
  }
  const texts = perImage(text, n, 'question');
  const feed = questionsFeed(texts, language);
  return { feeds: { ...feeds, [language.tokenInput]: feed }, info: { questions: texts } };
}

/**
 * A token feed given as is, at the token length the model is differentiated at (language-description.ts):
 * shorter rows padded with <pad> on the model's padding side (a captioner's prefix on the right, where
 * a causal decoder never reads it), longer ones a typed error.
 */
function fitTokens(given: Tensor, language: LanguageDescription): Tensor {
  const length = language.tokenLength;
  const [rows, width] = given.dims;
  if (given.dims.length !== 2 || rows === undefined || width === undefined) {
    throw new GradsightError(
      'shape-mismatch',
      `the token feed ${language.tokenInput} has shape [${given.dims.join(', ')}]; it takes [N, L] token ids`,
      { hint: 'give one row of token ids per image, e.g. [[1, 4, 5, 9]]' },
    );
  }
  if (length === undefined || width === length) return given;
  if (width > length || language.pad === undefined) {
    throw new GradsightError(
      'shape-mismatch',
      `the token feed ${language.tokenInput} has ${width} ids per row; this model is explained at ${length}`,
      {
        hint:
          width > length
            ? `give at most ${length} ids per row (raise "tokenLength"/"maxLength" in preprocess.json for longer ones)`
            : `pad each row to ${length} ids (the vocabulary has no <pad> token to do it)`,
      },
    );
  }
  const ids = Array.from(given.data as ArrayLike<number | bigint>, Number);
  const padded: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const row = ids.slice(r * width, (r + 1) * width);
    const fill = Array<number>(length - width).fill(language.pad);
    padded.push(language.padding === 'left' ? [...fill, ...row] : [...row, ...fill]);
  }
  return concatRows(padded.map((row) => tokenFeed(row, language)));
}

function languageOf(model: ImageModel, task: 'captioning' | 'vqa', what: string): LanguageDescription {
  const language = model.description.language;
  if (language?.task !== task) {
    throw new GradsightError(
      'bad-argument',
      `${what} need a ${task} model; this model's task is ${model.description.task.kind}`,
      {
        hint: `describe it in preprocess.json: {"task":"${task}","vocabulary":"vocab.txt"${task === 'vqa' ? ',"answers":"answers.txt"' : ''}}`,
      },
    );
  }
  return language;
}

/** Rows of token ids padded with `fill` to `width`, as the token input's dtype. */
function rowsFeed(
  rows: readonly number[][],
  language: LanguageDescription,
  width: number,
  fill: number,
): Tensor {
  return concatRows(
    rows.map((r) => {
      const row = [...r];
      while (row.length < width) row.push(fill);
      return tokenFeed(row, language);
    }),
  );
}

function perImage(text: string | readonly string[], n: number, what: string): string[] {
  if (typeof text === 'string') return Array.from({ length: n }, () => text);
  if (!Array.isArray(text) || text.length !== n || text.some((t) => typeof t !== 'string')) {
    throw new GradsightError('bad-argument', `give one ${what} for all images or one per image (${n})`, {
      hint: `for example ${what}: "${what === 'caption' ? 'a red circle left of a blue square' : 'what colour is the square?'}"`,
    });
  }
  return [...text];
}
