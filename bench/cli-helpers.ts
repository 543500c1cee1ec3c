// What bench/cli.ts and bench/summary.ts share: building the compiled library that their child
// processes (bench/cli-child.mjs) run, starting one and reading its report, the folders of photos,
// and ResNet-50 (the conformance export) as a model folder.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..');
export const shared = join(root, '..', 'shared');
const MARK = 'GRADSIGHT_BENCH '; // bench/cli-child.mjs prints its report after it

export interface ChildReport {
  /** Milliseconds since the child process started, at the end of its work. */
  readonly ms: number;
  readonly maxRssMiB: number;
  readonly [k: string]: number;
}

/** The children (bench/cli-child.mjs) run the compiled library: build it from the current sources. */
export function buildDist(): void {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('bench: building dist/ (tsc -p tsconfig.build.json) failed');
}

export function run(args: string[]): Promise<ChildReport> {
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, [join(here, 'cli-child.mjs'), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('error', fail);
    p.on('close', () => {
      const line = err.split('\n').find((l) => l.startsWith(MARK));
      if (!line) return fail(new Error(`child failed:\n${err}`));
      ok(JSON.parse(line.slice(MARK.length)) as ChildReport);
    });
  });
}

export const photos = (): string[] => [
  ...readdirSync(join(shared, 'images'))
    .filter((f) => f.endsWith('.png') && !f.includes('mask'))
    .map((f) => join(shared, 'images', f)),
  ...readdirSync(join(shared, 'data', 'voc-samples', 'images')).map((f) =>
    join(shared, 'data', 'voc-samples', 'images', f),
  ),
];

/** `count` images in `dir`: the photos, then copies resized by `scales` in turn (longest side ≥ 32). */
export async function makeFolder(dir: string, count: number, scales: readonly number[], maxSide?: number) {
  await mkdir(dir, { recursive: true });
  const src = photos();
  for (let i = 0; i < count; i++) {
    const file = src[i % src.length]!;
    const round = Math.floor(i / src.length);
    const meta = await sharp(file).metadata();
    const s0 = maxSide ? maxSide / Math.max(meta.width!, meta.height!) : 1;
    const s = s0 * (scales[round % scales.length] ?? 1);
    const width = Math.max(32, Math.round(meta.width! * s));
    await sharp(file)
      .resize({ width })
      .png()
      .toFile(join(dir, `${String(i).padStart(4, '0')}.png`));
  }
}

/** The conformance suite's ResNet-50 export as a model folder in `tmp` (undefined when not exported). */
export async function resnetModelDir(tmp: string): Promise<string | undefined> {
  const onnx = join(root, 'conformance', '.cache', 'resnet50', 'model.onnx');
  if (!existsSync(onnx)) return undefined;
  const modelDir = join(tmp, 'resnet50');
  await mkdir(modelDir, { recursive: true });
  await copyFile(onnx, join(modelDir, 'model.onnx')); // a model folder's files resolve inside it
  await writeFile(join(modelDir, 'preprocess.json'), JSON.stringify({ size: [224, 224] }));
  // The ImageNet labels: the shared MobileNetV2's without its "background".
  const labels = await readFile(join(shared, 'models', 'mobilenet_v2_1.0_224_quant', 'labels.txt'), 'utf8');
  await writeFile(join(modelDir, 'labels.txt'), `${labels.split('\n').slice(1, 1001).join('\n')}\n`);
  return modelDir;
}
