// The language demo's held-out numbers (the Grad-CAM paper's §7–8 on gradsight's own scenes), computed
// on the test split of the scene generator (src/demo/scenes.ts, never seen in training):
//
// - captioner: teacher-forced word accuracy (the next token given the true prefix, <eos> included),
//   and greedy decoding's word accuracy and exact captions against the scene's caption;
// - VQA: answer accuracy over every question the templates ask;
// - localization of the words that name an object (its colour, size or shape) and of the answers
//   about one object: the share of the map's positive mass inside that object's box against the
//   box's share of the image (what a map spread evenly would put there), and the pointing game (the
//   map's maximum inside the box; chance: the box's area share) — for Grad-CAM, and the paper's
//   comparison of Guided Grad-CAM with Guided Backprop (mass of |pixels| summed over channels).
//
// Caption words are explained on the scene's true caption (so each word's object is known): each
// word's log-probability given the true prefix. Answers are explained as predicted.

import { massInside } from '../eval/metrics/bias.ts';
import { pointingAccuracy, pointingGame } from '../eval/metrics/pointing.ts';
import { boxesToMask, count } from '../eval/metrics/regions.ts';
import type { Explainer, Explanation } from '../explain/explainer.ts';
import { greedyCaptions } from '../explain/language.ts';
import { imagesToBatch } from '../image/preprocess.ts';
import { questionsFeed, tokenize } from '../targets/tokenizer.ts';
import { tensorFromJson } from '../tensor/json-tensor.ts';
import { topK } from '../tensor/tensor.ts';
import { caption, captionWords, sceneQuestions } from './language.ts';
import { COLORS, SCENE_SPLITS, type Scene, splitScene } from './scenes.ts';

const METHODS = ['gradcam', 'guided-backprop', 'guided-gradcam'] as const;
type Measured = (typeof METHODS)[number];

/** Localization of the explained words or answers, each about one object. */
export interface ObjectLocalization {
  /** How many words (answers) were explained. */
  readonly count: number;
  /** Mean share of the box in the image (a uniform map's mass inside it; the pointing game's chance). */
  readonly boxArea: number;
  /** Mean share of each map's positive mass inside the named object's box. */
  readonly mass: Readonly<Record<Measured, number>>;
  /** Grad-CAM's maximum inside the box. */
  readonly pointing: number;
  /**
   * The pointing game per kind: the word's (size, colour, shape) or the question's (colour, shape,
   * size, relation), with how many of each.
   */
  readonly pointingByKind: Readonly<Record<string, { readonly count: number; readonly pointing: number }>>;
}

export interface LanguageMetrics {
  /** Held-out test scenes used (the first n). */
  readonly scenes: number;
  readonly captioner: {
    readonly wordAccuracy: number;
    readonly greedyWordAccuracy: number;
    readonly exactCaptions: number;
    readonly words: ObjectLocalization;
  };
  readonly vqa: {
    readonly questions: number;
    readonly accuracy: number;
    readonly answers: ObjectLocalization;
  };
}

export function testScenes(n: number): Scene[] {
  return Array.from({ length: Math.min(n, SCENE_SPLITS.test.count) }, (_, i) =>
    splitScene(SCENE_SPLITS.test, i),
  );
}

const CHUNK = 16;

export async function evaluateLanguage(
  captioner: Explainer,
  vqa: Explainer,
  n = 64,
): Promise<LanguageMetrics> {
  const scenes = testScenes(n);
  return {
    scenes: scenes.length,
    captioner: await captionNumbers(captioner, scenes),
    vqa: await vqaNumbers(vqa, scenes),
  };
}

async function captionNumbers(
  ex: Explainer,
  scenes: readonly Scene[],
): Promise<LanguageMetrics['captioner']> {
  const language = ex.model.description.language!;
  let forced = 0;
  let forcedTotal = 0;
  let greedyHits = 0;
  let truthWords = 0;
  let exact = 0;
  const local = new Localization();
  for (let i = 0; i < scenes.length; i += CHUNK) {
    const chunk = scenes.slice(i, i + CHUNK);
    const batch = imagesToBatch(
      chunk.map((s) => s.image),
      ex.model.preprocess,
    );
    // Teacher forcing: <bos> w1 … wT <eos>; position t must predict token t + 1.
    const texts = chunk.map(caption);
    const framed = texts.map((t) => [
      language.bos!,
      ...tokenize(t, language.vocabulary, 'the caption'),
      language.eos!,
    ]);
    const width = language.tokenLength ?? Math.max(...framed.map((f) => f.length));
    const tokens = framed.map((f) => [...f, ...Array<number>(width - f.length).fill(language.pad ?? 0)]);
    const feed = tensorFromJson(tokens, language.tokenDtype, language.tokenInput);
    const logits = await ex.model.run(batch, { [language.tokenInput]: feed });
    const vocab = language.vocabulary.length;
    const positions = logits.data.length / (chunk.length * vocab);
    chunk.forEach((_, b) => {
      const own = framed[b]!.length;
      for (let t = 0; t + 1 < own; t++) {
        const at = (b * positions + t) * vocab;
        forced += topK(logits.data.subarray(at, at + vocab), 1)[0] === tokens[b]![t + 1] ? 1 : 0;
        forcedTotal++;
      }
    });
    const greedy = await greedyCaptions(ex.model, batch);
    chunk.forEach((s, b) => {
      const truth = captionWords(s).map((w) => w.word);
      const got = greedy.words[b]!;
      truthWords += truth.length;
      greedyHits += truth.filter((w, k) => got[k] === w).length;
      if (got.join(' ') === truth.join(' ')) exact++;
    });
    const r = await ex.explain(
      chunk.map((s) => s.image),
      { method: [...METHODS], caption: texts, target: 'caption' },
    );
    for (const e of r.explanations) {
      const { word, object } = captionWords(chunk[e.image]!)[e.target.word!.position - 1]!;
      if (object !== null)
        local.add(e, chunk[e.image]!, object, `${i + e.image}:${e.target.word!.position}`, wordKind(word));
    }
  }
  return {
    wordAccuracy: forced / forcedTotal,
    greedyWordAccuracy: greedyHits / truthWords,
    exactCaptions: exact / scenes.length,
    words: local.summary(),
  };
}

async function vqaNumbers(ex: Explainer, scenes: readonly Scene[]): Promise<LanguageMetrics['vqa']> {
  const language = ex.model.description.language!;
  const all = scenes.flatMap((s, i) => sceneQuestions(s).map((qa) => ({ s, i, qa })));
  let right = 0;
  const local = new Localization();
  for (let k = 0; k < all.length; k += 4 * CHUNK) {
    const chunk = all.slice(k, k + 4 * CHUNK);
    const batch = imagesToBatch(
      chunk.map((c) => c.s.image),
      ex.model.preprocess,
    );
    const feed = questionsFeed(
      chunk.map((c) => c.qa.question),
      language,
    );
    const out = await ex.model.run(batch, { [language.tokenInput]: feed });
    const a = out.data.length / chunk.length;
    chunk.forEach((c, j) => {
      const best = topK(out.data.subarray(j * a, (j + 1) * a), 1)[0]!;
      if (ex.model.labels?.[best] === c.qa.answer) right++;
    });
    const about = chunk.filter((c) => c.qa.object !== null);
    if (about.length === 0) continue;
    const r = await ex.explain(
      about.map((c) => c.s.image),
      { method: [...METHODS], question: about.map((c) => c.qa.question), target: 'pred' },
    );
    for (const e of r.explanations) {
      const c = about[e.image]!;
      local.add(e, c.s, c.qa.object!, `${c.i}:${c.qa.question}`, c.qa.kind);
    }
  }
  return { questions: all.length, accuracy: right / all.length, answers: local.summary() };
}

/** What a caption word that names an object says of it. */
function wordKind(word: string): string {
  if (word === 'small') return 'size';
  return (COLORS as readonly string[]).includes(word) ? 'colour' : 'shape';
}

/** Per explained word (answer): each method's mass in the object's box, Grad-CAM's pointing. */
class Localization {
  private readonly rows = new Map<
    string,
    { area: number; kind: string; mass: Partial<Record<Measured, number>>; hit?: boolean }
  >();

  add(e: Explanation, scene: Scene, object: number, key: string, kind: string): void {
    const box = scene.objects[object]!.box;
    const mask = boxesToMask([box], e.width, e.height);
    let row = this.rows.get(key);
    if (!row) {
      row = { area: count(mask) / (e.width * e.height), kind, mass: {} };
      this.rows.set(key, row);
    }
    const method = e.method as Measured;
    const map = e.map ?? magnitude(e.pixels!, e.width * e.height);
    row.mass[method] = massInside(map, mask);
    if (method === 'gradcam') row.hit = pointingGame(map, e.width, e.height, { boxes: [box] }, 0).hit;
  }

  summary(): ObjectLocalization {
    const rows = [...this.rows.values()];
    const mean = (f: (r: (typeof rows)[number]) => number) =>
      rows.reduce((s, r) => s + f(r), 0) / Math.max(rows.length, 1);
    return {
      count: rows.length,
      boxArea: mean((r) => r.area),
      mass: {
        gradcam: mean((r) => r.mass.gradcam ?? 0),
        'guided-backprop': mean((r) => r.mass['guided-backprop'] ?? 0),
        'guided-gradcam': mean((r) => r.mass['guided-gradcam'] ?? 0),
      },
      pointing: rows.length ? pointingAccuracy(rows.map((r) => ({ hit: r.hit ?? false }))) : 0,
      pointingByKind: Object.fromEntries(
        [...new Set(rows.map((r) => r.kind))].sort().map((kind) => {
          const of = rows.filter((r) => r.kind === kind);
          return [
            kind,
            { count: of.length, pointing: pointingAccuracy(of.map((r) => ({ hit: r.hit ?? false }))) },
          ];
        }),
      ),
    };
  }
}

/** Σ_c |pixels[c, p]|: a pixel method's map. */
function magnitude(pixels: Float32Array, plane: number): Float32Array {
  const out = new Float32Array(plane);
  for (let i = 0; i < pixels.length; i++) out[i % plane]! += Math.abs(pixels[i]!);
  return out;
}

/** The numbers as report rows (the demo's report section and its printout). */
export function languageRows(m: LanguageMetrics): [string, string][] {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const loc = (what: string, l: ObjectLocalization): [string, string][] => [
    [
      `${what}: Grad-CAM mass in box / box area`,
      `${pct(l.mass.gradcam)} / ${pct(l.boxArea)} (${(l.mass.gradcam / l.boxArea).toFixed(1)}×, ${l.count} maps)`,
    ],
    [
      `${what}: pointing game, Grad-CAM`,
      `${pct(l.pointing)} (chance ${pct(l.boxArea)}; ${Object.entries(l.pointingByKind)
        .map(([k, v]) => `${k} ${pct(v.pointing)}`)
        .join(', ')})`,
    ],
    [
      `${what}: box mass, Guided Grad-CAM / GBP`,
      `${pct(l.mass['guided-gradcam'])} / ${pct(l.mass['guided-backprop'])}`,
    ],
  ];
  return [
    ['captioner: word accuracy (true prefix)', pct(m.captioner.wordAccuracy)],
    [
      'captioner: greedy words / whole captions right',
      `${pct(m.captioner.greedyWordAccuracy)} / ${pct(m.captioner.exactCaptions)}`,
    ],
    ...loc('caption words', m.captioner.words),
    ['VQA: answer accuracy', `${pct(m.vqa.accuracy)} of ${m.vqa.questions} questions`],
    ...loc('VQA answers', m.vqa.answers),
  ];
}
