// gradsight layers <model> [--image img]: which layer to explain. Without an image the candidates are
// listed by spatial resolution; with one, each layer's Grad-CAM map masks the image and the layers are
// ranked by how little of the class probability the mask loses.

import { Command } from 'commander';
import pc from 'picocolors';
import { rankLayers } from '../../eval/layer-ranking.ts';
import { decodeImageFile } from '../../image/decode-node.ts';
import { imagesToBatch } from '../../image/preprocess.ts';
import { viewLabel } from '../../model/layers.ts';
import { openImageModel } from '../../model/open-node.ts';
import { formatShape } from '../format.ts';
import type { CliIo } from '../main.ts';
import {
  addInputLimitOptions,
  addPreprocessOptions,
  decodeOptions,
  modelLimits,
  nonNegativeInt,
  type PreprocessOpts,
  positiveInt,
  preprocessFlags,
} from '../options.ts';

interface LayersOpts extends PreprocessOpts {
  image?: string;
  class?: number;
  top: number;
  limit?: number;
  layerLayout?: string;
  json?: boolean;
  labels?: string;
  threads?: number;
}

export function layersCommand(io: CliIo): Command {
  const cmd = new Command('layers')
    .description(
      'rank the candidate Grad-CAM layers (by resolution, and with --image by how faithful each map is)',
    )
    .argument('<model>', 'an .onnx file, or a folder with model.onnx')
    .option('--image <file>', 'score each layer on this image')
    .option('--class <c>', 'class to explain (default: the top-1)', nonNegativeInt('--class'))
    .option('--top <n>', 'show this many layers', positiveInt('--top'), 10)
    .option('--limit <n>', 'score only the last n candidate layers', positiveInt('--limit'))
    .option(
      '--layer-layout <layout>',
      'read every candidate as N×C×H×W with this layout: nchw, nhwc, tokens[:SKIP[:HxW]] (default: inferred per layer)',
    )
    .option('--json', 'print JSON')
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'));
  addPreprocessOptions(cmd);
  addInputLimitOptions(cmd);
  return cmd.action(async (modelPath: string, o: LayersOpts) => {
    const model = await openImageModel(modelPath, {
      preprocess: preprocessFlags(o),
      ...modelLimits(o),
      ...(o.labels !== undefined ? { labelsPath: o.labels } : {}),
      ...(o.threads !== undefined ? { threads: o.threads } : {}),
    });
    try {
      const image = o.image ? await decodeImageFile(o.image, decodeOptions(o, io.err)) : undefined;
      const input = image ? imagesToBatch([image], model.preprocess) : undefined;
      const { scores, classIndex } = await rankLayers(model, input, {
        ...(o.class !== undefined ? { classIndex: o.class } : {}),
        ...(o.limit !== undefined ? { limit: o.limit } : {}),
        ...(o.layerLayout ? { layerLayout: o.layerLayout } : {}),
      });
      if (o.json) {
        io.out(
          `${JSON.stringify({ model: modelPath, image: o.image ?? null, class: classIndex ?? null, layers: scores }, null, 2)}\n`,
        );
        return;
      }
      const label =
        classIndex !== undefined ? `${model.labels?.[classIndex] ?? 'class'} (${classIndex})` : undefined;
      io.out(
        o.image
          ? `${pc.bold('layers ranked')} for ${label} on ${o.image}: probability kept when the image is masked by the layer's Grad-CAM map (higher is more faithful)\n`
          : `${pc.bold('candidate layers')} by spatial resolution (give --image to rank them by faithfulness)\n`,
      );
      const width = Math.max(...scores.slice(0, o.top).map((s) => s.layer.name.length));
      for (const [i, s] of scores.slice(0, o.top).entries()) {
        const kept =
          s.kept === undefined ? '' : `${(Math.min(s.kept, 9.99) * 100).toFixed(0).padStart(4)}% kept  `;
        const mark = s.isDefault ? pc.green(' ← default') : '';
        io.out(
          `${String(i + 1).padStart(3)}. ${kept}${s.layer.name.padEnd(width)}  ${formatShape(s.layer.shape).padEnd(20)} ${viewLabel(s.layer).padEnd(15)} ${s.layer.op}${mark}\n`,
        );
      }
    } finally {
      await model.release();
    }
  });
}
