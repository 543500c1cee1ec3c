// Eval benchmark: `gradsight eval` as a user runs it, each run in its own child process (which reports
// its time since process start and its peak RSS):
//  (a) throughput: the shared MobileNetV2 on the 14 VOC samples (513×513 photos, the shipped VOC →
//      ImageNet class map), Grad-CAM with localization alone, and with localization + deletion (RISE:
//      225 perturbed copies per image at 224×224, scored in batches): images per second;
//  (b) memory: the shared binary-mnist CNN on its test digits, Grad-CAM with accuracy + deletion, over
//      200 and over all 2,115 images: peak RSS should not grow with the number of images (records are
//      appended per image; the aggregation keeps numbers only).
//
//   node --import tsx bench/eval.ts [a|b] [--threads N]

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const shared = join(root, '..', 'shared');
const MARK = 'GRADSIGHT_BENCH ';

interface ChildReport {
  readonly ms: number;
  readonly maxRssMiB: number;
  readonly code: number;
}

async function child(args: string[]): Promise<void> {
  const { main } = await import('../src/cli/main.ts');
  const code = await main(['node', 'gradsight', ...args]);
  const r = { ms: performance.now(), maxRssMiB: process.resourceUsage().maxRSS / 1024, code };
  process.stderr.write(`\n${MARK}${JSON.stringify(r)}\n`);
}

function run(args: string[]): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', ...args],
      {
        cwd: root,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('error', reject);
    p.on('close', () => {
      const line = err.split('\n').find((l) => l.startsWith(MARK));
      if (!line) return reject(new Error(`no report from the child:\n${err.slice(-2000)}`));
      const r = JSON.parse(line.slice(MARK.length)) as ChildReport;
      if (r.code !== 0) return reject(new Error(`eval exited ${r.code}:\n${err.slice(-2000)}`));
      resolve(r);
    });
  });
}

const threadArgs = (t: number | undefined) => (t ? ['--threads', String(t)] : []);

async function throughput(threads: number | undefined): Promise<void> {
  const model = join(shared, 'models', 'mobilenet_v2_1.0_224_quant');
  const data = join(shared, 'data', 'voc-samples');
  console.log('(a) eval throughput: MobileNetV2, 14 VOC samples, Grad-CAM');
  for (const metrics of ['localization', 'localization,deletion']) {
    const out = await mkdtemp(join(tmpdir(), 'gradsight-bench-eval-'));
    try {
      // A first, one-image run: the process's fixed cost (module loading, model load, sessions).
      const fixed = await run([
        'eval',
        model,
        data,
        '--class-map',
        'voc-imagenet',
        '--metrics',
        metrics,
        '--limit',
        '1',
        '--gallery',
        '0',
        '-q',
        '-o',
        join(out, 'one'),
        ...threadArgs(threads),
      ]);
      const r = await run([
        'eval',
        model,
        data,
        '--class-map',
        'voc-imagenet',
        '--metrics',
        metrics,
        '--gallery',
        '0',
        '-q',
        '-o',
        join(out, 'all'),
        ...threadArgs(threads),
      ]);
      const perImage = (r.ms - fixed.ms) / 13;
      console.log(
        `  ${metrics.padEnd(22)} 14 images ${(r.ms / 1000).toFixed(1)} s (1 image: ${(fixed.ms / 1000).toFixed(1)} s) → ${(1000 / perImage).toFixed(2)} images/s past the fixed cost, peak RSS ${r.maxRssMiB.toFixed(0)} MiB`,
      );
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }
}

async function memory(threads: number | undefined): Promise<void> {
  const model = join(shared, 'models', 'binary-mnist');
  const data = join(shared, 'data', 'binary-mnist', 'test');
  const flags = ['--channels', '1', '--scale', '0-255', '--mean', '0', '--std', '1'];
  console.log('(b) eval memory: binary-mnist, Grad-CAM, accuracy + deletion');
  const rss: number[] = [];
  for (const limit of [200, 2115]) {
    const out = await mkdtemp(join(tmpdir(), 'gradsight-bench-eval-'));
    try {
      const r = await run([
        'eval',
        model,
        data,
        ...flags,
        '--metrics',
        'accuracy,deletion',
        '--limit',
        String(limit),
        '--gallery',
        '0',
        '-q',
        '-o',
        out,
        ...threadArgs(threads),
      ]);
      rss.push(r.maxRssMiB);
      console.log(
        `  ${String(limit).padStart(5)} images: ${(r.ms / 1000).toFixed(1)} s (${((1000 * limit) / r.ms).toFixed(1)} images/s), peak RSS ${r.maxRssMiB.toFixed(0)} MiB`,
      );
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }
  console.log(`  2,115 vs 200 images: ${(rss[1]! / rss[0]!).toFixed(2)}× peak RSS`);
}

if (process.argv[2] === '--child') {
  await child(process.argv.slice(3));
} else {
  if (!existsSync(join(shared, 'models'))) {
    console.error(`../shared not found at ${shared}: the eval bench needs its models and data`);
    process.exit(1);
  }
  const which = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'ab';
  const t = process.argv.indexOf('--threads');
  const threads = t > 0 ? Number(process.argv[t + 1]) : undefined;
  if (which.includes('a')) await throughput(threads);
  if (which.includes('b')) await memory(threads);
}
