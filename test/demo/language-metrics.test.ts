// The captioning and VQA demo numbers: recomputed by gradsight on the held-out test scenes, equal to the
// stored demo/metrics.json within tolerances, and showing what the issue asks: word and answer
// accuracy, maps of the words and answers about one object concentrated on that object (mass in its
// box at least 2× the box's area share, pointing game ≥ 80%), Guided Grad-CAM more on the object than
// Guided Backprop. The maps are Grad-CAM at each model's attended map (the "layer" of its
// preprocess.json); the models' attention is trained towards the named object, so the pointing game
// checks that gradsight's map shows where the model looks and that the word's evidence there is
// positive. Skips while demo/models has no captioner or VQA model.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { DEMO_MODELS } from '../../src/cli/commands/demo.ts';
import {
  evaluateLanguage,
  type LanguageMetrics,
  type ObjectLocalization,
} from '../../src/demo/language-metrics.ts';
import { Explainer } from '../../src/explain/explainer.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { repoRoot } from '../helpers/shared.ts';

const present = ['captioner', 'vqa'].every((m) => existsSync(join(DEMO_MODELS, m, 'model.onnx')));
const stored = JSON.parse(readFileSync(join(repoRoot, 'demo', 'metrics.json'), 'utf8')) as {
  language?: LanguageMetrics;
};

const skip =
  present && stored.language
    ? false
    : 'demo/models has no captioner/vqa (or metrics.json no language numbers) yet';

describe('captioning and VQA held-out numbers', { skip }, () => {
  let got: LanguageMetrics;
  before(async () => {
    const captioner = Explainer.fromModel(await openImageModel(join(DEMO_MODELS, 'captioner')));
    const vqa = Explainer.fromModel(await openImageModel(join(DEMO_MODELS, 'vqa')));
    try {
      got = await evaluateLanguage(captioner, vqa, stored.language!.scenes);
    } finally {
      await captioner.release();
      await vqa.release();
    }
  });
  const both = () =>
    [
      ['caption words', got.captioner.words],
      ['VQA answers', got.vqa.answers],
    ] as const;

  test('recomputed: as stored in demo/metrics.json', (t) => {
    const want = stored.language!;
    t.diagnostic(JSON.stringify(got));
    const close = (a: number, b: number, tol: number, what: string) =>
      assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs stored ${b}`);
    assert.equal(got.scenes, want.scenes);
    close(got.captioner.wordAccuracy, want.captioner.wordAccuracy, 0.005, 'word accuracy');
    close(got.captioner.greedyWordAccuracy, want.captioner.greedyWordAccuracy, 0.01, 'greedy word accuracy');
    close(got.captioner.exactCaptions, want.captioner.exactCaptions, 0.02, 'exact captions');
    assert.equal(got.vqa.questions, want.vqa.questions);
    close(got.vqa.accuracy, want.vqa.accuracy, 0.005, 'VQA accuracy');
    const same = (g: ObjectLocalization, w: ObjectLocalization, what: string) => {
      assert.equal(g.count, w.count, `${what} count`);
      close(g.boxArea, w.boxArea, 1e-9, `${what} box area`);
      close(g.pointing, w.pointing, 0.02, `${what} pointing`);
      for (const m of ['gradcam', 'guided-backprop', 'guided-gradcam'] as const)
        close(g.mass[m], w.mass[m], 0.01, `${what} ${m} mass`);
      assert.deepEqual(Object.keys(g.pointingByKind), Object.keys(w.pointingByKind ?? {}), `${what} kinds`);
      for (const [kind, v] of Object.entries(g.pointingByKind)) {
        assert.equal(v.count, w.pointingByKind[kind]!.count, `${what} ${kind} count`);
        close(v.pointing, w.pointingByKind[kind]!.pointing, 0.03, `${what} ${kind} pointing`);
      }
    };
    same(got.captioner.words, want.captioner.words, 'caption words');
    same(got.vqa.answers, want.vqa.answers, 'VQA answers');
  });

  test('the models work, and the maps are on the named object: mass ≥ 2× its area share', () => {
    assert.ok(got.captioner.wordAccuracy >= 0.8, `the captioner works (${got.captioner.wordAccuracy})`);
    assert.ok(got.vqa.accuracy >= 0.6, `the VQA model works (${got.vqa.accuracy})`);
    for (const [what, l] of both()) {
      assert.ok(l.count >= 50, `${what}: enough explained`);
      assert.ok(
        l.mass.gradcam >= 2 * l.boxArea,
        `${what}: Grad-CAM mass ${l.mass.gradcam} vs box area ${l.boxArea}`,
      );
    }
  });

  test('Guided Grad-CAM puts more of its mass on the named object than Guided Backprop', () => {
    for (const [what, l] of both())
      assert.ok(
        l.mass['guided-gradcam'] > l.mass['guided-backprop'],
        `${what}: Guided Grad-CAM ${l.mass['guided-gradcam']} vs Guided Backprop ${l.mass['guided-backprop']}`,
      );
  });

  // The bar. (Grad-CAM at the image-only map before any attention pointed 54–59%: one weight
  // per channel for the whole map cannot tell two objects with the same features apart.) Every kind
  // of word and answer is well above chance too, so no kind is carried by the others.
  test('pointing game ≥ 80% for caption words and one-object answers, every kind above 5× chance', () => {
    for (const [what, l] of both()) {
      assert.ok(l.pointing >= 0.8, `${what}: pointing ${l.pointing}`);
      for (const [kind, v] of Object.entries(l.pointingByKind))
        assert.ok(
          v.pointing >= 5 * l.boxArea,
          `${what}, ${kind}: pointing ${v.pointing} vs chance ${l.boxArea}`,
        );
    }
  });
});
