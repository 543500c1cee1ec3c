// gradsight eval end to end: on a folder per class of the demo's shapes with the demo model (no
// ../shared needed): the files, accuracy against the model's own predictions, resume, shards merged
// by `eval merge` into the unsharded results.json; typed errors for bad flags; and on the shared VOC
// samples with MobileNetV2 and the shipped VOC → ImageNet class map when ../shared is present.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadExplainer } from '../../src/explain/load-node.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { imageToTensor } from '../../src/image/preprocess.ts';
import { demoFolders, SHAPES_MODEL } from '../eval/demo-data.ts';
import { runCli } from '../helpers/cli.ts';
import { sharedDir, skipNoShared } from '../helpers/shared.ts';

const N = 8;
let data: string;
let out: string;

before(async () => {
  data = await demoFolders(N);
  out = await mkdtemp(join(tmpdir(), 'gradsight-eval-cli-'));
});

after(async () => {
  await rm(data, { recursive: true, force: true });
  await rm(out, { recursive: true, force: true });
});

interface Results {
  images: { evaluated: number; failed: number };
  metrics: { id: string; values: { key: string; byMethod: Record<string, { n: number; mean: number }> }[] }[];
  files: string[];
  run?: unknown;
}

const read = async (dir: string) => JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as Results;
const value = (r: Results, key: string, method = 'model') =>
  r.metrics.flatMap((m) => m.values).find((v) => v.key === key)?.byMethod[method];

test('eval on a folder per class: files, accuracy as the model predicts, a rerun resumes', async () => {
  const dir = join(out, 'a');
  const args = [
    'eval',
    SHAPES_MODEL,
    data,
    '-m',
    'gradcam,cam',
    '--metrics',
    'accuracy,confidence',
    '-o',
    dir,
  ];
  const r = await runCli(args);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`${N} images evaluated, 0 resumed, 0 failed`));
  assert.deepEqual((await readdir(dir)).sort(), [
    'per-image.jsonl',
    'report.html',
    'results.csv',
    'results.json',
  ]);
  const results = await read(dir);
  assert.deepEqual(results.files, ['per-image.jsonl', 'results.csv', 'report.html']);
  // Top-1 accuracy recomputed: the model's argmax against the folder's class.
  const ex = await loadExplainer(SHAPES_MODEL);
  let right = 0;
  try {
    for (const cls of await readdir(data)) {
      for (const f of await readdir(join(data, cls))) {
        const x = imageToTensor(await decodeImageFile(join(data, cls, f)), ex.model.preprocess);
        const top = (await ex.model.predict(x, 1))[0]!.top[0]!;
        if (ex.model.labels![top.index] === cls) right++;
      }
    }
  } finally {
    await ex.release();
  }
  assert.equal(value(results, 'accuracy.top1')!.n, N);
  assert.ok(Math.abs(value(results, 'accuracy.top1')!.mean - right / N) < 1e-12);
  const drop = value(results, 'confidence.drop', 'gradcam')!;
  assert.ok(drop.n === N && drop.mean >= 0 && drop.mean <= 1);
  const csv = await readFile(join(dir, 'results.csv'), 'utf8');
  assert.match(csv, /^metric,value,method,n,mean,std,ci_low,ci_high\n/);
  assert.match(csv, new RegExp(`accuracy,accuracy.top1,model,${N},${right / N},`));
  const html = await readFile(join(dir, 'report.html'), 'utf8');
  assert.match(html, /Content-Security-Policy/);
  assert.match(html, /Average Drop/);
  const again = await runCli(args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`0 images evaluated, ${N} resumed`));
  const resumed = await read(dir);
  assert.deepEqual(resumed.metrics, results.metrics);
});

test('eval --shard 1/2 and 2/2, then eval merge: the results of one unsharded run', async () => {
  const base = ['eval', SHAPES_MODEL, data, '-m', 'gradcam', '--metrics', 'accuracy,confidence', '-q'];
  const whole = join(out, 'whole');
  assert.equal((await runCli([...base, '-o', whole])).code, 0);
  for (const k of [1, 2]) {
    const r = await runCli([...base, '--shard', `${k}/2`, '-o', join(out, `s${k}`)]);
    assert.equal(r.code, 0, r.stderr);
  }
  const merged = join(out, 'merged');
  const m = await runCli(['eval', 'merge', merged, join(out, 's2'), join(out, 's1')]);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, new RegExp(`${N} images from 2 shards`));
  const strip = ({ run: _run, ...rest }: Results) => rest;
  assert.deepEqual(strip(await read(merged)), strip(await read(whole)));
  assert.equal(
    await readFile(join(merged, 'per-image.jsonl'), 'utf8'),
    await readFile(join(whole, 'per-image.jsonl'), 'utf8'),
  );
});

test('bad flags are typed errors with a hint', async () => {
  const cases: [string[], RegExp][] = [
    [['--shard', '3/2'], /--shard expects i\/n with 1 ≤ i ≤ n/],
    [['--shard', 'x'], /--shard expects/],
    [['--metrics', 'accuracy,nope'], /unknown metric "nope"/],
    [['-m', 'gradcam,nope'], /unknown method "nope"/],
    [['--metrics', 'bias'], /the bias metric needs a region/],
    [['--metrics', 'bias', '--bias-region', '0.9,0.9,0.1,1'], /--bias-region expects/],
    [['--ci', 'wilson'], /--ci must be one of bootstrap, normal/],
  ];
  for (const [flags, message] of cases) {
    const r = await runCli(['eval', SHAPES_MODEL, data, '-o', join(out, 'bad'), ...flags]);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /error\[bad-argument\]/);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /hint:/);
  }
  // Resuming into a folder of another configuration.
  const dir = join(out, 'config');
  const first = await runCli([
    'eval',
    SHAPES_MODEL,
    data,
    '--metrics',
    'accuracy',
    '--limit',
    '2',
    '-o',
    dir,
  ]);
  assert.equal(first.code, 0, first.stderr);
  const r = await runCli([
    'eval',
    SHAPES_MODEL,
    data,
    '-m',
    'hirescam',
    '--metrics',
    'accuracy',
    '--limit',
    '2',
    '-o',
    dir,
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /holds another run's records/);
  const missing = await runCli(['eval', SHAPES_MODEL, join(out, 'no-such-dataset'), '-o', join(out, 'bad')]);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /error\[file-not-found\]: the dataset/);
});

describe('eval on the shared VOC samples with MobileNetV2', { skip: skipNoShared }, () => {
  const METRICS = ['accuracy', 'localization', 'pointing', 'seeds', 'confidence'];
  test('every image evaluated: localization, pointing, seeds and confidence per method', async () => {
    const dir = join(out, 'voc');
    const r = await runCli(
      [
        'eval',
        join(sharedDir, 'models', 'mobilenet_v2_1.0_224_quant'),
        join(sharedDir, 'data', 'voc-samples'),
        '--class-map',
        'voc-imagenet',
        '-m',
        'gradcam,gradcam++',
        '--metrics',
        METRICS.join(','),
        '-o',
        dir,
      ],
      { timeoutMs: 300_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const results = await read(dir);
    assert.equal(results.images.evaluated, 14);
    assert.equal(results.images.failed, 0);
    assert.deepEqual(
      results.metrics.map((m) => m.id),
      METRICS,
    );
    for (const method of ['gradcam', 'gradcam++']) {
      assert.equal(value(results, 'pointing.hit', method)!.n, 14);
      const seeds = value(results, 'seeds.iou', method)!;
      assert.ok(seeds.n === 14 && seeds.mean > 0 && seeds.mean < 1);
    }
  });
});
