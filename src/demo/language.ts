// The language of the scenes (scenes.ts): one caption per scene from a small grammar, every question a
// few templates can ask with its answer, and the vocabulary and answer list the captioner and the VQA
// model were trained with (vocab.txt, answers.txt). Everything is a pure function of the scene.
//
// Caption: the leftmost object, its relation to the next object from the left, that object:
//   "a red circle left of a small blue square", "a small green triangle above a yellow cross"
// (large objects are unmarked, small ones say "small"). Questions, asked only when the answer is unique:
//   "what colour is the square?" → "blue"         "what shape is the blue object?" → "square"
//   "what size is the square?" → "small"          "what shape is left of the circle?" → "triangle"
//   "how many triangles?" → "two"

import { CLASSES, COLORS, type Scene, type SceneObject, SIZES } from './scenes.ts';

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
export const UNK = 3;
const SPECIAL = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;

const PLURALS = ['circles', 'squares', 'triangles', 'crosses'] as const;
export const COUNTS = ['zero', 'one', 'two', 'three'] as const;
export const RELATIONS = ['left of', 'right of', 'above', 'below'] as const;
export type Relation = (typeof RELATIONS)[number];

/** Token ids in line order of vocab.txt: the special tokens, then every word a caption or question uses. */
export const VOCAB: readonly string[] = [
  ...SPECIAL,
  'a',
  'small',
  ...COLORS,
  ...CLASSES,
  'left',
  'right',
  'of',
  'above',
  'below',
  'what',
  'colour',
  'shape',
  'size',
  'is',
  'the',
  'object',
  'how',
  'many',
  ...PLURALS,
];

/** The VQA model's outputs, in answers.txt line order. */
export const ANSWERS: readonly string[] = [...COLORS, ...CLASSES, ...SIZES, ...COUNTS];

/** Caption length bound in tokens, <bos> and <eos> included (the longest caption has 10 words). */
export const CAPTION_MAX_LENGTH = 12;
/** Questions are left-padded with <pad> to this many tokens (the longest has 7 words). */
export const QUESTION_LENGTH = 8;

const WORD_ID: ReadonlyMap<string, number> = new Map(VOCAB.map((w, i) => [w, i]));

/** Lower-cased words, punctuation ("?", ",", ".") dropped. */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[?,.!]/g, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

/** Word ids; a word outside the vocabulary is <unk>. */
export function encodeWords(words: readonly string[]): number[] {
  return words.map((w) => WORD_ID.get(w) ?? UNK);
}

/** The words of token ids, up to the first <eos>, without <pad> and <bos>. */
export function decodeTokens(ids: readonly number[]): string[] {
  const words: string[] = [];
  for (const id of ids) {
    if (id === EOS) break;
    if (id === PAD || id === BOS) continue;
    words.push(VOCAB[id] ?? SPECIAL[UNK]);
  }
  return words;
}

/** A question as the VQA model reads it: its ids, left-padded with <pad> to `length`. */
export function encodeQuestion(text: string, length = QUESTION_LENGTH): number[] {
  const ids = encodeWords(tokenize(text));
  if (ids.length > length) throw new RangeError(`"${text}" has ${ids.length} words, more than ${length}`);
  return [...new Array<number>(length - ids.length).fill(PAD), ...ids];
}

/**
 * Where `a` is relative to `b`, along the dominant axis of their offset (the layout makes that axis
 * clear). Image rows grow downwards, so a smaller y is "above".
 */
export function relation(a: SceneObject, b: SceneObject): Relation {
  const dx = a.cx - b.cx;
  const dy = a.cy - b.cy;
  if (Math.abs(dx) >= Math.abs(dy)) return dx < 0 ? 'left of' : 'right of';
  return dy < 0 ? 'above' : 'below';
}

export interface CaptionWord {
  readonly word: string;
  /** The index (in scene.objects) of the object this word names, for its shape, colour or size. */
  readonly object: number | null;
}

/** The caption, word by word, with the object each word describes. */
export function captionWords(scene: Scene): CaptionWord[] {
  const order = scene.objects.map((o, i) => ({ o, i })).sort((p, q) => p.o.cx - q.o.cx);
  const [first, second] = order as [(typeof order)[0], (typeof order)[0]];
  const phrase = ({ o, i }: (typeof order)[0]): CaptionWord[] => [
    { word: 'a', object: null },
    ...(o.size === 0 ? [{ word: 'small', object: i }] : []),
    { word: COLORS[o.color], object: i },
    { word: CLASSES[o.shape], object: i },
  ];
  const rel = relation(first.o, second.o)
    .split(' ')
    .map((word) => ({ word, object: null }));
  return [...phrase(first), ...rel, ...phrase(second)];
}

export function caption(scene: Scene): string {
  return captionWords(scene)
    .map((w) => w.word)
    .join(' ');
}

/** The caption as the captioner's target: <bos> words <eos>. */
export function captionTokens(scene: Scene): number[] {
  return [BOS, ...encodeWords(captionWords(scene).map((w) => w.word)), EOS];
}

export type QuestionKind = 'colour' | 'shape' | 'size' | 'relation' | 'count';
export const QUESTION_KINDS: readonly QuestionKind[] = ['colour', 'shape', 'size', 'relation', 'count'];

export interface QuestionAnswer {
  readonly kind: QuestionKind;
  readonly question: string;
  readonly answer: string;
  /** The index of the object the answer is about (none for counts). */
  readonly object: number | null;
}

/** Every question the templates ask about a scene whose answer is unique, in a fixed order. */
export function sceneQuestions(scene: Scene): QuestionAnswer[] {
  const objs = scene.objects;
  const only = <T>(key: (o: SceneObject) => T, v: T): number | null => {
    const hits = objs.flatMap((o, i) => (key(o) === v ? [i] : []));
    return hits.length === 1 ? hits[0]! : null;
  };
  const out: QuestionAnswer[] = [];
  const add = (kind: QuestionKind, question: string, answer: string, object: number | null) =>
    out.push({ kind, question, answer, object });
  CLASSES.forEach((shape, s) => {
    const i = only((o) => o.shape, s);
    if (i === null) return;
    add('colour', `what colour is the ${shape}?`, COLORS[objs[i]!.color], i);
    add('size', `what size is the ${shape}?`, SIZES[objs[i]!.size], i);
    for (const rel of RELATIONS) {
      const others = objs.flatMap((o, j) => (j !== i && relation(o, objs[i]!) === rel ? [j] : []));
      if (others.length === 1) {
        add('relation', `what shape is ${rel} the ${shape}?`, CLASSES[objs[others[0]!]!.shape], others[0]!);
      }
    }
  });
  COLORS.forEach((color, c) => {
    const i = only((o) => o.color, c);
    if (i !== null) add('shape', `what shape is the ${color} object?`, CLASSES[objs[i]!.shape], i);
  });
  PLURALS.forEach((plural, s) => {
    add('count', `how many ${plural}?`, COUNTS[objs.filter((o) => o.shape === s).length]!, null);
  });
  return out;
}

/** Index of an answer in ANSWERS (answers.txt). */
export function answerIndex(answer: string): number {
  const i = ANSWERS.indexOf(answer);
  if (i < 0) throw new RangeError(`"${answer}" is not an answer`);
  return i;
}
