// gradsight grad: raw activations and gradients as .npy files, from one run of the compiled gradient
// graph. The building block under every explanation method, exposed for research and debugging.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { RULE_SETS, type RuleSetName } from '../../autodiff/index.ts';
import { GradsightError } from '../../errors.ts';
import { decodeImageFile } from '../../image/decode-node.ts';
import { imagesToBatch } from '../../image/preprocess.ts';
import { GradientRunner } from '../../model/gradient-runner.ts';
import type { ImageModel } from '../../model/image-model.ts';
import { parseLayerLayout } from '../../model/layer-view.ts';
import { resolveLayers } from '../../model/layers.ts';
import { openImageModel } from '../../model/open-node.ts';
import { readNpy, writeNpy } from '../../tensor/npy-node.ts';
import { type Float32Tensor, type Tensor, topK } from '../../tensor/tensor.ts';
import type { CliIo } from '../main.ts';
import {
  addPreprocessOptions,
  nonNegativeInt,
  type PreprocessOpts,
  positiveInt,
  preprocessFlags,
} from '../options.ts';
import { openForInput } from './input-size.ts';

interface GradOpts extends PreprocessOpts {
  image?: string[];
  input?: string;
  wrt: string[];
  layerLayout?: string;
  class?: number;
  seed?: string;
  rule: RuleSetName;
  targetOutput?: string;
  profile: 'cpu' | 'web';
  out: string;
  json?: boolean;
  labels?: string;
  threads?: number;
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
      '--class <c>',
      'output index to explain, for every row (default: each row’s top-1)',
      nonNegativeInt('--class'),
    )
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
  return cmd.action(async (modelPath: string, o: GradOpts) => {
    if (!o.image?.length === !o.input) {
      throw new GradsightError('bad-argument', 'give either --image (one or more) or --input x.npy', {
        hint: 'gradsight grad model.onnx --image cat.png --wrt input --class 281 --out grads/',
      });
    }
    // A --input tensor of another H×W opens a model with symbolic H, W at that size (input-size.ts).
    const model = await openForInput(
      (size) =>
        openImageModel(modelPath, {
          preprocess: { ...preprocessFlags(o), ...(size ? { size } : {}) },
          ...(o.labels !== undefined ? { labelsPath: o.labels } : {}),
          ...(o.threads !== undefined ? { threads: o.threads } : {}),
        }),
      o.input,
      o.size,
    );
    try {
      const input = o.input
        ? await loadInput(o.input, model)
        : imagesToBatch(await Promise.all(o.image!.map(decodeImageFile)), model.preprocess);
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
      const runner = await GradientRunner.create(
        model,
        {
          wrt,
          views: Object.fromEntries(viewed.map((l) => [l.name, l.view!])),
          ruleSet: RULE_SETS[o.rule],
          profile: o.profile,
          ...(o.targetOutput ? { target: o.targetOutput } : {}),
        },
        o.threads,
      );
      try {
        const n = input.dims[0]!;
        const seedDims = runner.seedDims(n);
        let classes: number[] | undefined;
        let seed: Tensor;
        if (o.seed) seed = await readNpy(o.seed);
        else {
          if (seedDims.length !== 2) {
            throw new GradsightError(
              'bad-argument',
              `the target ${runner.compiled.target} has shape [${seedDims.join(', ')}]; --class needs [N, K]`,
              {
                hint: 'pass the gradient of the target as --seed s.npy',
              },
            );
          }
          const k = seedDims[1]!;
          if (o.class !== undefined && o.class >= k) {
            throw new GradsightError(
              'bad-argument',
              `--class ${o.class} is out of range: the target has ${k} outputs (0 to ${k - 1})`,
            );
          }
          classes = o.class !== undefined ? Array(n).fill(o.class) : await topClasses(runner, input, k);
          seed = oneHot(n, k, classes);
        }
        const result = await runner.run(input, seed);
        await mkdir(o.out, { recursive: true });
        const files: { tensor: string; value: string; grad: string; shape: readonly number[] }[] = [];
        for (const w of wrt) {
          const base = w === model.input.name ? 'input' : safeName(w);
          await writeNpy(join(o.out, `${base}.npy`), result.values[w]!);
          await writeNpy(join(o.out, `${base}.grad.npy`), result.grads[w]!);
          files.push({
            tensor: w,
            value: `${base}.npy`,
            grad: `${base}.grad.npy`,
            shape: result.grads[w]!.dims,
          });
        }
        await writeNpy(join(o.out, 'logits.npy'), result.target);
        const summary = {
          model: modelPath,
          target: runner.compiled.target,
          rule: o.rule,
          profile: o.profile,
          batch: n,
          classes: classes ?? null,
          labels: classes?.map((c) => model.labels?.[c] ?? null) ?? null,
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
            `target ${runner.compiled.target}${classes ? `, classes ${classes.join(', ')}` : ''} → ${join(o.out, 'logits.npy')}\n`,
          );
        }
      } finally {
        await runner.release();
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

/** File name for a tensor name: path separators and other unsafe characters become `_`. */
export function safeName(name: string): string {
  return name.replace(/[/\\:*?"<>|\s]/g, '_').replace(/^\.+/, '_');
}

async function loadInput(path: string, model: ImageModel): Promise<Float32Tensor> {
  const t = await readNpy(path);
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

function oneHot(n: number, k: number, classes: readonly number[]): Float32Tensor {
  const data = new Float32Array(n * k);
  classes.forEach((c, i) => {
    data[i * k + c] = 1;
  });
  return { dtype: 'float32', dims: [n, k], data };
}

async function topClasses(runner: GradientRunner, input: Float32Tensor, k: number): Promise<number[]> {
  const n = input.dims[0]!;
  const { target } = await runner.run(input, oneHot(n, k, []));
  return Array.from({ length: n }, (_, i) => topK(target.data.subarray(i * k, (i + 1) * k), 1)[0]!);
}
