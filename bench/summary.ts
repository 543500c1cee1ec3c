// Issue 10's figures in one command: for each model (the shared MobileNetV2, the conformance suite's
// torchvision ResNet-50 export), the model's own forward, every method of the method table on one
// preprocessed image (warm, the same 2 threads, in one process; its ratio to the forward), Grad-CAM
// of the top 5 classes, and `gradsight explain`'s throughput over a folder of 56 photos (the whole
// process on the compiled library, every output file). Printed as markdown; with --write, also put
// into bench/RESULTS.md between its summary markers. The detailed benchmarks (bench/explain.ts,
// bench/cli.ts, bench/methods.ts, bench/autodiff.ts) measure each target on its own.
//
//   npm run bench        (node --import tsx bench/summary.ts --write)

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDist, makeFolder, resnetModelDir, root, run, shared } from './cli-helpers.ts';

const THREADS = 2;
const PHOTOS = 56;
/**
 * Fast calls (the first under SLOW_MS) are timed in interleaved rounds, a burst of the forward and then
 * of each, so that the host's drift slows all alike; each figure is the median over rounds of its
 * burst's mean, its ratio the median of its ratios to the same round's forward.
 */
const ROUNDS = 3;
/**
 * Calls per burst, as bench/explain.ts: each session's ONNX Runtime threads spin for a while after its
 * runs, so a short burst right after another session's pays for that session's threads.
 */
const BURST = 10;
/** Slower calls (Ablation-CAM) are timed once after a warm call; the slowest (Score-CAM) once. */
const SLOW_MS = 1000;
const SLOWEST_MS = 10_000;

interface Row {
  readonly name: string;
  readonly ms: number;
  readonly ratio: number;
  readonly note?: string;
}

const median = (t: readonly number[]) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]!;

async function burst(f: () => Promise<unknown>, n = BURST): Promise<number> {
  const t0 = performance.now();
  for (let k = 0; k < n; k++) await f();
  return (performance.now() - t0) / n;
}

async function libraryRows(modelPath: string): Promise<{ forward: number; rows: Row[] }> {
  const { loadExplainer } = await import('../src/explain/load-node.ts');
  const { decodeImageFile } = await import('../src/image/decode-node.ts');
  const { imagesToBatch } = await import('../src/image/preprocess.ts');
  const { METHODS } = await import('../src/methods/table.ts');
  const ex = await loadExplainer(modelPath, { threads: THREADS, preprocess: { size: [224, 224] } });
  const image = await decodeImageFile(join(shared, 'images', 'cat.png'));
  const x = imagesToBatch([image], ex.model.preprocess);
  const cases = [
    ...METHODS.map((m) => ({ name: m.id, options: { method: m.id } })),
    { name: 'gradcam, top-5', options: { method: 'gradcam' as const, target: 'top:5' } },
  ];
  await ex.model.run(x);
  // The first call of each compiles its graph and session; the second says which are slow (the
  // slowest's first call is its figure: compiling is nothing beside its minutes).
  const warm = new Map<string, { ms: number; note: string }>();
  for (const c of cases) {
    const first = await burst(() => ex.explain(x, c.options), 1);
    if (first > SLOWEST_MS) warm.set(c.name, { ms: first, note: 'one call, its first' });
    else
      warm.set(c.name, {
        ms: await burst(() => ex.explain(x, c.options), 1),
        note: 'one call after a warm one',
      });
  }
  const fast = cases.filter((c) => warm.get(c.name)!.ms < SLOW_MS);
  const forwards: number[] = [];
  const times = new Map<string, number[]>(fast.map((c) => [c.name, []]));
  const ratios = new Map<string, number[]>(fast.map((c) => [c.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    await ex.model.run(x); // wakes this session's threads after the gradient sessions' runs
    const f = await burst(() => ex.model.run(x));
    forwards.push(f);
    for (const c of fast) {
      await ex.explain(x, c.options);
      const t = await burst(() => ex.explain(x, c.options));
      times.get(c.name)!.push(t);
      ratios.get(c.name)!.push(t / f);
    }
  }
  const forward = median(forwards);
  const rows: Row[] = [];
  for (const c of cases) {
    if (times.has(c.name)) {
      rows.push({ name: c.name, ms: median(times.get(c.name)!), ratio: median(ratios.get(c.name)!) });
      continue;
    }
    const { ms, note } = warm.get(c.name)!;
    rows.push({ name: c.name, ms, ratio: ms / forward, note });
  }
  // Top-5 next to Grad-CAM.
  const top5 = rows.findIndex((r) => r.name === 'gradcam, top-5');
  rows.splice(1, 0, ...rows.splice(top5, 1));
  await ex.release();
  return { forward, rows };
}

async function cliThroughput(modelDir: string, images: string, tmp: string): Promise<string> {
  const out = join(tmp, 'out');
  const r = await run(['--cli', 'explain', modelDir, images, '-q', '-o', out]);
  await rm(out, { recursive: true, force: true });
  if (r.code !== 0) return `exit ${r.code}`;
  return `${(PHOTOS / (r.ms / 1000)).toFixed(1)} images/s (${(r.ms / 1000).toFixed(2)} s, the whole process)`;
}

async function main(): Promise<void> {
  if (!existsSync(join(shared, 'images', 'cat.png'))) {
    console.log('bench/summary.ts: skipped, ../shared (the models and photos) is not here');
    return;
  }
  buildDist();
  const tmp = await mkdtemp(join(tmpdir(), 'gradsight-bench-summary-'));
  const lines: string[] = [];
  const say = (l: string) => {
    console.log(l);
    lines.push(l);
  };
  try {
    const images = join(tmp, 'photos56');
    await makeFolder(images, PHOTOS, [1, 0.75, 0.5]);
    const resnet = await resnetModelDir(tmp);
    const models = [
      { name: 'MobileNetV2 (shared)', dir: join(shared, 'models', 'mobilenet_v2_1.0_224_quant') },
      ...(resnet ? [{ name: 'ResNet-50 (torchvision export)', dir: resnet }] : []),
    ];
    say(`Measured ${new Date().toISOString().slice(0, 16)} UTC, ${THREADS} ONNX Runtime threads, cat.png:`);
    // The CLI runs first, each in a process of its own, before this one holds any model.
    const cli = new Map<string, string>();
    for (const m of models) cli.set(m.name, await cliThroughput(m.dir, images, tmp));
    for (const m of models) {
      const { forward, rows } = await libraryRows(m.dir);
      say('');
      say(`| ${m.name} | time per image | × forward |`);
      say('|---|---|---|');
      say(`| forward (the model alone) | ${forward.toFixed(1)} ms | 1.00× |`);
      for (const r of rows) {
        const note = r.note ? ` (${r.note})` : '';
        say(`| ${r.name} | ${r.ms.toFixed(1)} ms${note} | ${r.ratio.toFixed(2)}× |`);
      }
      say(`| \`gradsight explain\`, ${PHOTOS} photos, Grad-CAM | ${cli.get(m.name)} | |`);
    }
    if (!resnet) say('\n(ResNet-50 skipped: run bash conformance/setup.sh to export it)');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  if (process.argv.includes('--write')) {
    const file = join(root, 'bench', 'RESULTS.md');
    const text = await readFile(file, 'utf8');
    const [start, end] = ['<!-- summary:start -->', '<!-- summary:end -->'];
    const a = text.indexOf(start);
    const b = text.indexOf(end);
    if (a < 0 || b < a) throw new Error(`bench/RESULTS.md has no ${start} … ${end} block`);
    await writeFile(file, `${text.slice(0, a + start.length)}\n${lines.join('\n')}\n${text.slice(b)}`);
    console.log('\nwritten to bench/RESULTS.md');
  }
}

await main();
