// The language part of `gradsight demo`: the captioner and the VQA model of demo/models explained on
// held-out scenes (the Grad-CAM paper's Figs. 6–7: each word of the greedy caption with its map; a
// question, its answer and the answer's maps), and their held-out numbers (demo/language-metrics.ts).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { caption, sceneQuestions } from '../../demo/language.ts';
import {
  evaluateLanguage,
  type LanguageMetrics,
  languageRows,
  testScenes,
} from '../../demo/language-metrics.ts';
import type { Scene } from '../../demo/scenes.ts';
import { Explainer, type ExplainOptions } from '../../explain/explainer.ts';
import { openImageModel } from '../../model/open-node.ts';
import type { ReportSection } from '../../report/types.ts';
import { renderImageOutputs } from './explain-outputs.ts';
import type { ExplainedImage } from './explain-records.ts';

export const LANGUAGE_MODELS = ['captioner', 'vqa'] as const;

/** Explained examples and the numbers; undefined when the language models are not in `models`. */
export async function languageDemo(a: {
  readonly models: string;
  readonly out: string;
  readonly taken: Set<string>;
  readonly scenes: number;
  readonly onImages: (images: ExplainedImage[]) => void;
}): Promise<LanguageMetrics | undefined> {
  if (!LANGUAGE_MODELS.every((m) => existsSync(join(a.models, m, 'model.onnx')))) return undefined;
  const captioner = Explainer.fromModel(await openImageModel(join(a.models, 'captioner')));
  try {
    const vqa = Explainer.fromModel(await openImageModel(join(a.models, 'vqa')));
    try {
      const examples = testScenes(4);
      for (const [i, s] of examples.slice(0, 2).entries()) {
        a.onImages(
          await explainScene(
            captioner,
            s,
            `captioner · test scene #${i} (truth: ${caption(s)})`,
            { method: ['gradcam', 'guided-gradcam'] },
            a,
          ),
        );
      }
      for (const [i, s] of examples.slice(2).entries()) {
        const qa = sceneQuestions(s).find((q) => q.object !== null && q.kind !== 'relation');
        if (!qa) continue;
        const shown = await explainScene(
          vqa,
          s,
          `vqa · test scene #${i + 2} (truth: ${qa.answer})`,
          { method: ['gradcam', 'guided-backprop', 'guided-gradcam'], question: qa.question },
          a,
        );
        // The object the question is about, as the ground-truth box (panels are at the scene's size).
        for (const t of shown[0]!.report.targets)
          for (const p of t.panels) Object.assign(p, { truth: s.objects[qa.object!]!.box });
        a.onImages(shown);
      }
      return await evaluateLanguage(captioner, vqa, a.scenes);
    } finally {
      await vqa.release();
    }
  } finally {
    await captioner.release();
  }
}

async function explainScene(
  ex: Explainer,
  s: Scene,
  name: string,
  options: ExplainOptions,
  a: { readonly out: string; readonly taken: Set<string> },
): Promise<ExplainedImage[]> {
  const result = await ex.explain(s.image, options);
  return renderImageOutputs({
    out: a.out,
    items: [{ file: name, image: s.image }],
    result,
    model: ex.model,
    colormap: 'jet',
    alpha: 0.5,
    saveRaw: false,
    taken: a.taken,
  });
}

export function languageSection(m: LanguageMetrics): ReportSection {
  return {
    title: `Captioning and VQA, held out (${m.scenes} test scenes)`,
    text: "Computed now on the scene generator's test split. Caption words are explained on each scene's true caption (each word's log-probability given the true prefix), answers as predicted. Both models look through a spatial attention trained towards the object each word or answer names, and Grad-CAM is computed at the attended map (their preprocess.json's \"layer\"): the pointing game checks that the map shows where the model looks and that the evidence there is positive. A word or answer about one object is scored by the share of its map's positive mass inside that object's box, against the box's share of the image (what an even map would put there), and by the pointing game (chance: the box's share). Guided Grad-CAM vs Guided Backprop: the same mass for |pixels|, as the paper's argument that Guided Grad-CAM is class-discriminative.",
    rows: languageRows(m),
  };
}
