// gradsight explain <model> <images...>: what a user types first. Explains every image with the
// chosen methods and targets, writes overlay and heatmap PNGs (and raw maps with --save-raw), a
// results.json, and one self-contained report.html.

import { basename, extname, join, resolve } from 'node:path';
import { Command } from 'commander';
import pc from 'picocolors';
import { RULE_SETS, type RuleSetName } from '../../autodiff/index.ts';
import { GradsightError } from '../../errors.ts';
import type { ExplainResult } from '../../explain/explainer.ts';
import { Explainer } from '../../explain/explainer.ts';
import { abandonRun, finishRun, readManifest } from '../../io/output-run-node.ts';
import type { ReadLimit } from '../../io/read-file-node.ts';
import { prepareOutputDir, writeFileAtomic } from '../../io/write-file-node.ts';
import { NORMALIZATIONS, type Normalization } from '../../methods/pipeline.ts';
import { METHOD_IDS, METHODS } from '../../methods/table.ts';
import type { MethodId } from '../../methods/types.ts';
import type { ImageModel } from '../../model/image-model.ts';
import { COLORMAP_IDS, type ColormapId } from '../../render/colormaps.ts';
import { OVERLAY_SIZES, type OverlaySize } from '../../render/explanation-images.ts';
import { renderImageCard } from '../../report/html.ts';
import { ReportStream } from '../../report/stream-node.ts';
import { readNpy } from '../../tensor/npy-node.ts';
import type { Feeds } from '../../tensor/rows.ts';
import { VERSION } from '../../version.ts';
import { type PipelineInput, runExplainPipeline } from '../explain-pipeline.ts';
import { feedArg, loadFeeds } from '../feeds.ts';
import { ImageWorker } from '../image-worker-client.ts';
import { checkOneInput, expandImageArgs } from '../inputs.ts';
import { InterruptWatch } from '../interrupt.ts';
import type { CliIo } from '../main.ts';
import {
  addInputLimitOptions,
  addPreprocessOptions,
  decodeLimits,
  fileLimit,
  type PreprocessOpts,
  positiveInt,
} from '../options.ts';
import { Progress } from '../progress.ts';
import { failedImage } from './explain-records.ts';
import { openModelFor } from './input-size.ts';

export interface ExplainCliOptions extends PreprocessOpts {
  method: MethodId[];
  feed?: string[];
  imageInput?: string;
  layer?: string[];
  layerLayout?: string;
  target: string[];
  counterfactual?: boolean;
  rule: RuleSetName;
  normalize: Normalization;
  colormap: ColormapId;
  alpha: number;
  overlaySize?: OverlaySize;
  batch: number;
  threads?: number;
  input?: string;
  out: string;
  saveRaw?: boolean;
  quiet?: boolean;
  json?: boolean;
  labels?: string;
  report: boolean;
  maxTargets?: number;
  /** true: decode the caption greedily; a string: explain that caption. */
  caption?: boolean | string;
  question?: string;
}

const list = (v: string, prev: string[] | undefined) => [
  ...(prev ?? []),
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

function methods(v: string, prev: MethodId[] | undefined): MethodId[] {
  const out = [...(prev ?? [])];
  for (const id of v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (id === 'counterfactual') {
      // Counterfactual is a modifier of a target, not a method: every method explains −y the same way.
      throw new GradsightError('bad-argument', 'counterfactual is not a method but a target modifier', {
        hint: 'add -t counterfactual:pred (next to -t pred), or --counterfactual for every target',
      });
    }
    if (!(METHOD_IDS as readonly string[]).includes(id)) {
      throw new GradsightError('bad-argument', `unknown method ${JSON.stringify(id)}`, {
        hint: `methods: ${METHOD_IDS.join(', ')}`,
      });
    }
    out.push(id as MethodId);
  }
  return out;
}

function choice<T extends string>(flag: string, all: readonly T[]) {
  return (v: string): T => {
    if ((all as readonly string[]).includes(v)) return v as T;
    throw new GradsightError(
      'bad-argument',
      `${flag} must be one of ${all.join(', ')}; got ${JSON.stringify(v)}`,
      {
        hint: `for example ${flag} ${all[0]}`,
      },
    );
  };
}

function alpha(v: string): number {
  const a = Number(v);
  if (!Number.isFinite(a) || a < 0 || a > 1) {
    throw new GradsightError(
      'bad-argument',
      `--alpha must be a number from 0 to 1, got ${JSON.stringify(v)}`,
      { hint: 'for example --alpha 0.5' },
    );
  }
  return a;
}

export function explainCommand(io: CliIo): Command {
  const help = METHODS.map((m) => `  ${m.id.padEnd(20)} ${m.summary}`).join('\n');
  const cmd = new Command('explain')
    .description('explain images: heatmaps per method and target, results.json and an HTML report')
    .argument('<model>', 'an .onnx file, or a folder with model.onnx')
    .argument('[images...]', 'image files, folders or globs (or use --input x.npy)')
    .option('-m, --method <ids>', 'methods, comma-separated or repeated (default gradcam)', methods)
    .option('-l, --layer <names>', 'layer(s) for the CAM methods (default: the auto-selected layer)', list)
    .option(
      '--layer-layout <layout>',
      'how layers are read as N×C×H×W when not inferable: nchw, nhwc, tokens[:SKIP[:HxW]] (SKIP leading class tokens)',
    )
    .option(
      '-t, --target <t>',
      'what to explain (repeatable): pred, top:K, a class index, a label, A-vs-B, prob[:c], logprob[:c], sigmoid[:c], region:c, det, det:K, det:LABEL, det:box=x0,y0,x1,y1, up[:i], down[:i], caption[:i|:word]; counterfactual:<target> explains −y',
      list,
    )
    .option('--counterfactual', 'explain −y for every target: regions whose removal raises the score')
    .option(
      '--caption [text]',
      'captioning models: explain each word of the caption, decoded greedily by the model (or the one given)',
    )
    .option(
      '--question <text>',
      'VQA models: the question whose answer is explained, e.g. "what colour is the square?"',
    )
    .option(
      '--max-targets <n>',
      'most explained targets per image (default 100): a larger top:K needs it',
      positiveInt('--max-targets'),
    )
    .option(
      '--feed <name=file>',
      'an extra model input (token ids, a mask, a question) from .npy or .json; repeat per input',
      feedArg,
    )
    .option('--image-input <name>', 'which model input is the image (default: inferred from shapes)')
    .option(
      '--rule <set>',
      `rule set for the CAM methods' layer gradients: ${Object.keys(RULE_SETS).join(', ')}`,
      choice('--rule', Object.keys(RULE_SETS) as RuleSetName[]),
      'standard',
    )
    .option(
      '--normalize <mode>',
      `map normalization: ${NORMALIZATIONS.join(', ')}`,
      choice('--normalize', NORMALIZATIONS),
      'per-image',
    )
    .option(
      '--colormap <name>',
      `heatmap colours: ${COLORMAP_IDS.join(', ')}`,
      choice('--colormap', COLORMAP_IDS),
      'jet',
    )
    .option('--alpha <a>', 'heatmap weight in the overlay, 0 to 1', alpha, 0.5)
    .option(
      '--overlay-size <size>',
      'overlays and heatmaps at the original image size (default; model with --input) or the model input size',
      choice('--overlay-size', OVERLAY_SIZES),
    )
    .option('--batch <n>', 'images per model run', positiveInt('--batch'), 8)
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'))
    .option('--input <x.npy>', 'a preprocessed input tensor instead of images')
    .option('-o, --out <dir>', 'output folder', 'gradsight-out')
    .option('--save-raw', 'also write each map at input resolution as .npy')
    .option('--no-report', 'skip report.html')
    .option('-q, --quiet', 'no progress bar')
    .option('--json', 'print results.json to stdout')
    .addHelpText('after', `\nMethods:\n${help}\n`);
  addPreprocessOptions(cmd);
  addInputLimitOptions(cmd);
  return cmd.action(async (modelPath: string, imageArgs: string[], o: ExplainCliOptions) => {
    // Signals are watched from the start, so one during setup also exits 130/143 (cli/interrupt.ts).
    const interrupt = new InterruptWatch();
    // The image worker loads its modules while the model opens (explain-pipeline.ts uses it).
    const worker = ImageWorker.start();
    try {
      await runExplain(io, modelPath, imageArgs, o, interrupt, worker);
    } finally {
      interrupt.dispose();
      await worker.close();
    }
  });
}

async function runExplain(
  io: CliIo,
  modelPath: string,
  imageArgs: string[],
  o: ExplainCliOptions,
  interrupt: InterruptWatch,
  worker: ImageWorker,
): Promise<void> {
  const chosen = o.method?.length ? o.method : (['gradcam'] as MethodId[]);
  const names = chosen;
  if (!imageArgs.length && !o.input) {
    throw new GradsightError('bad-argument', 'give images (files, folders or globs) or --input x.npy', {
      hint: 'gradsight explain model.onnx photo.jpg --method gradcam,guided-gradcam',
    });
  }
  checkOneInput(imageArgs, o.input, 'explain');
  if (o.input && o.overlaySize === 'original') {
    throw new GradsightError(
      'bad-argument',
      '--overlay-size original needs images: --input x.npy has no original image',
      {
        hint: 'drop --overlay-size (maps are then drawn on the input tensor at the model size) or give image files',
      },
    );
  }
  const overlaySize: OverlaySize = o.overlaySize ?? (o.input ? 'model' : 'original');
  const started = performance.now();
  const files = o.input ? [] : await expandImageArgs(imageArgs);
  // A --input tensor of another H×W opens a model with symbolic H, W at that size (input-size.ts).
  // Idle ONNX Runtime threads sleep: the image worker (explain-pipeline.ts) shares the cores.
  const model = await openModelFor(modelPath, { ...o, spinning: false });
  const ex = Explainer.fromModel(model);
  let feeds: Feeds;
  let language: ReturnType<typeof languageOptions>;
  try {
    feeds = await loadFeeds(o.feed, model, fileLimit(o));
    language = languageOptions(o, model);
  } catch (e) {
    await ex.release();
    throw e;
  }
  let out: string;
  try {
    out = await prepareOutputDir(o.out);
    interrupt.check(); // a signal during setup: nothing is written yet
  } catch (e) {
    await ex.release();
    throw e;
  }
  // What the previous run here wrote: removed once this run's results.json replaces its own.
  const previous = await readManifest(out);
  const records: unknown[] = [];
  const written: string[] = [];
  const failed: GradsightError[] = [];
  let maps = 0;
  let layers: ExplainResult['layers'] = [];
  let reads = '';
  const progress = new Progress(files.length || 1, !o.quiet && !o.json && process.stderr.isTTY === true);
  const runOptions = {
    ...language,
    target: o.target?.length
      ? o.target
      : [model.description.language?.task === 'captioning' ? 'caption' : 'pred'],
    ...(o.layer?.length ? { layers: o.layer } : {}),
    ...(o.layerLayout ? { layerLayout: o.layerLayout } : {}),
    counterfactual: o.counterfactual ?? false,
    normalize: o.normalize,
    rule: o.rule,
    ...(o.maxTargets !== undefined ? { maxTargets: o.maxTargets } : {}),
    feeds,
  };
  // Cards go to disk as images finish (report/stream-node.ts); only small records stay in memory.
  let report: ReportStream | undefined;
  // Ctrl-C restores the terminal at once; the run stops after the image being written (cli/interrupt.ts).
  interrupt.onSignal(() => progress.stop());
  let released = false;
  const release = async () => {
    if (!released) await ex.release();
    released = true;
  };
  let swapped = false;
  try {
    if (o.report) report = await ReportStream.open(join(out, 'report.html'));
    if (!o.quiet && !o.json) {
      const layer = names.some(
        (m) => METHODS.find((x) => x.id === m)?.output === 'cam' || m === 'guided-gradcam',
      )
        ? (o.layer?.join(', ') ?? `${(await model.defaultLayer()).name} (auto-selected)`)
        : 'none (pixel methods)';
      io.err(
        `${pc.bold('gradsight explain')}: ${names.join(', ')} on ${files.length || 1} input(s); layer ${layer}\n`,
      );
    }
    const input = o.input ? await readInputTensor(o.input, model, fileLimit(o)) : { files };
    await runExplainPipeline(input, {
      worker,
      explainer: ex,
      preprocess: model.preprocess,
      explain: { ...runOptions, method: chosen },
      batch: o.batch,
      // Targets given in original-image pixels (det:box=) need the decoded images' sizes.
      sendImages: runOptions.target.some((t) => /det:box=/.test(t)),
      decode: decodeLimits(o),
      onWarning: (m) => io.err(`warning: ${m}\n`),
      out,
      colormap: o.colormap,
      alpha: o.alpha,
      overlaySize,
      saveRaw: o.saveRaw ?? false,
      onResult: (r) => {
        layers = r.layers;
        reads = r.reads;
      },
      onImage: async (img) => {
        interrupt.check();
        if (img.error) {
          failed.push(img.error);
          const entry = failedImage(img.file, img.error);
          records.push(entry.json);
          await report?.add(entry.report, renderImageCard(entry.report, img.index));
        } else {
          records.push(img.json);
          written.push(...filesOf(img.json));
          maps += img.maps;
          await report?.add({ file: img.file }, img.card);
        }
        progress.tick(img.file);
      },
    });
    interrupt.check();
    progress.stop();
    await release();
    const seconds = (performance.now() - started) / 1000;
    const count = records.length;
    const summary = `${count} image${count === 1 ? '' : 's'}, ${maps} map${maps === 1 ? '' : 's'}, ${failed.length} failed, ${seconds.toFixed(1)} s`;
    const results = {
      gradsight: VERSION,
      model: {
        path: resolve(modelPath),
        input: model.input.name,
        output: model.output.name,
        reads,
        layers,
      },
      options: {
        ...runOptions,
        feeds: o.feed ?? [],
        methods: names,
        colormap: o.colormap,
        alpha: o.alpha,
        overlaySize,
      },
      images: records,
      files: written,
      summary,
    };
    const reportPath = await report?.finish({
      title: `gradsight report: ${modelName(modelPath)}`,
      generatedAt: new Date().toISOString(),
      version: VERSION,
      model: {
        name: modelName(modelPath),
        path: resolve(modelPath),
        input: `${model.inputDims(1).join('×')} ${model.preprocess.layout}`,
        layers: layers.map((l) => l.name),
        reads,
      },
      options: {
        methods: names.join(', '),
        targets: runOptions.target.join(', '),
        counterfactual: String(runOptions.counterfactual),
        normalize: o.normalize,
        rule: o.rule,
        colormap: o.colormap,
        alpha: String(o.alpha),
        'overlay size': overlaySize,
      },
      summary,
    });
    if (reportPath) written.push('report.html');
    // The swap: results.json, written last and atomically, names every file of this run (its manifest).
    await writeFileAtomic(join(out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`, 'results');
    swapped = true;
    await finishRun(out, written, previous);
    if (o.json) io.out(`${JSON.stringify(results, null, 2)}\n`);
    else {
      io.out(`${summary}\n`);
      io.out(`${reportPath ? `report: ${reportPath}` : `results: ${join(out, 'results.json')}`}\n`);
    }
    // A signal after the last image lets the run complete; the exit code still says it was interrupted.
    interrupt.check('the run had finished: its results are complete');
    if (failed.length) {
      for (const f of failed) io.err(`${pc.red(`error[${f.code}]`)}: ${f.message}\n`);
      throw new GradsightError('bad-image', `${failed.length} of ${count} images failed`, {
        hint: 'the others were written; the failures are listed in results.json and the report',
      });
    }
  } catch (e) {
    if (!swapped) {
      // Nothing of this run replaces the previous one: its results.json and files stay as they were.
      progress.stop();
      await release();
      await report?.abort();
      await abandonRun(out, previous);
    }
    throw e;
  }
}

/** --caption and --question, checked against the model's task (the library tokenizes them). */
function languageOptions(o: ExplainCliOptions, model: ImageModel): { caption?: string; question?: string } {
  const task = model.description.language?.task;
  const wrong = (flag: string, needs: string, example: string) =>
    new GradsightError(
      'bad-argument',
      `${flag} needs a ${needs} model; this model's task is ${model.description.task.kind}`,
      {
        hint: `describe the model in preprocess.json, e.g. ${example}`,
      },
    );
  if (o.caption !== undefined && task !== 'captioning')
    throw wrong('--caption', 'captioning', '{"task":"captioning","vocabulary":"vocab.txt"}');
  if (o.question !== undefined && task !== 'vqa')
    throw wrong('--question', 'VQA', '{"task":"vqa","vocabulary":"vocab.txt","answers":"answers.txt"}');
  return {
    ...(typeof o.caption === 'string' ? { caption: o.caption } : {}),
    ...(o.question !== undefined ? { question: o.question } : {}),
  };
}

/** The files of one image's results.json entry (explain-outputs.ts), relative to --out. */
function filesOf(json: unknown): string[] {
  const entries = (json as { explanations?: { files?: Record<string, string> }[] }).explanations ?? [];
  return entries.flatMap((e) => Object.values(e.files ?? {}));
}

/** --input x.npy as the pipeline's input: one tensor, a name per row. */
async function readInputTensor(path: string, model: ImageModel, limit: ReadLimit): Promise<PipelineInput> {
  const t = await readNpy(path, limit);
  const want = model.inputDims(1);
  const dims = t.dims.length === want.length - 1 ? [1, ...t.dims] : [...t.dims];
  if (
    t.dtype !== 'float32' ||
    dims.length !== want.length ||
    dims.slice(1).some((d, i) => d !== want[i + 1])
  ) {
    throw new GradsightError(
      'bad-argument',
      `${path} must be float32 [N, ${want.slice(1).join(', ')}]; it is ${t.dtype} [${t.dims.join(', ')}]`,
    );
  }
  const n = dims[0]!;
  return {
    tensor: { dtype: 'float32', dims, data: t.data as Float32Array },
    names: Array.from({ length: n }, (_, i) => (n === 1 ? basename(path) : `${basename(path)}[${i}]`)),
  };
}

function modelName(path: string): string {
  const b = basename(path);
  return b === 'model.onnx' || extname(b) === ''
    ? basename(resolve(path, b === 'model.onnx' ? '..' : '.'))
    : b;
}
