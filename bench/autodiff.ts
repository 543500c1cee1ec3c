// Autodiff benchmark: (1) forward only vs forward + gradient at the default Grad-CAM layer vs forward +
// input gradient (standard and guided rules), as ratios measured in this process on the same ONNX
// Runtime settings, the sessions' runs interleaved; (2) compile
// time and peak memory for a large model (torchvision VGG-16, ~530 MB), in a fresh child process.
//
//   /usr/bin/python3 bench/export_models.py      # resnet50 + vgg16 into bench/.cache (random weights;
//                                                # else ResNet-50 from conformance/setup.sh's cache)
//   node --import tsx bench/autodiff.ts [--runs 20] [--threads 2]
//
// Targets (not test assertions): last-layer gradient ≤ 1.3× forward, input gradient ≤ 3× forward;
// compile in a few seconds with peak memory under twice the model's size.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileGradients } from '../src/autodiff/index.ts';
import type { RuleSet } from '../src/autodiff/rule.ts';
import { guided, standard } from '../src/autodiff/rule-sets.ts';
import { defaultLayer } from '../src/model/layers.ts';
import { readModelBytes } from '../src/model/load-node.ts';
import { decodeModel, inferShapes } from '../src/onnx/index.ts';
import { nodeRuntime } from '../src/runtime/node.ts';
import type { Session } from '../src/runtime/runtime.ts';
import type { Tensor } from '../src/tensor/tensor.ts';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const runs = arg('--runs', 20);
const threads = arg('--threads', 2);

/**
 * Median time of each session over `runs` rounds, the sessions interleaved within a round so that a
 * change in the machine's load moves every column alike (other engineers run tests concurrently).
 */
async function medians(runsOf: (() => Promise<unknown>)[]): Promise<number[]> {
  for (const run of runsOf) for (let i = 0; i < 3; i++) await run();
  const times = runsOf.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, run] of runsOf.entries()) {
      const t = performance.now();
      await run();
      times[k]!.push(performance.now() - t);
    }
  }
  return times.map((ts) => ts.sort((a, b) => a - b)[Math.floor(ts.length / 2)]!);
}

async function timeModel(name: string, path: string): Promise<string> {
  const bytes = readFileSync(path);
  const model = decodeModel(bytes);
  const input = model.graph.inputs[0]!;
  const dims = [1, 3, 224, 224];
  const shapes = inferShapes(model, { [input.name]: ['batch', 3, 224, 224] });
  const layer = defaultLayer(model.graph, shapes).name;
  const x: Tensor = {
    dtype: 'float32',
    dims,
    data: Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i)),
  };
  // Every session with the same options as the model's own forward.
  const sessions: Session[] = [await nodeRuntime.createSession(bytes, { threads })];
  const feeds: Record<string, Tensor>[] = [{ [input.name]: x }];
  const compileMs: number[] = [];
  const grads: [string, RuleSet][] = [
    [layer, standard],
    [input.name, standard],
    [input.name, guided],
  ];
  for (const [wrt, ruleSet] of grads) {
    const t0 = performance.now();
    // Gradient shapes declared, as gradsight's own sessions compile them (GradientRunner).
    const compiled = compileGradients(bytes, model, { wrt: [wrt], shapes, ruleSet, gradientShapes: true });
    compileMs.push(performance.now() - t0);
    const k = compiled.seed.shape[1] as number;
    const seed: Tensor = {
      dtype: 'float32',
      dims: [1, k],
      data: new Float32Array(k).map((_, i) => (i === 1 ? 1 : 0)),
    };
    sessions.push(await nodeRuntime.createSession(compiled.bytes, { threads }));
    feeds.push({ [input.name]: x, [compiled.seed.name]: seed });
  }
  const t = await medians(sessions.map((s, k) => () => s.run(feeds[k]!)));
  for (const s of sessions) await s.release();
  const row = [name, t[0]!.toFixed(1)];
  for (const [k, tk] of t.slice(1).entries()) {
    row.push(`${tk.toFixed(1)} (${(tk / t[0]!).toFixed(2)}×, compile ${compileMs[k]!.toFixed(0)} ms)`);
  }
  return `| ${row.join(' | ')} | ${layer} |`;
}

/** Child mode: compile one model and report time and memory (peak RSS over the process). */
async function compileOnly(path: string): Promise<void> {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const bytes = await readModelBytes(path);
  const model = decodeModel(bytes);
  const shapes = inferShapes(model, { [model.graph.inputs[0]!.name]: ['batch', 3, 224, 224] });
  const layer = defaultLayer(model.graph, shapes).name;
  const tRead = performance.now();
  const compiled = compileGradients(bytes, model, { wrt: [layer, model.graph.inputs[0]!.name], shapes });
  const t1 = performance.now();
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(
    JSON.stringify({
      modelBytes: bytes.byteLength,
      outBytes: compiled.bytes.byteLength,
      readMs: tRead - t0,
      compileMs: t1 - tRead,
      baselineRss: rss0,
      peakRss: peak,
    }),
  );
}

/** bench/.cache's export, else the conformance suite's (conformance/setup.sh; dynamic batch, H, W). */
function resnet50(cache: string): string {
  const own = join(cache, 'resnet50.onnx');
  const conformance = join(here, '..', 'conformance', '.cache', 'resnet50', 'model.onnx');
  return existsSync(own) || !existsSync(conformance) ? own : conformance;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--compile-only') return compileOnly(process.argv[3]!);
  const cache = join(here, '.cache');
  const models: [string, string][] = [
    [
      'MobileNetV2 (shared)',
      join(here, '..', '..', 'shared', 'models', 'mobilenet_v2_1.0_224_quant', 'model.onnx'),
    ],
    ['ResNet-50 (torchvision)', resnet50(cache)],
  ];
  console.log(`ONNX Runtime CPU, ${threads} threads, batch 1, median of ${runs} interleaved runs (ms)\n`);
  console.log(
    '| model | forward | forward + grad at default layer | forward + input grad | forward + input grad (guided) | default layer |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const [name, path] of models) {
    if (!existsSync(path)) console.log(`| ${name} | missing: ${path} (run bench/export_models.py) | | | | |`);
    else console.log(await timeModel(name, path));
  }
  const vgg = join(cache, 'vgg16.onnx');
  if (!existsSync(vgg)) return console.log(`\nVGG-16 missing: ${vgg} (run bench/export_models.py)`);
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--compile-only', vgg],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
  console.log(`\nVGG-16 compile (gradients at the default layer and the input), fresh process:`);
  console.log(
    `- model ${mb(statSync(vgg).size)}; read + decode + shapes ${m.readMs!.toFixed(0)} ms; compile ${m.compileMs!.toFixed(0)} ms`,
  );
  console.log(
    `- peak RSS ${mb(m.peakRss!)} (process baseline ${mb(m.baselineRss!)}; above baseline ${mb(m.peakRss! - m.baselineRss!)} = ${((m.peakRss! - m.baselineRss!) / m.modelBytes!).toFixed(2)}× the model size); output ${mb(m.outBytes!)}`,
  );
}

await main();
