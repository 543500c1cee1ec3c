// gradsight eval <model> <dataset>: the metrics of src/eval/registry.ts over a dataset, streamed image
// by image (src/eval/run.ts), and `gradsight eval merge OUT SHARD...` for the folders of a --shard
// split. This file parses flags and writes files: per-image.jsonl (appended as images finish, the
// resume and merge source), then results.csv, report.html and last results.json (the run's manifest,
// as explain's: io/output-run-node.ts), each written atomically.

import { join, resolve } from 'node:path';
import { Command } from 'commander';
import pc from 'picocolors';
import { GradsightError } from '../../errors.ts';
import { type EvalResults, resultsCsv } from '../../eval/aggregate.ts';
import { mapClasses, openDataset } from '../../eval/datasets/index.ts';
import type { DatasetFormat } from '../../eval/datasets/types.ts';
import { inShard, mergeRecords, parseShard, RECORDS_FILE, type Shard } from '../../eval/records-node.ts';
import { type BiasRegionSpec, EVAL_METRIC_IDS, EVAL_METRICS } from '../../eval/registry.ts';
import { type GalleryPictures, galleryImages } from '../../eval/report/gallery-node.ts';
import { renderEvalReport } from '../../eval/report/html.ts';
import { aggregateFile, checkEvalChoices, evaluate, reverseMap } from '../../eval/run.ts';
import { CI_METHODS, type CiMethod } from '../../eval/stats.ts';
import { Explainer } from '../../explain/explainer.ts';
import { abandonRun, finishRun, readManifest } from '../../io/output-run-node.ts';
import { prepareOutputDir, writeFileAtomic } from '../../io/write-file-node.ts';
import { METHOD_IDS, METHODS } from '../../methods/table.ts';
import type { MethodId } from '../../methods/types.ts';
import { InterruptWatch } from '../interrupt.ts';
import type { CliIo } from '../main.ts';
import {
  addInputLimitOptions,
  addPreprocessOptions,
  decodeLimits,
  nonNegativeInt,
  oneOf,
  type PreprocessOpts,
  positiveInt,
} from '../options.ts';
import { Progress } from '../progress.ts';
import { openModelFor } from './input-size.ts';

export interface EvalCliOptions extends PreprocessOpts {
  methods?: string[];
  metrics?: string[];
  limit?: number;
  shard?: Shard;
  layer?: string[];
  classMap?: string;
  split?: string;
  format?: DatasetFormat;
  out: string;
  resume: boolean;
  ci: CiMethod;
  gallery: number;
  biasRegion?: BiasRegionSpec;
  threads?: number;
  labels?: string;
  quiet?: boolean;
  json?: boolean;
}

const list = (v: string, prev: string[] | undefined) => [
  ...(prev ?? []),
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

/** The files a run writes besides results.json: its manifest lists them. */
const OUTPUTS = [RECORDS_FILE, 'results.csv', 'report.html'];

export function evalCommand(io: CliIo): Command {
  const metricHelp = EVAL_METRICS.map((m) => `  ${m.id.padEnd(16)} ${m.summary}`).join('\n');
  const cmd = new Command('eval')
    .description(
      'evaluate explanations over a dataset: metrics with confidence intervals, CSV, per-image JSONL, HTML report',
    )
    .argument('<model>', 'an .onnx file, or a folder with model.onnx')
    .argument(
      '<dataset>',
      'a folder per class, a CSV/JSONL manifest, a PASCAL VOC folder, a COCO instances JSON',
    )
    .option(
      '-m, --methods <ids>',
      `methods, comma-separated (default gradcam): ${METHOD_IDS.join(', ')}`,
      list,
    )
    .option(
      '--metrics <ids>',
      `metrics, comma-separated (default: the default ones the dataset allows): ${EVAL_METRIC_IDS.join(', ')}`,
      list,
    )
    .option('--limit <n>', 'only the first n samples (before sharding)', positiveInt('--limit'))
    .option(
      '--shard <i/n>',
      'run samples i, i + n, ... (1-based: --shard 1/4 ... 4/4); merge the folders after',
      parseShard,
    )
    .option('-l, --layer <names>', 'layer(s) for the CAM methods (default: the auto-selected layer)', list)
    .option('--class-map <file>', 'dataset class -> model labels JSON, or a shipped map: voc-imagenet')
    .option('--split <name>', 'dataset split (VOC ImageSets list, or a subfolder of a folder per class)')
    .option(
      '--format <f>',
      'dataset format instead of autodetecting: folder, manifest-csv, manifest-jsonl, voc, coco, voc-samples',
      oneOf('--format', ['folder', 'manifest-csv', 'manifest-jsonl', 'voc', 'coco', 'voc-samples'] as const),
    )
    .option('-o, --out <dir>', 'output folder', 'gradsight-eval')
    .option('--no-resume', `start again instead of skipping the images ${RECORDS_FILE} already holds`)
    .option(
      '--ci <method>',
      `confidence intervals: ${CI_METHODS.join(', ')}`,
      oneOf('--ci', CI_METHODS),
      'bootstrap',
    )
    .option(
      '--gallery <k>',
      'best and worst images shown in the report (0: none, and no images explained again at the end)',
      nonNegativeInt('--gallery'),
      6,
    )
    .option(
      '--bias-region <region>',
      'for --metrics bias: x0,y0,x1,y1 in fractions of the width and height (0.8,0.8,1,1 = bottom-right corner), or label:CLASS (that dataset class in each image)',
      biasRegionArg,
    )
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'))
    .option('-q, --quiet', 'no progress bar')
    .option('--json', 'print results.json to stdout')
    .addHelpText(
      'after',
      `\nMetrics:\n${metricHelp}\n\nMerge the folders of a --shard split:\n  gradsight eval merge OUT SHARD_DIR...\n`,
    );
  addPreprocessOptions(cmd);
  addInputLimitOptions(cmd);
  cmd.addCommand(mergeCommand(io));
  return cmd.action(async (modelPath: string, datasetPath: string, o: EvalCliOptions) => {
    const interrupt = new InterruptWatch();
    try {
      await runEval(io, modelPath, datasetPath, o, interrupt);
    } finally {
      interrupt.dispose();
    }
  });
}

async function runEval(
  io: CliIo,
  modelPath: string,
  datasetPath: string,
  o: EvalCliOptions,
  interrupt: InterruptWatch,
): Promise<void> {
  const methods = (o.methods?.length ? o.methods : ['gradcam']) as MethodId[];
  checkEvalChoices(methods, o.metrics);
  const started = performance.now();
  const dataset = await openDataset(datasetPath, {
    ...(o.split ? { split: o.split } : {}),
    ...(o.format ? { format: o.format } : {}),
  });
  const model = await openModelFor(modelPath, o);
  const ex = Explainer.fromModel(model);
  // The bar counts this run's samples: the limit's, and of those the shard's.
  let selected = 0;
  for (let i = 0; i < Math.min(o.limit ?? dataset.size, dataset.size); i++)
    if (inShard(i, o.shard)) selected++;
  const progress = new Progress(selected, !o.quiet && !o.json && process.stderr.isTTY === true);
  interrupt.onSignal(() => progress.stop());
  let out: string | undefined;
  let previous: string[] = [];
  let swapped = false;
  try {
    out = await prepareOutputDir(o.out);
    previous = await readManifest(out);
    interrupt.check();
    const records = join(out, RECORDS_FILE);
    if (!o.quiet && !o.json)
      io.err(
        `${pc.bold('gradsight eval')}: ${methods.join(', ')} on ${dataset.name} (${dataset.size} samples, ${dataset.format})${o.shard ? `, shard ${o.shard.index}/${o.shard.count}` : ''}\n`,
      );
    const summary = await evaluate(ex, dataset, {
      methods,
      ...(o.metrics?.length ? { metrics: o.metrics } : {}),
      ...(o.limit !== undefined ? { limit: o.limit } : {}),
      ...(o.shard ? { shard: o.shard } : {}),
      ...(o.layer?.length ? { layers: o.layer } : {}),
      ...(o.classMap ? { classMap: o.classMap } : {}),
      ...(o.biasRegion ? { biasRegion: o.biasRegion } : {}),
      records,
      resume: o.resume,
      modelName: modelLabel(modelPath),
      decode: decodeLimits(o),
      check: () => interrupt.check(),
      signal: interrupt.abortSignal,
      onImage: (p) => progress.tick(p.record?.image ?? ''),
    });
    progress.stop();
    const results = await aggregateFile(records, {
      keep: summary.keep,
      method: o.ci,
      galleryImages: o.gallery,
    });
    const classes = mapClasses(dataset.classes, model.labels ?? [], o.classMap);
    const pictures =
      o.gallery === 0
        ? undefined
        : await galleryImages(ex, dataset, results, {
            methods: methods.filter((m) => !(m in summary.notApplicable)),
            ...(o.layer?.length ? { layers: o.layer } : {}),
            classes,
            datasetOf: reverseMap(classes),
            decode: decodeLimits(o),
          });
    interrupt.check();
    const seconds = (performance.now() - started) / 1000;
    const line = `${summary.evaluated} image${summary.evaluated === 1 ? '' : 's'} evaluated, ${summary.resumed} resumed, ${summary.failed} failed, ${seconds.toFixed(1)} s`;
    const run = {
      model: resolve(modelPath),
      dataset: resolve(datasetPath),
      format: dataset.format,
      selected: summary.selected,
      ...(o.shard ? { shard: o.shard } : {}),
      ...(o.limit !== undefined ? { limit: o.limit } : {}),
      notApplicable: summary.notApplicable,
      seconds,
      summary: line,
    };
    await writeOutputs(out, results, run, pictures, {
      model: resolve(modelPath),
      dataset: resolve(datasetPath),
    });
    swapped = true;
    await finishRun(out, OUTPUTS, previous);
    for (const [m, why] of Object.entries(summary.notApplicable)) io.err(`warning: ${m} skipped: ${why}\n`);
    if (o.json) io.out(`${JSON.stringify({ ...results, run, files: OUTPUTS }, null, 2)}\n`);
    else io.out(`${line}\nreport: ${join(out, 'report.html')}\n`);
    interrupt.check('the run had finished: its results are complete');
  } catch (e) {
    progress.stop();
    // The records stay (a rerun resumes from them); this run's other files and temps go.
    if (out && !swapped) await abandonRun(out, [...previous, RECORDS_FILE]);
    throw e;
  } finally {
    await ex.release();
  }
}

/** results.csv and report.html, then results.json last (the manifest), each atomically. */
async function writeOutputs(
  out: string,
  results: EvalResults,
  run: Record<string, unknown>,
  pictures: GalleryPictures | undefined,
  facts: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(join(out, 'results.csv'), resultsCsv(results), 'results CSV');
  const html = renderEvalReport({
    results,
    title: `gradsight eval: ${results.config.model} on ${results.config.dataset.name}`,
    generatedAt: new Date().toISOString(),
    facts,
    ...(pictures ? { images: pictures.gallery, failures: pictures.failures } : {}),
    methodTitles: Object.fromEntries(METHODS.map((m) => [m.id, m.title])),
  });
  await writeFileAtomic(join(out, 'report.html'), html, 'report');
  const json = { ...results, run, files: OUTPUTS };
  await writeFileAtomic(join(out, 'results.json'), `${JSON.stringify(json, null, 2)}\n`, 'results');
}

function mergeCommand(io: CliIo): Command {
  return new Command('merge')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .description('merge the output folders of a --shard split into one (records, results, CSV, report)')
    .argument('<out>', 'the merged output folder')
    .argument('<shards...>', 'the --out folders of the shards')
    .option(
      '--ci <method>',
      `confidence intervals: ${CI_METHODS.join(', ')}`,
      oneOf('--ci', CI_METHODS),
      'bootstrap',
    )
    .option('--gallery <k>', 'best and worst images listed in the report', positiveInt('--gallery'), 6)
    .option('--json', 'print results.json to stdout')
    .action(
      async (outArg: string, shards: string[], o: { ci: CiMethod; gallery: number; json?: boolean }) => {
        const out = await prepareOutputDir(outArg);
        if (shards.some((s) => resolve(s) === out)) {
          throw new GradsightError('bad-argument', `the merged folder ${out} is also one of the shards`, {
            hint: 'merge into a new folder: gradsight eval merge merged/ shard-1/ shard-2/',
          });
        }
        const previous = await readManifest(out);
        const records = join(out, RECORDS_FILE);
        const merged = await mergeRecords(
          shards.map((s) => join(resolve(s), RECORDS_FILE)),
          records,
        );
        const results = await aggregateFile(records, { method: o.ci, galleryImages: o.gallery });
        const run = { merged: shards.map((s) => resolve(s)), images: merged.images };
        // The shards' pictures are not carried over: the merged report lists its gallery images by name.
        await writeOutputs(out, results, run, undefined, { merged: shards.join(', ') });
        await finishRun(out, OUTPUTS, previous);
        if (o.json) io.out(`${JSON.stringify({ ...results, run, files: OUTPUTS }, null, 2)}\n`);
        else
          io.out(
            `${merged.images} images from ${shards.length} shards\nreport: ${join(out, 'report.html')}\n`,
          );
      },
    );
}

/** --bias-region: `x0,y0,x1,y1` fractions (0 ≤ x0 < x1 ≤ 1) or `label:CLASS`. */
function biasRegionArg(v: string): BiasRegionSpec {
  if (v.startsWith('label:') && v.length > 6) return { label: v.slice(6) };
  const parts = v.split(',').map((p) => Number(p.trim()));
  const [left, top, right, bottom] = parts as [number, number, number, number];
  if (parts.length !== 4 || !parts.every((p) => p >= 0 && p <= 1) || !(left < right && top < bottom)) {
    throw new GradsightError(
      'bad-argument',
      `--bias-region expects x0,y0,x1,y1 fractions or label:CLASS, got ${JSON.stringify(v)}`,
      {
        hint: 'for example --bias-region 0.8,0.8,1,1 (the bottom-right corner) or --bias-region label:watermark',
      },
    );
  }
  return { relative: { left, top, right, bottom } };
}

function modelLabel(path: string): string {
  const parts = resolve(path).split(/[/\\]/);
  const last = parts.at(-1) ?? path;
  return last === 'model.onnx' ? (parts.at(-2) ?? last) : last;
}
