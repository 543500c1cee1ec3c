// Builds the browser app (app/) into app/dist with esbuild: the page and its worker as ES modules,
// index.html and style.css, onnxruntime-web's wasm files (served by the app itself, never a CDN) and
// the demo models. Run: npm run build:app (node --import tsx scripts/build-app.ts [--no-minify])

import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const app = join(repoRoot, 'app');
const out = join(app, 'dist');
const ortDist = join(repoRoot, 'node_modules', 'onnxruntime-web', 'dist');
// The wasm build loads ort-wasm-simd-threaded.{mjs,wasm}, the WebGPU build its .asyncify variant.
const ORT_FILES = /^ort-wasm-simd-threaded(\.asyncify)?\.(wasm|mjs)$/;
// A demo model's files but its notes: the model, preprocess.json, labels, vocabulary and answers.
const DEMO_SKIP = new Set(['README.md', 'metrics.json']);

export async function buildApp(minify = true): Promise<string> {
  await rm(out, { recursive: true, force: true });
  await mkdir(join(out, 'ort'), { recursive: true });
  await build({
    entryPoints: { main: join(app, 'src', 'main.ts'), worker: join(app, 'src', 'worker.ts') },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: true,
    // onnxruntime-web without its wasm glue inlined: the glue (.mjs) and the .wasm are loaded from
    // ort/ beside the bundle, so its threads start from that file and not from this app's worker.
    conditions: ['onnxruntime-web-use-extern-wasm'],
    legalComments: 'linked',
    logLevel: 'warning',
  });
  for (const f of await readdir(ortDist)) {
    if (ORT_FILES.test(f)) await cp(join(ortDist, f), join(out, 'ort', f));
  }
  await cp(join(app, 'index.html'), join(out, 'index.html'));
  await cp(join(app, 'style.css'), join(out, 'style.css'));
  const demos: string[] = [];
  const demoDir = join(repoRoot, 'demo', 'models');
  for (const name of (await readdir(demoDir, { withFileTypes: true })).filter((d) => d.isDirectory())) {
    const files = await readdir(join(demoDir, name.name));
    if (!files.includes('model.onnx')) continue;
    await mkdir(join(out, 'models', name.name), { recursive: true });
    for (const f of files.filter((x) => !DEMO_SKIP.has(x))) {
      await cp(join(demoDir, name.name, f), join(out, 'models', name.name, f));
    }
    demos.push(name.name);
  }
  await writeFile(join(out, 'models', 'index.json'), `${JSON.stringify(demos.sort())}\n`);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const minify = !process.argv.includes('--no-minify');
  const dir = await buildApp(minify);
  process.stdout.write(`app built in ${dir}\n`);
}
