// Library explain() at the floor: the cost of an explanation as a ratio to the model's own ONNX
// Runtime forward pass with the same threads, warm, on one preprocessed image tensor, in one process.
// Interleaved rounds (forward, then each explanation) so a loaded machine slows all of them alike;
// the ratio of medians and its range over rounds are printed.
//
//   node --import tsx bench/explain.ts [--rounds 15] [--threads 2] [--burst 10]
//
// Models: the shared MobileNetV2 (../shared) and a torchvision ResNet-50 export (conformance/.cache,
// made by `bash conformance/setup.sh`); each is skipped with a message when absent.
// Targets (issue 10): Grad-CAM (predicted class) ≤ 1.3×, top-5 ≤ 1.6×, Guided Grad-CAM ≤ 3× (ResNet-50)
// and ≤ 3.5× (MobileNetV2).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadExplainer } from '../src/explain/load-node.ts';
import { decodeImageFile } from '../src/image/decode-node.ts';
import { imagesToBatch } from '../src/image/preprocess.ts';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const rounds = arg('--rounds', 15);
const threads = arg('--threads', 2);
// Calls per measurement: a burst keeps one session's threads warm (ONNX Runtime's intra-op threads
// spin for a while after a run, so a single call right after another session's run pays for them).
const burst = arg('--burst', 10);

const MODELS = [
  {
    name: 'MobileNetV2 (shared)',
    path: join(here, '..', '..', 'shared', 'models', 'mobilenet_v2_1.0_224_quant'),
  },
  {
    name: 'ResNet-50 (torchvision)',
    path: join(here, '..', 'conformance', '.cache', 'resnet50', 'model.onnx'),
  },
];
const CASES = [
  { name: 'Grad-CAM, predicted class', options: { method: 'gradcam' as const } },
  { name: 'Grad-CAM, top-5', options: { method: 'gradcam' as const, target: 'top:5' } },
  { name: 'Guided Grad-CAM', options: { method: 'guided-gradcam' as const } },
];

const median = (t: readonly number[]) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]!;

async function main(): Promise<void> {
  const image = await decodeImageFile(join(here, '..', '..', 'shared', 'images', 'cat.png')).catch(
    () => undefined,
  );
  console.log(`| model | forward (ms) | ${CASES.map((c) => c.name).join(' | ')} |`);
  console.log(`|---|---|${CASES.map(() => '---').join('|')}|`);
  for (const m of MODELS) {
    if (!existsSync(m.path) || !image) {
      console.log(`| ${m.name} | skipped: ${m.path} or the shared cat.png not found | |`);
      continue;
    }
    const ex = await loadExplainer(m.path, { threads, preprocess: { size: [224, 224] } });
    const x = imagesToBatch([image], ex.model.preprocess);
    const forward: number[] = [];
    const times = CASES.map(() => [] as number[]);
    const ratios = CASES.map(() => [] as number[]);
    const time = async (f: () => Promise<unknown>) => {
      await f(); // the first call of a burst wakes this session's threads
      const t0 = performance.now();
      for (let k = 0; k < burst; k++) await f();
      return (performance.now() - t0) / burst;
    };
    // Warm: sessions and compiled gradient models are made on first use.
    await ex.model.run(x);
    for (const c of CASES) await ex.explain(x, c.options);
    for (let r = 0; r < rounds; r++) {
      const f = await time(() => ex.model.run(x));
      forward.push(f);
      for (const [i, c] of CASES.entries()) {
        const t = await time(() => ex.explain(x, c.options));
        times[i]!.push(t);
        ratios[i]!.push(t / f);
      }
    }
    const fm = median(forward);
    const cells = CASES.map((_, i) => {
      const rs = [...ratios[i]!].sort((a, b) => a - b);
      const q = (p: number) => rs[Math.floor(p * (rs.length - 1))]!;
      return `${(median(times[i]!) / fm).toFixed(2)}× (rounds: ${q(0.25).toFixed(2)}–${q(0.75).toFixed(2)})`;
    });
    console.log(`| ${m.name} | ${fm.toFixed(1)} | ${cells.join(' | ')} |`);
    await ex.release();
  }
}

await main();
