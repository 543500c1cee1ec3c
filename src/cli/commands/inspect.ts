// gradsight inspect <model> [--json]: what is inside a model and which layer Grad-CAM will use.

import { Command } from 'commander';
import pc from 'picocolors';
import { viewLabel } from '../../model/layers.ts';
import { openImageModel } from '../../model/open-node.ts';
import { type ModelSummary, summarize } from '../../model/summary.ts';
import { formatShape } from '../format.ts';
import type { CliIo } from '../main.ts';
import {
  addPreprocessOptions,
  modelLimits,
  type PreprocessOpts,
  positiveInt,
  preprocessFlags,
} from '../options.ts';

interface InspectOpts extends PreprocessOpts {
  json?: boolean;
  output?: string;
  labels?: string;
  threads?: number;
}

export function inspectCommand(io: CliIo): Command {
  const cmd = new Command('inspect')
    .description('show inputs, outputs, ops and the candidate Grad-CAM layers of a model')
    .argument('<model>', 'an .onnx file, or a folder with model.onnx')
    .option('--json', 'print JSON instead of text')
    .option('--output <name>', 'the output to explain (default: the first)')
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'));
  addPreprocessOptions(cmd);
  return cmd.action(async (path: string, o: InspectOpts) => {
    const model = await openImageModel(path, {
      preprocess: preprocessFlags(o),
      ...modelLimits(o),
      ...(o.output !== undefined ? { output: o.output } : {}),
      ...(o.labels !== undefined ? { labelsPath: o.labels } : {}),
      ...(o.threads !== undefined ? { threads: o.threads } : {}),
    });
    try {
      const s = await summarize(model);
      io.out(o.json ? `${JSON.stringify({ model: path, ...s }, null, 2)}\n` : formatSummary(path, s));
    } finally {
      await model.release();
    }
  });
}

function formatSummary(path: string, s: ModelSummary): string {
  const lines: string[] = [];
  const opsets = Object.entries(s.opsets)
    .map(([d, v]) => `${d} ${v}`)
    .join(', ');
  lines.push(
    pc.bold(path),
    `  IR ${s.irVersion}, opsets: ${opsets}${s.producer ? `, producer: ${s.producer}` : ''}`,
  );
  lines.push(pc.bold('inputs'));
  for (const v of s.inputs) lines.push(`  ${v.name}  ${v.dtype} ${formatShape(v.shape)}`);
  for (const w of s.warnings) lines.push(`  ${pc.yellow('warning')}: ${w}`);
  lines.push(pc.bold('outputs'));
  for (const v of s.outputs) lines.push(`  ${v.name}  ${v.dtype} ${formatShape(v.shape)}`);
  const p = s.preprocess;
  lines.push(
    pc.bold('preprocessing'),
    `  ${p.layout} ${p.size[0]}x${p.size[1]} ${p.channelOrder}, scale ${p.scale}, mean [${p.mean.join(', ')}], std [${p.std.join(', ')}]`,
    `  labels: ${s.labels ? `${s.labels} (label offset ${p.labelOffset})` : 'none (classes shown by index)'}`,
  );
  lines.push(pc.bold(`nodes: ${s.nodeCount}`));
  lines.push(
    `  ${Object.entries(s.ops)
      .map(([op, n]) => `${op} ×${n}`)
      .join(', ')}`,
  );
  // The view column: how each layer is read as N×C×H×W (nchw, nhwc, tokens:SKIP:HxW; ? = ambiguous, needs --layer-layout).
  lines.push(pc.bold(`candidate layers (${s.layers.length}, graph order; shape, op, view)`));
  const width = Math.max(0, ...s.layers.map((l) => l.name.length));
  for (const l of s.layers) {
    const mark = l.name === s.defaultLayer?.name ? pc.green(' ← default') : '';
    lines.push(
      `  ${l.name.padEnd(width)}  ${formatShape(l.shape).padEnd(18)} ${l.op}${mark}  ${pc.dim(`view ${viewLabel(l)}`)}`,
    );
  }
  lines.push(
    s.defaultLayer
      ? `${pc.bold('default layer')}: ${s.defaultLayer.name} ${formatShape(s.defaultLayer.shape)} (${s.defaultLayer.op}, read as ${viewLabel(s.defaultLayer)})`
      : `${pc.bold('default layer')}: none (${s.defaultLayerError ?? 'no spatial feature map'})`,
  );
  const miss = s.gradient.missingRules;
  lines.push(
    `${pc.bold('gradients')}: target ${s.gradient.target}; ${
      miss.length
        ? pc.yellow(
            `no gradient rule yet for ${miss.map((m) => `${m.op} (${m.nodes.length} node${m.nodes.length > 1 ? 's' : ''}, e.g. ${m.nodes[0]})`).join(', ')}`,
          )
        : 'every op on the path has a gradient rule'
    }`,
  );
  return `${lines.join('\n')}\n`;
}
