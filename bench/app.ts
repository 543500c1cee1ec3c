// Browser benchmark: Grad-CAM on the shared MobileNetV2 (cat.png) in headless Chromium on
// onnxruntime-web's wasm build (threaded: the page is cross-origin isolated, served by gradsight's
// own static server) vs Node on onnxruntime-node, same machine, same image. Each side: one warm-up
// explain() (compiles the gradient model and its session), then N timed runs; medians and their ratio
// (issue 14's target: browser ≤ 2× Node). Also the first call and the model's open time.
//
//   node --import tsx bench/app.ts [--runs 10] [--threads N]   (default: each runtime's, 2 here)

import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { loadExplainer } from '../src/explain/load-node.ts';
import { decodeImageFile } from '../src/image/decode-node.ts';
import { imagesToBatch } from '../src/image/preprocess.ts';
import { folderRoutes, startStaticServer } from '../src/serve/static-server.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shared = join(root, '..', 'shared');
const modelDir = join(shared, 'models', 'mobilenet_v2_1.0_224_quant');
const catPath = join(shared, 'images', 'cat.png');
const CHROMIUM = '/usr/bin/chromium';
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;
const threadsArg = process.argv.indexOf('--threads');
const THREADS = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : undefined;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// The page: the browser entry, the model and image fetched from the same origin, timed in the page.
const PAGE = `
import { decodeWebImage, Explainer, imagesToBatch, openWebModel } from './src/browser.ts';
globalThis.bench = async (runs, threads) => {
  const get = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
  const t0 = performance.now();
  const model = await openWebModel(
    { model: await get('model/model.onnx'), files: { 'preprocess.json': await get('model/preprocess.json'), 'labels.txt': await get('model/labels.txt') } },
    { web: { backend: 'wasm', wasmPaths: new URL('ort/', location.href).href, ...(threads ? { threads } : {}) } },
  );
  const open = performance.now() - t0;
  const ex = Explainer.fromModel(model);
  const image = await decodeWebImage(new Blob([await get('cat.png')]));
  let t = performance.now();
  await ex.explain(image, { method: 'gradcam' });
  const first = performance.now() - t;
  const times = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    await ex.explain(image, { method: 'gradcam' });
    times.push(performance.now() - t);
  }
  const batch = imagesToBatch([image], model.preprocess);
  const forwards = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    await model.run(batch);
    forwards.push(performance.now() - t);
  }
  return { open, first, times, forwards, isolated: crossOriginIsolated, threads: navigator.hardwareConcurrency };
};
`;

async function browserSide(): Promise<Side & { isolated: boolean; threads: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-bench-app-'));
  try {
    await build({
      stdin: { contents: PAGE, resolveDir: root, loader: 'js' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      conditions: ['onnxruntime-web-use-extern-wasm'],
      outfile: join(dir, 'bench.js'),
      logLevel: 'warning',
    });
    await writeFile(
      join(dir, 'index.html'),
      '<!doctype html><title>bench</title><script type="module" src="bench.js"></script>',
    );
    const ortDist = join(root, 'node_modules', 'onnxruntime-web', 'dist');
    for (const f of await readdir(ortDist)) {
      if (/^ort-wasm-simd-threaded\.(wasm|mjs)$/.test(f)) await cp(join(ortDist, f), join(dir, 'ort', f));
    }
    const routes = await folderRoutes(dir, '/');
    for (const f of ['model.onnx', 'preprocess.json', 'labels.txt'])
      routes.set(`/model/${f}`, join(modelDir, f));
    routes.set('/cat.png', catPath);
    const server = await startStaticServer({ routes });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      await page.waitForFunction(() => 'bench' in globalThis);
      // biome-ignore lint/suspicious/noExplicitAny: the page's global
      return await page.evaluate(([n, t]) => (globalThis as any).bench(n, t), [RUNS, THREADS] as const);
    } finally {
      await browser.close();
      await server.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Side {
  readonly open: number;
  readonly first: number;
  /** explain() with Grad-CAM. */
  readonly times: number[];
  /** The inference model alone (one forward run). */
  readonly forwards: number[];
}

async function nodeSide(): Promise<Side> {
  let t = performance.now();
  const ex = await loadExplainer(modelDir, THREADS ? { threads: THREADS } : {});
  const open = performance.now() - t;
  const image = await decodeImageFile(catPath);
  t = performance.now();
  await ex.explain(image, { method: 'gradcam' });
  const first = performance.now() - t;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    t = performance.now();
    await ex.explain(image, { method: 'gradcam' });
    times.push(performance.now() - t);
  }
  const batch = imagesToBatch([image], ex.model.preprocess);
  const forwards: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    t = performance.now();
    await ex.model.run(batch);
    forwards.push(performance.now() - t);
  }
  await ex.release();
  return { open, first, times, forwards };
}

if (!existsSync(CHROMIUM) || !existsSync(modelDir)) {
  process.stderr.write(`needs ${CHROMIUM} and ${modelDir}\n`);
  process.exit(1);
}
const nodeR = await nodeSide();
const web = await browserSide();
const fmt = (x: number) => `${x.toFixed(0)} ms`;
process.stdout.write(
  [
    `machine: ${cpus().length} cores, threads ${THREADS ?? 'default'}; Chromium: cross-origin isolated ${web.isolated}, ${web.threads} hardware threads`,
    `Node (onnxruntime-node): open ${fmt(nodeR.open)}, first explain ${fmt(nodeR.first)}, median of ${RUNS} ${fmt(median(nodeR.times))} (${fmt(Math.min(...nodeR.times))}–${fmt(Math.max(...nodeR.times))})`,
    `Chromium (onnxruntime-web wasm): open ${fmt(web.open)}, first explain ${fmt(web.first)}, median of ${RUNS} ${fmt(median(web.times))} (${fmt(Math.min(...web.times))}–${fmt(Math.max(...web.times))})`,
    `ratio browser / Node (medians): Grad-CAM explain() ${(median(web.times) / median(nodeR.times)).toFixed(2)}×; forward run alone ${fmt(median(web.forwards))} vs ${fmt(median(nodeR.forwards))}, ${(median(web.forwards) / median(nodeR.forwards)).toFixed(2)}×`,
    '',
  ].join('\n'),
);
