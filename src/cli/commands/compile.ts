// gradsight compile: writes one ONNX file that takes the image (and the class to explain) and outputs
// the scores and the method's map, for plain ONNX Runtime in any language (src/compile/).

import { basename } from 'node:path';
import { Command } from 'commander';
import type { Profile } from '../../autodiff/index.ts';
import {
  COMPILABLE_METHODS,
  compilableMethod,
  compileExplainer,
  type ExplainerModel,
  SEED_INPUTS,
  type SeedInput,
} from '../../compile/index.ts';
import { GradsightError } from '../../errors.ts';
import { targetEnvOf } from '../../explain/target-env.ts';
import type { PreprocessConfig } from '../../image/preprocess.ts';
import { writeFileAtomic } from '../../io/write-file-node.ts';
import type { ImageModel } from '../../model/image-model.ts';
import { openImageModel } from '../../model/open-node.ts';
import { HEAD_NAMES, type HeadName, NAMED_HEADS, type TargetHead } from '../../targets/index.ts';
import { formatShape } from '../format.ts';
import type { CliIo } from '../main.ts';
import {
  addPreprocessOptions,
  modelLimits,
  oneOf,
  type PreprocessOpts,
  preprocessFlags,
} from '../options.ts';

interface CompileOpts extends PreprocessOpts {
  method: string;
  layer?: string[];
  layerLayout?: string;
  counterfactual?: boolean;
  seedInput: SeedInput;
  profile: Profile;
  output: string;
  targetOutput?: string;
  score: HeadName;
  imageInput?: string;
  json?: boolean;
  labels?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(',').filter(Boolean)];

export function compileCommand(io: CliIo): Command {
  const cmd = new Command('compile')
    .description('write one ONNX file that outputs the explanation map (runs in plain ONNX Runtime)')
    .argument('<model>', 'an .onnx file, or a folder with model.onnx')
    .requiredOption('--method <id>', `the method: ${COMPILABLE_METHODS.join(', ')}`)
    .option(
      '--layer <name>',
      'CAM layer(s) (repeat or comma-separate; default: the model’s default)',
      collect,
    )
    .option(
      '--layer-layout <layout>',
      'how layers are read as N×C×H×W when not inferable: nchw, nhwc, tokens[:SKIP[:HxW]] (SKIP leading class tokens)',
    )
    .option('--counterfactual', 'explain −y: regions whose removal raises the class score')
    .option(
      '--seed-input <kind>',
      'class: an int64 class_index input per image; seed: a float [N, K] gradient of the scores',
      oneOf('--seed-input', SEED_INPUTS),
      'class',
    )
    .option(
      '--profile <p>',
      'backward recipes: cpu (fastest there) or web (WebGPU-friendly)',
      oneOf('--profile', ['cpu', 'web'] as const),
      'cpu',
    )
    .requiredOption('-o, --output <file>', 'the explainer .onnx to write')
    .option('--target-output <name>', 'the model output to explain (default: the first, before softmax)')
    .option(
      '--score <kind>',
      `what class_index (or the seed) explains: ${HEAD_NAMES.join(', ')} (a detection's obj·cls score grid, from the model description)`,
      oneOf('--score', HEAD_NAMES),
      'logit',
    )
    .option('--image-input <name>', 'which model input is the image (default: inferred from shapes)')
    .option('--json', 'print a JSON description of the file');
  addPreprocessOptions(cmd);
  return cmd.action(async (modelPath: string, o: CompileOpts) => {
    compilableMethod(o.method); // fail before loading the model
    if (!o.output.trim()) {
      throw new GradsightError('bad-argument', '-o/--output is empty', {
        hint: 'name the file to write, for example -o explainer.onnx',
      });
    }
    const model = await openImageModel(modelPath, {
      preprocess: preprocessFlags(o),
      ...modelLimits(o),
      ...(o.targetOutput !== undefined ? { output: o.targetOutput } : {}),
      ...(o.labels !== undefined ? { labelsPath: o.labels } : {}),
      ...(o.imageInput !== undefined ? { imageInput: o.imageInput } : {}),
    });
    try {
      const head = scoreHead(o.score, model);
      const compiled = compileExplainer(model.source.bytes, model.model, {
        method: o.method,
        shapes: await model.shapes(),
        seedInput: o.seedInput,
        profile: o.profile,
        output: model.output.name,
        ...(o.layer?.length ? { layers: o.layer } : {}),
        ...(o.layerLayout ? { layerLayout: o.layerLayout } : {}),
        ...(o.counterfactual ? { counterfactual: true } : {}),
        ...(head ? { head } : {}),
        imageInput: model.input.name,
      });
      const path = await writeFileAtomic(o.output, compiled.bytes, 'compiled explainer', {
        createParents: true,
      });
      const external = model.source.externalData?.map((f) => f.path) ?? [];
      const summary = {
        model: modelPath,
        output: path,
        bytes: compiled.bytes.byteLength,
        method: compiled.method,
        layers: compiled.layers,
        counterfactual: compiled.counterfactual,
        explained: compiled.explained,
        profile: o.profile,
        inputs: compiled.inputs,
        outputs: compiled.outputs,
        externalData: external,
        preprocess: model.preprocess,
      };
      io.out(
        o.json
          ? `${JSON.stringify(summary, null, 2)}\n`
          : describe(path, compiled, external, preprocessLine(model.preprocess)),
      );
    } finally {
      await model.release();
    }
  });
}

/** The head for --score: a named one, or the detection decoder's score grid. */
function scoreHead(score: HeadName, model: ImageModel): TargetHead | undefined {
  if (score !== 'detection') return NAMED_HEADS[score];
  const det = targetEnvOf(model).detection;
  if (!det) {
    throw new GradsightError('bad-argument', '--score detection needs a detector: the model has no decoder', {
      hint: 'describe the output, e.g. --task detection --decoder fastestdet (or in preprocess.json)',
    });
  }
  return det.decoder.head;
}

function preprocessLine(p: PreprocessConfig): string {
  const pixel = p.scale === '0-1' ? 'pixel/255' : 'pixel';
  return `${p.channelOrder} ${p.layout}, resized to ${p.size[0]}x${p.size[1]}, (${pixel} − [${p.mean.join(', ')}]) / [${p.std.join(', ')}]`;
}

function describe(path: string, c: ExplainerModel, external: readonly string[], preprocess: string): string {
  const line = (t: ExplainerModel['inputs'][number]) =>
    `  ${t.name}  ${t.dtype} ${formatShape(t.shape)}  ${t.meaning}\n`;
  const feeds = c.inputs
    .map((t, i) =>
      i === 0 ? `${JSON.stringify(t.name)}: image` : `${JSON.stringify(t.name)}: ${feedExample(t.dtype)}`,
    )
    .join(', ');
  const fetched = c.outputs.find((t) => t.name !== c.explained) ?? c.outputs[0]!;
  return [
    `wrote ${path}: ${c.method}${c.counterfactual ? ' (counterfactual)' : ''}${c.layers.length ? ` at ${c.layers.join(', ')}` : ''}\n`,
    'inputs\n',
    ...c.inputs.map(line),
    'outputs\n',
    ...c.outputs.map(line),
    `the image: ${preprocess} (as gradsight predict feeds it)\n`,
    ...(external.length
      ? [`note: the weights stay in ${external.join(', ')}; keep them next to the explainer file\n`]
      : []),
    'run it with plain ONNX Runtime (Node):\n',
    `  const s = await ort.InferenceSession.create(${JSON.stringify(basename(path))});\n`,
    `  const r = await s.run({ ${feeds} });  // r[${JSON.stringify(fetched.name)}].data\n`,
  ].join('');
}

function feedExample(dtype: string): string {
  return dtype === 'int64'
    ? "new ort.Tensor('int64', BigInt64Array.of(281n), [1])"
    : "new ort.Tensor('float32', seed, [1, K])";
}
