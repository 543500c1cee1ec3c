// gradsight grad: raw activations and gradients as .npy files, from one run of the compiled gradient
// graph. The building block under every explanation method, exposed for research and debugging.

import { join } from 'node:path';
import { Command } from 'commander';
import { RULE_SETS, type RuleSetName } from '../../autodiff/index.ts';
import { GradsightError } from '../../errors.ts';
import { targetGradients } from '../../explain/gradients.ts';
import { decodeImageFile } from '../../image/decode-node.ts';
import { imagesToBatch } from '../../image/preprocess.ts';
import { uniqueName } from '../../io/output-names.ts';
import type { ReadLimit } from '../../io/read-file-node.ts';
import { prepareOutputDir } from '../../io/write-file-node.ts';
import { type GradientResult, GradientRunner } from '../../model/gradient-runner.ts';
import type { ImageModel } from '../../model/image-model.ts';
import { parseLayerLayout } from '../../model/layer-view.ts';
import { resolveLayers } from '../../model/layers.ts';
import type { TargetRow } from '../../targets/index.ts';
import { readNpy, writeNpy } from '../../tensor/npy-node.ts';
import type { Float32Tensor } from '../../tensor/tensor.ts';
import { feedArg, loadFeeds } from '../feeds.ts';
import { InterruptWatch } from '../interrupt.ts';
import type { CliIo } from '../main.ts';
import {
  addInputLimitOptions,
  addPreprocessOptions,
  decodeOptions,
  fileLimit,
  nonNegativeInt,
  type PreprocessOpts,
  positiveInt,
} from '../options.ts';
import { openModelFor } from './input-size.ts';

interface GradOpts extends PreprocessOpts {
  image?: string[];
  input?: string;
  wrt: string[];
  layerLayout?: string;
  class?: number;
  target?: string;
  counterfactual?: boolean;
  feed?: string[];
  imageInput?: string;
  seed?: string;
  rule: RuleSetName;
  targetOutput?: string;
  profile: 'cpu' | 'web';
  out: string;
  json?: boolean;
  labels?: string;
  threads?: number;
  maxTargets?: number;
}

const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(',').filter(Boolean)];

export function gradCommand(io: CliIo): Command {
  const cmd = new Command('grad')
    .description('write activations and their gradients (d target / d tensor) as .npy files')
    .argument('<model>', 'an .onnx file, or a folder with model.onnx')
    .option('--image <file>', 'an image (repeat for a batch)', (v, p: string[] = []) => [...p, v])
    .option(
      '--input <x.npy>',
      'a preprocessed input tensor instead of images ([N,...] or without batch axis)',
    )
    .requiredOption(
      '--wrt <tensor>',
      'tensor(s) to differentiate with respect to (repeat or comma-separate); "input" is the image input',
      collect,
    )
    .option(
      '--layer-layout <layout>',
      'write the --wrt layers (not the input) as N×C×H×W through a layer view: auto (inferred), nchw, nhwc, tokens[:SKIP[:HxW]]; default: raw tensors',
    )
    .option(
      '-t, --target <t>',
      'what to differentiate, as for explain: pred (default), top:K, a class, a label, A-vs-B, prob[:c], logprob[:c], det, det:K, ...',
    )
    .option('--max-targets <n>', 'most rows (targets) per image (default 100)', positiveInt('--max-targets'))
    .option('--counterfactual', 'the gradient of −y')
    .option(
      '--class <c>',
      'output index to explain, for every row (the same as --target c)',
      nonNegativeInt('--class'),
    )
    .option(
      '--feed <name=file>',
      'an extra model input (token ids, a mask) from .npy or .json; repeat per input',
      feedArg,
    )
    .option('--image-input <name>', 'which model input is the image (default: inferred from shapes)')
    .option('--seed <s.npy>', 'the gradient of the target output, shape [N, K] (overrides --class)')
    .option('--rule <set>', `gradient rules: ${Object.keys(RULE_SETS).join(', ')}`, ruleSet, 'standard')
    .option(
      '--target-output <name>',
      'output or tensor to differentiate (default: the first output, before softmax)',
    )
    .option('--profile <p>', 'backward recipes: cpu (fastest here) or web (WebGPU-friendly)', profile, 'cpu')
    .requiredOption('--out <dir>', 'folder for the .npy files')
    .option('--json', 'print a JSON summary')
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'));
  addPreprocessOptions(cmd);
  addInputLimitOptions(cmd);
  return cmd.action(async (modelPath: string, o: GradOpts) => {
    if (!o.image?.length === !o.input) {
      throw new GradsightError('bad-argument', 'give either --image (one or more) or --input x.npy', {
        hint: 'gradsight grad model.onnx --image cat.png --wrt input --class 281 --out grads/',
      });
    }
    // A --input tensor of another H×W opens a model with symbolic H, W at that size (input-size.ts).
    const model = await openModelFor(modelPath, o);
    try {
      const decode = decodeOptions(o, io.err);
      const decoded = o.image ? await Promise.all(o.image.map((f) => decodeImageFile(f, decode))) : undefined;
      const input = decoded
        ? imagesToBatch(decoded, model.preprocess)
        : await loadInput(o.input!, model, fileLimit(o));
      const originalSizes = decoded?.map((d) => [d.height, d.width] as const);
      const wrt = o.wrt.map((w) => (w === 'input' ? model.input.name : w));
      // With --layer-layout the layers come out through their views (value and gradient alike).
      const viewed = o.layerLayout
        ? resolveLayers(
            model.model.graph,
            await model.shapes(),
            wrt.filter((w) => w !== model.input.name),
            o.layerLayout === 'auto' ? undefined : parseLayerLayout(o.layerLayout),
          )
        : [];
      const views = Object.fromEntries(viewed.map((l) => [l.name, l.view!]));
      const feeds = await loadFeeds(o.feed, model, fileLimit(o));
      let result: GradientResult;
      let rows: readonly TargetRow[] | undefined;
      let differentiated: string;
      if (o.seed) {
        // A raw seed [N, ...]: the gradient of the read tensor itself, one row per image.
        const runner = await GradientRunner.create(
          model,
          {
            wrt,
            views,
            ruleSet: RULE_SETS[o.rule],
            profile: o.profile,
            ...(o.targetOutput ? { explained: o.targetOutput } : {}),
          },
          o.threads,
        );
        try {
          result = await runner.run(input, await readNpy(o.seed, fileLimit(o)), feeds);
          differentiated = runner.compiled.explained;
        } finally {
          await runner.release();
        }
      } else {
        // The same targets as explain: --class c is the target c.
        const g = await targetGradients(model, input, {
          wrt,
          views,
          target: o.class !== undefined ? { kind: 'class', index: o.class } : (o.target ?? 'pred'),
          counterfactual: o.counterfactual ?? false,
          rule: o.rule,
          profile: o.profile,
          feeds,
          ...(o.targetOutput ? { targetOutput: o.targetOutput } : {}),
          ...(originalSizes ? { originalSizes } : {}),
          ...(o.maxTargets !== undefined ? { maxTargets: o.maxTargets } : {}),
        });
        result = g;
        rows = g.rows;
        differentiated = g.graph.explained;
      }
      {
        const n = input.dims[0]!;
        const classes = rows?.map((r) => r.index ?? null);
        await prepareOutputDir(o.out);
        // A signal lets the writes finish (each is atomic), so no temp file is left; then exit 130/143.
        const interrupt = new InterruptWatch();
        // Tensor names come from the model: each becomes one safe, distinct file name.
        const names = new Set<string>(['input', 'input.grad', 'logits']);
        const files: { tensor: string; value: string; grad: string; shape: readonly number[] }[] = [];
        try {
          for (const w of wrt) {
            const base = w === model.input.name ? 'input' : uniqueName(names, w, 'tensor');
            names.add(`${base}.grad`.toLowerCase()); // a tensor named `x.grad` must not take x's gradient file
            await writeNpy(join(o.out, `${base}.npy`), result.values[w]!);
            await writeNpy(join(o.out, `${base}.grad.npy`), result.grads[w]!);
            files.push({
              tensor: w,
              value: `${base}.npy`,
              grad: `${base}.grad.npy`,
              shape: result.grads[w]!.dims,
            });
          }
          await writeNpy(join(o.out, 'logits.npy'), result.explained);
        } finally {
          interrupt.dispose();
        }
        interrupt.check('the files were written');
        const summary = {
          model: modelPath,
          explained: differentiated,
          rule: o.rule,
          profile: o.profile,
          batch: n,
          classes: classes ?? null,
          labels: classes?.map((c) => (c === null ? null : (model.labels?.[c] ?? null))) ?? null,
          rows:
            rows?.map((r) => ({
              image: r.image,
              index: r.index ?? null,
              description: r.description,
              counterfactual: r.counterfactual,
            })) ?? null,
          seed: o.seed ?? null,
          out: o.out,
          files,
          logits: 'logits.npy',
        };
        if (o.json) io.out(`${JSON.stringify(summary, null, 2)}\n`);
        else {
          for (const f of files)
            io.out(
              `${f.tensor}  [${f.shape.join(', ')}]  → ${join(o.out, f.value)}, ${join(o.out, f.grad)}\n`,
            );
          io.out(
            `target ${differentiated}${rows ? `: ${rows.map((r) => r.description).join('; ')}` : ''} → ${join(o.out, 'logits.npy')}\n`,
          );
        }
      }
    } finally {
      await model.release();
    }
  });
}

function ruleSet(v: string): RuleSetName {
  if (v in RULE_SETS) return v as RuleSetName;
  throw new GradsightError(
    'bad-argument',
    `--rule must be one of ${Object.keys(RULE_SETS).join(', ')}; got ${JSON.stringify(v)}`,
    {
      hint: 'for example --rule guided',
    },
  );
}

function profile(v: string): 'cpu' | 'web' {
  if (v === 'cpu' || v === 'web') return v;
  throw new GradsightError('bad-argument', `--profile must be cpu or web; got ${JSON.stringify(v)}`, {
    hint: 'for example --profile web',
  });
}

async function loadInput(path: string, model: ImageModel, limit: ReadLimit): Promise<Float32Tensor> {
  const t = await readNpy(path, limit);
  const want = model.inputDims(1);
  const dims = t.dims.length === want.length - 1 ? [1, ...t.dims] : [...t.dims];
  if (dims.length !== want.length || dims.slice(1).some((d, i) => d !== want[i + 1])) {
    throw new GradsightError(
      'bad-argument',
      `${path} has shape [${t.dims.join(', ')}]; the model takes [N, ${want.slice(1).join(', ')}]`,
      {
        hint: 'save the preprocessed tensor in the model layout, with or without the batch axis',
      },
    );
  }
  const data =
    t.dtype === 'float32'
      ? (t.data as Float32Array)
      : t.dtype === 'float64'
        ? Float32Array.from(t.data as Float64Array)
        : undefined;
  if (!data)
    throw new GradsightError('bad-npy', `${path} holds ${t.dtype}; the input must be float32 or float64`);
  return { dtype: 'float32', dims, data };
}
