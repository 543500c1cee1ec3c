// The language tasks of the model description (description.ts): a captioner and a VQA model.
//
//   {"task": "captioning", "vocabulary": "vocab.txt", "maxLength": 12}
//       image + token prefix [N, L] → next-token logits at every position [N, L, V]: position t scores
//       token t + 1 given tokens 0..t (teacher forcing; the first token is <bos>)
//   {"task": "vqa", "vocabulary": "vocab.txt", "answers": "answers.txt"}
//       image + question tokens [N, Q] → answer logits [N, A]
//
// Optional keys: "tokenInput" (which input holds the tokens), "tokenLength" (pad token rows to this
// length when the input's length is dynamic), "padding": "right" (default) or "left" (where <pad>
// goes, as the model was trained), "maxLength" (captioning: the most tokens of a decoded caption,
// <bos> and <eos> included; default the token input's static length, else 20).
//
// A vocabulary file has one token per line (line i is token id i) and must have as many lines as the
// logits have words; the answers file names the VQA model's classes. The token input is the model's
// one integer input besides the image ("tokenInput" names it otherwise). Everything is checked here,
// when the model is opened, against the model's inputs and outputs.

import { closestNames, GradsightError } from '../errors.ts';
import type { ValueInfo } from '../onnx/index.ts';
import type { DType } from '../tensor/tensor.ts';

export const LANGUAGE_TASKS = ['captioning', 'vqa'] as const;
export type LanguageTask = (typeof LANGUAGE_TASKS)[number];

/** Longest caption greedy decoding writes when neither "maxLength" nor a static token length says. */
export const DEFAULT_MAX_CAPTION = 20;

/** Special tokens, by the names vocabularies commonly give them. */
const SPECIAL = {
  bos: ['<bos>', '<start>', '<sos>', '<s>'],
  eos: ['<eos>', '<end>', '</s>'],
  pad: ['<pad>', '<null>'],
  unk: ['<unk>'],
} as const;

export interface LanguageDescription {
  readonly task: LanguageTask;
  /** The extra input holding token ids, integers [N, L]. */
  readonly tokenInput: string;
  /** Its element type (int64 for PyTorch exports). */
  readonly tokenDtype: DType;
  /** L when the token input declares it or "tokenLength" says (prefixes and questions are padded to it). */
  readonly tokenLength: number | undefined;
  /** Which side <pad> goes on. */
  readonly padding: 'left' | 'right';
  /** Token id → word (line i of the vocabulary file). */
  readonly vocabulary: readonly string[];
  /** VQA: answer class → text (the answers file). */
  readonly answers?: readonly string[];
  readonly bos: number | undefined;
  readonly eos: number | undefined;
  readonly pad: number | undefined;
  readonly unk: number | undefined;
  /** Captioning: the most tokens of a decoded caption, <bos> and <eos> included. */
  readonly maxLength: number;
}

/** The description keys of the language tasks, as read from preprocess.json or flags. */
export interface LanguageFlags {
  readonly vocabulary?: string;
  readonly answers?: string;
  readonly maxLength?: number;
  readonly tokenInput?: string;
  readonly tokenLength?: number;
  readonly padding?: 'left' | 'right';
}

export const LANGUAGE_KEYS = [
  'vocabulary',
  'answers',
  'maxLength',
  'tokenInput',
  'tokenLength',
  'padding',
] as const;

export interface LanguageCheck {
  readonly task: LanguageTask;
  readonly flags: LanguageFlags;
  /** Where the description came from, for messages. */
  readonly from: string;
  readonly output: ValueInfo;
  /** The model's inputs besides the image. */
  readonly extraInputs: readonly ValueInfo[];
  /** The files' lines, as the loader read them (undefined: not read). */
  readonly vocabulary: readonly string[] | undefined;
  readonly answers: readonly string[] | undefined;
}

const EXAMPLE: Record<LanguageTask, string> = {
  captioning: '{"task":"captioning","vocabulary":"vocab.txt","maxLength":12}',
  vqa: '{"task":"vqa","vocabulary":"vocab.txt","answers":"answers.txt"}',
};

/** The checked language description and the class count of the output (words or answers). */
export function describeLanguage(c: LanguageCheck): { language: LanguageDescription; classes: number } {
  const { task, flags, from, output } = c;
  const fail = (why: string, hint: string, details: Record<string, unknown> = {}) =>
    new GradsightError('bad-description', `${from}: ${why}`, {
      hint,
      details: { source: from, output: output.name, ...details },
    });
  const shape = output.shape ?? [];
  const dims = `[${shape.map((d) => d ?? '?').join(', ')}]`;
  if (flags.vocabulary === undefined) {
    throw fail(
      `a ${task} model needs a vocabulary file ("vocabulary"), and none is named`,
      `add "vocabulary": the file beside the model with one token per line (line i = token id i), e.g. ${EXAMPLE[task]}`,
    );
  }
  if (c.vocabulary === undefined) {
    throw fail(
      `the vocabulary file ${JSON.stringify(flags.vocabulary)} was not read`,
      'put the file beside the model (library: give ImageModelSource.vocabulary, its lines)',
    );
  }
  const vocabulary = c.vocabulary;
  const last = shape[shape.length - 1];
  let classes: number;
  if (task === 'captioning') {
    if (output.shape !== undefined && shape.length !== 3) {
      throw fail(
        `"task" "captioning" needs next-token logits [N, L, V] at every position, but output ${output.name} is ${dims}`,
        'export the teacher-forced decoder (image + token prefix → logits per position), or give that output (--output)',
      );
    }
    if (typeof last === 'number' && last !== vocabulary.length) {
      throw fail(
        `the vocabulary ${flags.vocabulary} has ${vocabulary.length} words but output ${output.name} ${dims} scores ${last}`,
        `give the vocabulary the model was trained with: ${last} lines, one token per line`,
        { words: vocabulary.length, logits: last },
      );
    }
    classes = vocabulary.length;
  } else {
    if (flags.answers === undefined) {
      throw fail(
        'a vqa model needs an answers file ("answers"), and none is named',
        `add "answers": the file with one answer per line (line i = answer class i), e.g. ${EXAMPLE.vqa}`,
      );
    }
    if (c.answers === undefined) {
      throw fail(
        `the answers file ${JSON.stringify(flags.answers)} was not read`,
        'put the file beside the model (library: give ImageModelSource.answers, its lines)',
      );
    }
    const wide = shape.slice(1).filter((d) => d !== 1);
    if (output.shape !== undefined && (shape.length < 2 || wide.length > 1)) {
      throw fail(
        `"task" "vqa" needs answer logits [N, A], but output ${output.name} is ${dims}`,
        'give the output of answer scores (--output)',
      );
    }
    const a = wide[0] ?? 1;
    if (typeof a === 'number' && a !== c.answers.length) {
      throw fail(
        `the answers file ${flags.answers} has ${c.answers.length} lines but output ${output.name} ${dims} scores ${a} answers`,
        `give the answers the model was trained with: ${a} lines`,
        { answers: c.answers.length, logits: a },
      );
    }
    classes = c.answers.length;
  }
  const token = tokenInputOf(c, fail);
  const declared = typeof token.shape?.[1] === 'number' ? token.shape[1] : undefined;
  if (declared !== undefined && flags.tokenLength !== undefined && flags.tokenLength !== declared) {
    throw fail(
      `"tokenLength" is ${flags.tokenLength} but the input ${token.name} has length ${declared}`,
      `drop "tokenLength" (the input declares it) or set it to ${declared}`,
    );
  }
  let tokenLength = declared ?? flags.tokenLength;
  const special = (names: readonly string[]) => {
    const i = vocabulary.findIndex((w) => names.includes(w.toLowerCase()));
    return i >= 0 ? i : undefined;
  };
  const bos = special(SPECIAL.bos);
  const eos = special(SPECIAL.eos);
  if (task === 'captioning' && (bos === undefined || eos === undefined)) {
    throw fail(
      `the vocabulary ${flags.vocabulary} has no ${bos === undefined ? 'start' : 'end'} token, so captions cannot be decoded`,
      `name them ${SPECIAL.bos[0]} and ${SPECIAL.eos[0]} in the vocabulary (the token a caption starts with, and the one it ends with)`,
    );
  }
  // A captioner's prefixes are padded (on the right: the model is causal) to maxLength tokens, so that
  // a recurrent decoder is differentiated unrolled over a fixed number of steps.
  if (task === 'captioning' && tokenLength === undefined)
    tokenLength = flags.maxLength ?? DEFAULT_MAX_CAPTION;
  if (task === 'captioning' && flags.padding === 'left') {
    throw fail(
      '"padding": "left" cannot frame a caption prefix: a captioner reads <bos> first',
      'drop "padding" for a captioning model (its prefixes are padded on the right)',
    );
  }
  const maxLength = flags.maxLength ?? tokenLength ?? DEFAULT_MAX_CAPTION;
  if (task === 'captioning' && (maxLength < 2 || (tokenLength !== undefined && maxLength > tokenLength))) {
    throw fail(
      `"maxLength" ${maxLength} does not fit the token input ${token.name}${tokenLength !== undefined ? ` of length ${tokenLength}` : ''} (it counts <bos> and <eos>)`,
      `set "maxLength" from 2 to ${tokenLength ?? 'the longest caption'}`,
    );
  }
  return {
    classes,
    language: {
      task,
      tokenInput: token.name,
      tokenDtype: token.dtype ?? 'int64',
      tokenLength,
      padding: flags.padding ?? 'right',
      vocabulary,
      ...(c.answers && task === 'vqa' ? { answers: c.answers } : {}),
      bos,
      eos,
      pad: special(SPECIAL.pad),
      unk: special(SPECIAL.unk),
      maxLength,
    },
  };
}

function tokenInputOf(
  c: LanguageCheck,
  fail: (why: string, hint: string, details?: Record<string, unknown>) => GradsightError,
): ValueInfo {
  const ints = c.extraInputs.filter((i) => i.dtype === undefined || /^u?int/.test(i.dtype));
  const list = c.extraInputs.map((i) => `${i.name} ${i.dtype ?? '?'}`).join(', ') || 'none';
  const name = c.flags.tokenInput;
  if (name !== undefined) {
    const hit = c.extraInputs.find((i) => i.name === name);
    if (!hit) {
      throw fail(
        `"tokenInput" ${JSON.stringify(name)} is not an input of the model besides the image`,
        `inputs besides the image: ${list}; closest: ${closestNames(
          name,
          c.extraInputs.map((i) => i.name),
        ).join(', ')}`,
      );
    }
    return hit;
  }
  if (ints.length === 1) return ints[0]!;
  throw fail(
    ints.length === 0
      ? `a ${c.task} model takes token ids besides the image, but it has no integer input besides it`
      : `cannot tell which of the model's integer inputs holds the tokens (${ints.map((i) => i.name).join(', ')})`,
    ints.length === 0
      ? `inputs besides the image: ${list}; export the model with an int64 [N, L] token input`
      : `name it with "tokenInput" in preprocess.json, e.g. "tokenInput": "${ints[0]!.name}"`,
  );
}
