// gradsight predict <model> <images...>: top-k labels and probabilities for each image (folders are
// expanded to their images). The work is model/predict.ts's predictImages; this file parses and prints.

import { Command } from 'commander';
import pc from 'picocolors';
import { GradsightError } from '../../errors.ts';
import { decodeImageFile } from '../../image/decode-node.ts';
import { openImageModel } from '../../model/open-node.ts';
import { type Prediction, predictImages } from '../../model/predict.ts';
import { percent } from '../format.ts';
import { expandImageArgs } from '../inputs.ts';
import type { CliIo } from '../main.ts';
import {
  addInputLimitOptions,
  addPreprocessOptions,
  decodeOptions,
  modelLimits,
  type PreprocessOpts,
  positiveInt,
  preprocessFlags,
} from '../options.ts';

interface PredictOpts extends PreprocessOpts {
  top: number;
  batch: number;
  json?: boolean;
  output?: string;
  labels?: string;
  threads?: number;
}

interface ImageResult {
  image: string;
  prediction?: Prediction;
  error?: { code: string; message: string; hint?: string };
}

export function predictCommand(io: CliIo): Command {
  const cmd = new Command('predict')
    .description('classify images: top-k labels with probabilities')
    .argument('<model>', 'an .onnx file, or a folder with model.onnx')
    .argument('<images...>', 'image files or folders of images')
    .option('--top <k>', 'how many classes to show', positiveInt('--top'), 5)
    .option('--batch <n>', 'images per model run', positiveInt('--batch'), 8)
    .option('--json', 'print JSON instead of text')
    .option('--output <name>', 'the model output to read (default: the first)')
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'));
  addPreprocessOptions(cmd);
  addInputLimitOptions(cmd);
  return cmd.action(async (modelPath: string, imageArgs: string[], o: PredictOpts) => {
    const images = await expandImageArgs(imageArgs);
    const model = await openImageModel(modelPath, {
      preprocess: preprocessFlags(o),
      ...modelLimits(o),
      ...(o.output !== undefined ? { output: o.output } : {}),
      ...(o.labels !== undefined ? { labelsPath: o.labels } : {}),
      ...(o.threads !== undefined ? { threads: o.threads } : {}),
    });
    let results: ImageResult[];
    try {
      results = (
        await predictImages(model, images, {
          decode: (f) => decodeImageFile(f, decodeOptions(o, io.err)),
          batch: o.batch,
          top: o.top,
        })
      ).map((r) =>
        'prediction' in r
          ? { image: r.source, prediction: r.prediction }
          : { image: r.source, error: errorJson(r.error) },
      );
    } finally {
      await model.release();
    }
    io.out(o.json ? `${JSON.stringify({ model: modelPath, results }, null, 2)}\n` : formatResults(results));
    const failed = results.filter((r) => r.error);
    if (failed.length) {
      for (const f of failed) io.err(`${pc.red(`error[${f.error!.code}]`)}: ${f.error!.message}\n`);
      throw new GradsightError(
        'bad-image',
        `${failed.length} of ${results.length} images could not be read`,
        {
          hint: 'the other images were classified; fix or remove the listed files',
        },
      );
    }
  });
}

function errorJson(e: GradsightError): ImageResult['error'] {
  return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
}

function formatResults(results: readonly ImageResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(pc.bold(r.image));
    if (!r.prediction) {
      lines.push(`  ${pc.red('failed')}: ${r.error?.message}`);
      continue;
    }
    const what = { classification: '', 'multi-label': 'sigmoid', segmentation: 'of pixels' }[
      r.prediction.kind
    ];
    const d = r.prediction.diagnostic;
    if (d) lines.push(`  ${pc.yellow('warning')}: ${d.message}; ${d.suggestion}`);
    for (const [i, c] of r.prediction.top.entries()) {
      lines.push(
        `  ${String(i + 1).padStart(2)}. ${percent(c.score).padStart(6)} ${what ? `${what} ` : ''}${c.label} (${c.index})`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
