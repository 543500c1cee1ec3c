// Methods benchmark on the shared MobileNetV2 (224×224, 1001 classes), in one process:
//  - top-k batching: explaining the top 5 classes with Grad-CAM vs explaining the top 1 (target ≤ 1.6×);
//  - Score-CAM and Ablation-CAM wall time for one image (1280 channels; pytorch-grad-cam's Score-CAM
//    takes about 4.5 minutes per image on this kind of machine, see ../shared/reference).
//
//   node --import tsx bench/methods.ts [--runs 5]

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Explainer } from '../src/explain/explainer.ts';
import { decodeImageFile } from '../src/image/decode-node.ts';
import type { MethodId } from '../src/methods/types.ts';
import { openImageModel } from '../src/model/open-node.ts';

const here = dirname(fileURLToPath(import.meta.url));
const shared = join(here, '..', '..', 'shared');
const i = process.argv.indexOf('--runs');
const runs = i > 0 ? Number(process.argv[i + 1]) : 5;

async function median(f: () => Promise<unknown>): Promise<number> {
  await f();
  const t: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    await f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]!;
}

async function main(): Promise<void> {
  const modelFile = join(shared, 'models', 'mobilenet_v2_1.0_224_quant', 'model.onnx');
  if (!existsSync(modelFile)) return console.log(`missing ${modelFile}`);
  const ex = Explainer.fromModel(await openImageModel(modelFile));
  const image = await decodeImageFile(join(shared, 'images', 'cat.png'));
  console.log(`MobileNetV2, cat.png, median of ${runs} runs after one warm-up\n`);
  const one = await median(() => ex.explain(image, { method: 'gradcam', target: 'top:1' }));
  const five = await median(() => ex.explain(image, { method: 'gradcam', target: 'top:5' }));
  console.log(`| Grad-CAM, top-1 | ${one.toFixed(0)} ms |`);
  console.log(
    `| Grad-CAM, top-5 in one batched run | ${five.toFixed(0)} ms (${(five / one).toFixed(2)}× top-1; target ≤ 1.6×) |`,
  );
  for (const method of ['scorecam', 'ablationcam'] as MethodId[]) {
    const t0 = performance.now();
    const r = await ex.explain(image, { method, target: 'pred', batchSize: 64 });
    const s = (performance.now() - t0) / 1000;
    console.log(`| ${method}, one image (${r.layers[0]?.shape[1]} channels) | ${s.toFixed(1)} s |`);
  }
  await ex.release();
}

await main();
