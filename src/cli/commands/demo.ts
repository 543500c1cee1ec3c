// gradsight demo: the whole tool on models and images that ship with it, offline. Two small CNNs
// trained on gradsight's synthetic shapes (demo/models): the clean one explained with Grad-CAM, its
// counterfactual, Guided Backprop, Guided Grad-CAM and CAM, boxes against the ground truth; a
// two-object image explained for each of its classes; the biased one caught looking at a watermark;
// and the held-out numbers. Writes the HTML report and prints its path.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import pc from 'picocolors';
import { CLASSES, type DemoSample, SPLITS, splitSample } from '../../demo/dataset.ts';
import { type DemoMetrics, evaluateDemo, massInside } from '../../demo/evaluate.ts';
import { languageRows } from '../../demo/language-metrics.ts';
import { iou, localize } from '../../eval/localization.ts';
import { Explainer, type ExplainOptions } from '../../explain/explainer.ts';
import { imagesToBatch } from '../../image/preprocess.ts';
import { abandonRun, finishRun, readManifest, recordWrites } from '../../io/output-run-node.ts';
import { prepareOutputDir, writeFileAtomic } from '../../io/write-file-node.ts';
import { openImageModel } from '../../model/open-node.ts';
import { encodePng } from '../../render/png-node.ts';
import type { ReportImage } from '../../report/types.ts';
import { writeReport } from '../../report/write-node.ts';
import { topK } from '../../tensor/tensor.ts';
import { VERSION } from '../../version.ts';
import { InterruptWatch } from '../interrupt.ts';
import type { CliIo } from '../main.ts';
import { positiveInt } from '../options.ts';
import { languageDemo, languageSection } from './demo-language.ts';
import { renderImageOutputs } from './explain-outputs.ts';
import type { ExplainedImage } from './explain-records.ts';

/** demo/models beside the package (src/cli/commands or dist/cli/commands → ../../../demo/models). */
export const DEMO_MODELS = fileURLToPath(new URL('../../../demo/models/', import.meta.url));

interface DemoOpts {
  out: string;
  eval: number;
  evalScenes: number;
  json?: boolean;
}

const METHODS_SHOWN: ExplainOptions['method'] = ['gradcam', 'guided-backprop', 'guided-gradcam', 'cam'];

export function demoCommand(io: CliIo): Command {
  return new Command('demo')
    .description('explain the embedded demo models and images (offline) and write an HTML report')
    .option('-o, --out <dir>', 'output folder', 'gradsight-demo')
    .option('--eval <n>', 'held-out test images for the numbers', positiveInt('--eval'), 400)
    .option(
      '--eval-scenes <n>',
      'held-out test scenes for the captioning and VQA numbers',
      positiveInt('--eval-scenes'),
      64,
    )
    .option('--json', 'print the numbers as JSON')
    .action(async (o: DemoOpts) => {
      const started = performance.now();
      const out = await prepareOutputDir(o.out);
      const previous = await readManifest(out);
      const clean = Explainer.fromModel(await openImageModel(join(DEMO_MODELS, 'shapes')));
      const biased = Explainer.fromModel(await openImageModel(join(DEMO_MODELS, 'shapes-biased')));
      // As for explain: a signal stops after the image being written, and the previous run stays.
      const interrupt = new InterruptWatch();
      let swapped = false;
      try {
        const taken = new Set<string>();
        const images: ReportImage[] = [];
        const results: unknown[] = [];
        const add = (e: ExplainedImage[]) => {
          interrupt.check();
          for (const x of e) {
            images.push(x.report);
            results.push(x.json);
          }
        };
        const pick = (f: (s: DemoSample) => boolean, count: number): { s: DemoSample; i: number }[] => {
          const found: { s: DemoSample; i: number }[] = [];
          for (let i = 0; i < SPLITS.test.count && found.length < count; i++) {
            const s = splitSample(SPLITS.test, i);
            if (f(s)) found.push({ s, i });
          }
          return found;
        };
        // 1. One clean single-object image per class, every method, boxes vs the ground truth.
        for (let cls = 0; cls < CLASSES.length; cls++) {
          const [hit] = pick((s) => s.objects.length === 1 && s.label === cls && !s.cue, 1);
          if (!hit) continue;
          add(
            await show(
              clean,
              hit.s,
              `shapes · test #${hit.i} (${CLASSES[cls]})`,
              { method: METHODS_SHOWN, target: String(cls) },
              out,
              taken,
              true,
            ),
          );
          add(
            await show(
              clean,
              hit.s,
              `shapes · test #${hit.i} (${CLASSES[cls]}), counterfactual`,
              { method: 'gradcam', target: String(cls), counterfactual: true },
              out,
              taken,
              false,
            ),
          );
        }
        // 2. A two-object image, explained for each of its classes.
        const [two] = pick((s) => s.objects.length === 2 && !s.cue, 1);
        if (two) {
          const classes = two.s.objects.map((x) => String(x.cls));
          add(
            await show(
              clean,
              two.s,
              `shapes · test #${two.i} (${two.s.objects.map((x) => CLASSES[x.cls]).join(' + ')})`,
              { method: ['gradcam', 'guided-gradcam'], target: classes },
              out,
              taken,
              true,
            ),
          );
        }
        // 3. The biased model on watermarked images of other classes, next to the clean model.
        // Shown where the watermark fooled it: another shape, called a triangle.
        const fooled: { s: DemoSample; i: number }[] = [];
        for (const hit of pick((s) => s.cue !== null && s.label !== 2 && s.objects.length === 1, 20)) {
          const out = await biased.model.run(imagesToBatch([hit.s.image], biased.model.preprocess));
          if (topK(out.data, 1)[0] === 2 && fooled.length < 2) fooled.push(hit);
        }
        for (const hit of fooled) {
          add(
            await showCue(
              biased,
              hit.s,
              `shapes-biased · test #${hit.i} (${CLASSES[hit.s.label]} + watermark)`,
              out,
              taken,
            ),
          );
          add(
            await showCue(
              clean,
              hit.s,
              `shapes · test #${hit.i} (${CLASSES[hit.s.label]} + watermark)`,
              out,
              taken,
            ),
          );
        }
        // Captioning and VQA (demo/models/captioner, vqa): examples and their held-out numbers.
        const language = await languageDemo({
          models: DEMO_MODELS,
          out,
          taken,
          scenes: o.evalScenes,
          onImages: add,
        });
        const metrics = { ...(await evaluateDemo(clean, biased, o.eval)), ...(language ? { language } : {}) };
        interrupt.check();
        const seconds = (performance.now() - started) / 1000;
        const summary = `${images.length} explained images, held-out numbers on ${metrics.images} test images, ${seconds.toFixed(1)} s`;
        const report = await writeReport(join(out, 'report.html'), {
          title: 'gradsight demo: what the shapes models look at',
          generatedAt: new Date().toISOString(),
          version: VERSION,
          model: {
            name: 'shapes and shapes-biased (demo/models)',
            path: DEMO_MODELS,
            input: `${clean.model.inputDims(1).join('×')} NCHW`,
            layers: [(await clean.model.defaultLayer()).name],
            reads: 'logits',
          },
          options: {
            methods: 'gradcam, counterfactual, guided-backprop, guided-gradcam, cam',
            boxes: 'white: Grad-CAM/CAM box, green dashed: ground truth',
            colormap: 'jet',
          },
          images,
          summary,
          sections: [metricsSection(metrics), ...(language ? [languageSection(language)] : [])],
        });
        // results.json last: its `files` is the run's manifest (as for explain; io/output-run-node.ts).
        const files = [...results.flatMap(filesOf), 'report.html'];
        await writeFileAtomic(
          join(out, 'results.json'),
          `${JSON.stringify({ gradsight: VERSION, metrics, images: results, files }, null, 2)}\n`,
          'results',
        );
        swapped = true;
        await finishRun(out, files, previous);
        if (o.json) io.out(`${JSON.stringify(metrics, null, 2)}\n`);
        else {
          io.out(`${pc.bold('gradsight demo')}: ${summary}\n`);
          io.out(formatMetrics(metrics));
          if (language)
            io.out(
              `${languageRows(language)
                .map(([k, v]) => `  ${k.padEnd(50)} ${v}`)
                .join('\n')}\n`,
            );
          io.out(`report: ${report}\n`);
        }
        interrupt.check('the run had finished: its results are complete');
      } catch (e) {
        if (!swapped) await abandonRun(out, previous);
        throw e;
      } finally {
        interrupt.dispose();
        await clean.release();
        await biased.release();
      }
    });
}

/** Explains one demo image and writes its files (jet overlays, alpha 0.5, as the report shows them). */
async function explainOne(
  ex: Explainer,
  s: DemoSample,
  name: string,
  options: ExplainOptions,
  out: string,
  taken: Set<string>,
) {
  const result = await ex.explain(s.image, options);
  const rendered = await renderImageOutputs({
    out,
    items: [{ file: name, image: s.image }],
    result,
    model: ex.model,
    colormap: 'jet',
    alpha: 0.5,
    saveRaw: false,
    taken,
  });
  return { result, rendered };
}

async function show(
  ex: Explainer,
  s: DemoSample,
  name: string,
  options: ExplainOptions,
  out: string,
  taken: Set<string>,
  boxes: boolean,
): Promise<ExplainedImage[]> {
  const { result, rendered } = await explainOne(ex, s, name, options, out, taken);
  const folder = (rendered[0]!.json as { folder: string }).folder;
  await recordWrites(out, [`${folder}/input.png`]);
  await writeFileAtomic(join(out, folder, 'input.png'), await encodePng(s.image), 'PNG output');
  Object.assign(rendered[0]!.json as object, { input: `${folder}/input.png` });
  if (!boxes) return rendered;
  // Ground truth next to each box, with the IoU (the paper's localization criterion is IoU ≥ 0.5).
  for (const target of rendered[0]!.report.targets) {
    for (const panel of target.panels) {
      const e = result.explanations.find(
        (x) => x.method === panel.method && x.target.description === target.description,
      );
      const obj = s.objects.find((x) => x.cls === e?.target.index);
      if (!e?.map || !obj) continue;
      const box = localize(e.map, e.width, e.height).box;
      Object.assign(panel, {
        truth: obj.box,
        stats: box ? `IoU with the ground truth ${iou(box, obj.box).toFixed(2)}` : 'no box',
      });
    }
  }
  return rendered;
}

async function showCue(
  ex: Explainer,
  s: DemoSample,
  name: string,
  out: string,
  taken: Set<string>,
): Promise<ExplainedImage[]> {
  const { result, rendered } = await explainOne(
    ex,
    s,
    name,
    { method: 'gradcam', target: 'pred' },
    out,
    taken,
  );
  const e = result.explanations[0]!;
  const share = massInside(e.map!, s.cue!.mask);
  for (const img of rendered) {
    for (const target of img.report.targets) {
      for (const panel of target.panels)
        Object.assign(panel, {
          truth: s.cue!.box,
          stats: `${(share * 100).toFixed(0)}% of the map's mass on the watermark (green box)`,
        });
    }
  }
  return rendered;
}

function metricsSection(m: DemoMetrics) {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return {
    title: `Held-out evaluation (${m.images} test images)`,
    text: "Computed now on the synthetic test split (never seen in training) with gradsight's eval metrics. Objects are at ILSVRC-like scale (their box covers ~10–90% of the image, about 40% at the median; lone objects often cut by the frame). Localization, as in the paper's Table 1 (top-1): the model's top class is the true one and its map's box (15% of the max, largest connected segment) has IoU ≥ 0.5 with the ground truth, on single-object images; baselines: a centre box of the mean ground-truth size, and the whole image. Pointing game: the map's maximum on the object. Watermark mass (the watermark covers 0.7% of the image): the share of the Grad-CAM map inside the watermark, on test images that carry one.",
    rows: [
      ['accuracy, shapes', pct(m.accuracy.shapes)],
      ['accuracy, shapes-biased on watermark-biased data', pct(m.accuracy.biasedOnBiasedVal)],
      ['accuracy, shapes-biased on unbiased test data', pct(m.accuracy.biasedOnTest)],
      ['top-1 localization (IoU ≥ 0.5), Grad-CAM', pct(m.localization.gradcam)],
      ['top-1 localization (IoU ≥ 0.5), CAM', pct(m.localization.cam)],
      ['top-1 localization (IoU ≥ 0.5), centre box', pct(m.localization.centreBox)],
      ['top-1 localization (IoU ≥ 0.5), whole image', pct(m.localization.fullImage)],
      ['pointing game, Grad-CAM', pct(m.pointing.gradcam)],
      ['pointing game, CAM', pct(m.pointing.cam)],
      ['pointing game, image-centre baseline', pct(m.pointing.centre)],
      ['Grad-CAM mass on the watermark, shapes-biased', pct(m.cueMass.biased)],
      ['Grad-CAM mass on the watermark, shapes', pct(m.cueMass.clean)],
    ] as const,
  };
}

function formatMetrics(m: DemoMetrics): string {
  return `${metricsSection(m)
    .rows.map(([k, v]) => `  ${k.padEnd(50)} ${v}`)
    .join('\n')}\n`;
}

/** The files of one image's results.json entry (explain-outputs.ts), its input.png included. */
function filesOf(json: unknown): string[] {
  const j = json as { input?: string; explanations?: { files?: Record<string, string> }[] };
  const shown = (j.explanations ?? []).flatMap((e) => Object.values(e.files ?? {}));
  return j.input ? [...shown, j.input] : shown;
}
