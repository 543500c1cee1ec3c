// Methods benchmark on the shared MobileNetV2 (224×224, 1001 classes), in one process:
//  - top-k batching: explaining the top 5 classes with Grad-CAM vs explaining the top 1 (target ≤ 1.6×);
//  - Score-CAM and Ablation-CAM wall time for one image (1280 channels) at the default memory budget,
//    against pytorch-grad-cam's time on the same image (../shared/reference/index.json, ~4.5 minutes on
//    this kind of machine; target: ≥ 20× faster), and against the floor of Score-CAM: one forward per
//    distinct masked input, timed in the same process at the same batch size.
//
//   node --import tsx bench/methods.ts [--runs 5]

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { batchWithin, DEFAULT_PERTURBATION_BUDGET, variantBytes } from '../src/eval/perturbation.ts';
import { Explainer } from '../src/explain/explainer.ts';
import { decodeImageFile } from '../src/image/decode-node.ts';
import type { MethodId } from '../src/methods/types.ts';
import { openImageModel } from '../src/model/open-node.ts';

const here = dirname(fileURLToPath(import.meta.url));
const shared = join(here, '..', '..', 'shared');
const i = process.argv.indexOf('--runs');
const runs = i > 0 ? Number(process.argv[i + 1]) : 5;

async function times(f: () => Promise<unknown>, n = runs): Promise<number[]> {
  await f();
  const t: number[] = [];
  for (let k = 0; k < n; k++) {
    const t0 = performance.now();
    await f();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b);
}
const median = (t: readonly number[]) => t[Math.floor(t.length / 2)]!;
const range = (t: readonly number[], scale = 1, digits = 0) =>
  `${(t[0]! / scale).toFixed(digits)}–${(t.at(-1)! / scale).toFixed(digits)}`;

async function main(): Promise<void> {
  const dir = join(shared, 'models', 'mobilenet_v2_1.0_224_quant');
  const modelFile = join(dir, 'model.onnx');
  if (!existsSync(modelFile)) return console.log(`missing ${modelFile}`);
  const model = await openImageModel(modelFile);
  const ex = Explainer.fromModel(model);
  const image = await decodeImageFile(join(shared, 'images', 'cat.png'));
  console.log(`MobileNetV2, cat.png, median of ${runs} runs after one warm-up\n`);
  const one = median(await times(() => ex.explain(image, { method: 'gradcam', target: 'top:1' })));
  const five = median(await times(() => ex.explain(image, { method: 'gradcam', target: 'top:5' })));
  console.log(`| Grad-CAM, top-1 | ${one.toFixed(0)} ms |`);
  console.log(
    `| Grad-CAM, top-5 in one batched run | ${five.toFixed(0)} ms (${(five / one).toFixed(2)}× top-1; target ≤ 1.6×) |`,
  );

  // Rows fed to forward runs of the target graph (a bench-only wrapper: counts them, changes nothing).
  let forwarded = 0;
  const runTarget = model.runTarget.bind(model);
  model.runTarget = (graph, batch, feeds) => {
    forwarded += batch.dims[0]!;
    return runTarget(graph, batch, feeds);
  };
  const index = JSON.parse(readFileSync(join(shared, 'reference', 'index.json'), 'utf8')) as {
    model: string;
    method?: string;
    seconds_pytorch_grad_cam?: number;
  }[];
  const slow = Math.min(runs, 3);
  // Score-CAM's floor: one forward per distinct masked input, at the batch the budget gives, on random
  // inputs, timed right after each Score-CAM run so that both see the same load.
  const rowBytes = variantBytes(
    model.model.graph,
    await model.shapes(),
    [model.input.name],
    4 * 3 * 224 * 224,
  );
  const floor = async (count: number) => {
    const batch = batchWithin(DEFAULT_PERTURBATION_BUDGET, rowBytes, count);
    const x = {
      dtype: 'float32' as const,
      dims: model.inputDims(batch),
      data: new Float32Array(batch * 3 * 224 * 224).map(() => Math.random()),
    };
    const t0 = performance.now();
    for (let done = 0; done < count; done += batch) await model.run(x);
    return { batch, ms: performance.now() - t0 };
  };
  for (const method of ['scorecam', 'ablationcam'] as MethodId[]) {
    let channels = 0;
    const run = () =>
      ex.explain(image, { method, target: 'pred' }).then((r) => {
        channels = r.layers[0]?.shape[1] as number;
      });
    await run();
    const t: number[] = [];
    const ratios: number[] = [];
    let detail = '';
    for (let k = 0; k < slow; k++) {
      forwarded = 0;
      const t0 = performance.now();
      await run();
      t.push(performance.now() - t0);
      if (method !== 'scorecam') continue;
      const f = await floor(forwarded);
      ratios.push(t.at(-1)! / f.ms);
      detail = `${forwarded} forwards (the distinct masked inputs) in batches of ${f.batch}`;
    }
    const ref = index.find((e) => e.model === 'mobilenet_v2_1.0_224_quant' && e.method === method);
    const torch = ref?.seconds_pytorch_grad_cam;
    const vs = torch
      ? `; pytorch-grad-cam ${torch.toFixed(0)} s, ${(torch / (median(t) / 1000)).toFixed(0)}× faster`
      : '';
    const sorted = [...t].sort((p, q) => p - q);
    console.log(
      `| ${method}, one image (${channels} channels) | ${range(sorted, 1000, 1)} s, median ${(median(sorted) / 1000).toFixed(1)} s${vs} |`,
    );
    if (ratios.length) {
      console.log(
        `|   ${detail}; Score-CAM / those forwards alone: ${ratios.map((r) => r.toFixed(2)).join(', ')} | |`,
      );
    }
  }
  await ex.release();
}

await main();
