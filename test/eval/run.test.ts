// evaluate() on a tiny manifest of the demo's synthetic shapes with the real demo model: per-image
// values against the same quantities computed directly (the model's top-1, Grad-CAM's paper box and
// its IoU, the map's maximum in the box); resume explains only the missing images and gives the same
// results; three shards merged give the unsharded results; a broken image is recorded and the run goes on.

import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLASSES, SPLITS, splitSample } from '../../src/demo/dataset.ts';
import { isGradsightError } from '../../src/errors.ts';
import { openDataset } from '../../src/eval/datasets/index.ts';
import { type Box, iou, localize } from '../../src/eval/localization.ts';
import { type ImageRecord, mergeRecords, readRecords } from '../../src/eval/records-node.ts';
import { aggregateFile, evaluate } from '../../src/eval/run.ts';
import type { Explainer } from '../../src/explain/explainer.ts';
import { loadExplainer } from '../../src/explain/load-node.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { imageToTensor } from '../../src/image/preprocess.ts';
import { resizeBilinearFloat } from '../../src/image/upsample.ts';
import { writePng } from '../../src/render/png-node.ts';
import { demoManifest, SHAPES_MODEL } from './demo-data.ts';

const N = 9;
let root: string;
let out: string;
let ex: Explainer;
let calls = 0;

before(async () => {
  root = await demoManifest(N);
  out = await mkdtemp(join(tmpdir(), 'gradsight-eval-out-'));
  ex = await loadExplainer(SHAPES_MODEL);
  const explain = ex.explain.bind(ex);
  ex.explain = (...args: Parameters<Explainer['explain']>) => {
    calls++;
    return explain(...args);
  };
});

after(async () => {
  await ex.release();
  await rm(root, { recursive: true, force: true });
  await rm(out, { recursive: true, force: true });
});

const METRICS = ['accuracy', 'localization', 'pointing'];
const METHODS = ['gradcam', 'cam'] as const;

async function records(path: string): Promise<ImageRecord[]> {
  const list: ImageRecord[] = [];
  await readRecords(path, (r) => list.push(r));
  return list;
}

test('per-image values equal the quantities computed directly', async () => {
  const dataset = await openDataset(join(root, 'manifest.jsonl'));
  const path = join(out, 'direct.jsonl');
  const summary = await evaluate(ex, dataset, { methods: [...METHODS], metrics: METRICS, records: path });
  assert.equal(summary.evaluated, N);
  const recs = await records(path);
  assert.deepEqual(
    recs.map((r) => r.index),
    [...Array(N).keys()],
  );
  for (const [i, sample] of [...dataset.samples()].entries()) {
    const r = recs[i]!;
    const image = await decodeImageFile(sample.image);
    const pred = (await ex.model.predict(imageToTensor(image, ex.model.preprocess), 4))[0]!;
    const labels = ex.model.labels!;
    assert.equal(r.model!['accuracy.top1'], sample.labels.includes(labels[pred.top[0]!.index]!) ? 1 : 0);
    // Grad-CAM of the first class present, at the image size: the paper's box, its IoU, the pointing game.
    const cls = labels.indexOf(sample.labels[0]!);
    const e = (await ex.explain(image, { method: 'gradcam', target: cls })).explanations[0]!;
    const map = resizeBilinearFloat(
      { width: e.width, height: e.height, data: e.map! },
      image.width,
      image.height,
    ).data;
    const truth = sample.boxes.filter((b) => b.label === sample.labels[0]).map((b) => b.box);
    const box = localize(map, image.width, image.height).box;
    const best = Math.max(0, ...truth.map((t: Box) => (box ? iou(box, t) : 0)));
    assert.ok(Math.abs(r.methods!.gradcam!.values['localization.iou']! - best) < 1e-12, `${sample.id}`);
    if (pred.top[0]!.index === cls)
      assert.equal(r.methods!.gradcam!.values['localization.top1'], best >= 0.5 ? 0 : 1);
    if (sample.labels.length === 1) {
      let argmax = 0;
      for (let p = 1; p < map.length; p++) if (map[p]! > map[argmax]!) argmax = p;
      const x = argmax % image.width;
      const y = Math.floor(argmax / image.width);
      // Inside the box is a hit (15 px tolerance: a point within 15 px of it too).
      const b = truth[0]!;
      const dx = Math.max(b.x0 - x, 0, x - b.x1);
      const dy = Math.max(b.y0 - y, 0, y - b.y1);
      assert.equal(r.methods!.gradcam!.values['pointing.hit'], Math.hypot(dx, dy) <= 15 ? 1 : 0, sample.id);
    }
  }
});

test('resume explains only the images the records lack, and gives the same results', async () => {
  const dataset = await openDataset(join(root, 'manifest.jsonl'));
  const whole = join(out, 'whole.jsonl');
  calls = 0;
  await evaluate(ex, dataset, { methods: [...METHODS], metrics: METRICS, records: whole });
  assert.equal(calls, N); // one explain() call per image (both methods, every class in one call)
  const path = join(out, 'resumed.jsonl');
  await evaluate(ex, dataset, { methods: [...METHODS], metrics: METRICS, records: path, limit: 4 });
  calls = 0;
  const again = await evaluate(ex, dataset, { methods: [...METHODS], metrics: METRICS, records: path });
  assert.equal(again.resumed, 4);
  assert.equal(again.evaluated, N - 4);
  assert.equal(calls, N - 4);
  assert.deepEqual(await aggregateFile(path), await aggregateFile(whole));
  // A rerun of a finished run explains nothing.
  calls = 0;
  await evaluate(ex, dataset, { methods: [...METHODS], metrics: METRICS, records: path });
  assert.equal(calls, 0);
  // Another dataset of the same name and size (other sample ids) is refused rather than mixed in.
  const other = await mkdtemp(join(tmpdir(), 'gradsight-eval-other-'));
  try {
    const lines = (await readFile(join(root, 'manifest.jsonl'), 'utf8')).trim().split('\n');
    const renamed = lines.map((l, i) =>
      JSON.stringify({ ...JSON.parse(l), id: `other-${i}`, image: join(root, JSON.parse(l).image) }),
    );
    await writeFile(join(other, 'manifest.jsonl'), `${renamed.join('\n')}\n`);
    const otherSet = await openDataset(join(other, 'manifest.jsonl'));
    assert.equal(otherSet.name, dataset.name);
    assert.equal(otherSet.size, dataset.size);
    await assert.rejects(
      evaluate(ex, otherSet, { methods: [...METHODS], metrics: METRICS, records: path }),
      (e) => isGradsightError(e, 'bad-argument'),
    );
  } finally {
    await rm(other, { recursive: true, force: true });
  }
  // Another configuration is refused rather than mixed in.
  await assert.rejects(
    evaluate(ex, dataset, { methods: ['gradcam'], metrics: METRICS, records: path }),
    (e) => isGradsightError(e, 'bad-argument'),
  );
});

test('three shards partition the samples and merge into the unsharded results', async () => {
  const dataset = await openDataset(join(root, 'manifest.jsonl'));
  const whole = join(out, 'whole-2.jsonl');
  await evaluate(ex, dataset, { methods: [...METHODS], metrics: METRICS, records: whole });
  const parts: string[] = [];
  const seen: number[] = [];
  for (let k = 1; k <= 3; k++) {
    const path = join(out, `shard-${k}.jsonl`);
    const s = await evaluate(ex, dataset, {
      methods: [...METHODS],
      metrics: METRICS,
      records: path,
      shard: { index: k, count: 3 },
    });
    assert.equal(s.selected, 3);
    seen.push(...(await records(path)).map((r) => r.index));
    parts.push(path);
  }
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    [...Array(N).keys()],
  );
  const merged = join(out, 'merged.jsonl');
  await mergeRecords(parts, merged);
  assert.deepEqual(await aggregateFile(merged), await aggregateFile(whole));
});

test('a broken image is recorded with its error and the others are evaluated', async () => {
  const broken = await demoManifest(3, await mkdtemp(join(tmpdir(), 'gradsight-eval-broken-')));
  try {
    await writeFile(join(broken, 'images', 's001.png'), 'not a png');
    await copyFile(join(broken, 'manifest.jsonl'), join(broken, 'm.jsonl'));
    const dataset = await openDataset(join(broken, 'm.jsonl'));
    const path = join(broken, 'r.jsonl');
    const s = await evaluate(ex, dataset, { methods: ['gradcam'], metrics: ['accuracy'], records: path });
    assert.equal(s.failed, 1);
    assert.equal(s.evaluated, 2);
    const recs = await records(path);
    assert.equal(recs[1]!.error?.code, 'bad-image');
    const results = await aggregateFile(path);
    assert.equal(results.images.failed, 1);
    assert.equal(results.metrics[0]!.values[0]!.byMethod.model!.n, 2);
    // A box outside its image: the reader throws when the sample is reached, and a generator cannot
    // go past it: the run stops with that typed error (never a run silently missing the rest).
    const lines = (await readFile(join(broken, 'manifest.jsonl'), 'utf8')).trim().split('\n');
    const bad = JSON.parse(lines[2]!) as { boxes: { x1: number }[] };
    bad.boxes[0]!.x1 = 500;
    await writeFile(join(broken, 'm2.jsonl'), `${[lines[0], JSON.stringify(bad)].join('\n')}\n`);
    await assert.rejects(
      evaluate(ex, await openDataset(join(broken, 'm2.jsonl')), {
        methods: ['gradcam'],
        metrics: ['accuracy'],
        records: join(broken, 'r2.jsonl'),
      }),
      (e) => isGradsightError(e, 'annotation-invalid') && /m2\.jsonl line 2/.test(e.message),
    );
  } finally {
    await rm(broken, { recursive: true, force: true });
  }
});

test("bias: the demo's watermark-biased model is flagged on its triangles, the clean model is not", async () => {
  // The demo's biased split: a watermark in a corner of every triangle image (src/demo/dataset.ts),
  // annotated as a box of the class `watermark`, which the class map sends to no model class.
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-eval-bias-'));
  try {
    await mkdir(join(dir, 'images'));
    const lines: string[] = [];
    for (let i = 0; i < 24; i++) {
      const s = splitSample(SPLITS.valBiased, i);
      await writePng(join(dir, 'images', `${i}.png`), s.image);
      const boxes: { label: string }[] = s.objects.map((o) => ({ label: CLASSES[o.cls], ...o.box }));
      if (s.cue) boxes.push({ label: 'watermark', ...s.cue.box });
      lines.push(JSON.stringify({ image: `images/${i}.png`, labels: [CLASSES[s.label]], boxes }));
    }
    await writeFile(join(dir, 'manifest.jsonl'), `${lines.join('\n')}\n`);
    const dataset = await openDataset(join(dir, 'manifest.jsonl'));
    const flagged: Record<string, string[]> = {};
    for (const name of ['shapes', 'shapes-biased']) {
      const model = await loadExplainer(join(SHAPES_MODEL, '..', name));
      try {
        const path = join(dir, `${name}.jsonl`);
        await evaluate(model, dataset, {
          metrics: ['bias'],
          biasRegion: { label: 'watermark' },
          classMap: { source: 'test', entries: { watermark: [] } },
          records: path,
        });
        const r = await aggregateFile(path);
        assert.ok(
          !r.bias!.some((b) => b.label === 'watermark'),
          'the region class is not a class of the images',
        );
        const triangle = r.bias!.find((b) => b.label === 'triangle')!;
        // Concentration recomputed from the per-class means of the per-image values.
        const share = r.perClass['bias.share']!.gradcam!.triangle!.mean;
        const area = r.perClass['bias.area']!.gradcam!.triangle!.mean;
        assert.ok(Math.abs(triangle.concentration - share / area) < 1e-12);
        flagged[name] = r.bias!.filter((b) => b.flagged).map((b) => b.label);
      } finally {
        await model.release();
      }
    }
    assert.ok(flagged['shapes-biased']!.includes('triangle'), JSON.stringify(flagged));
    assert.deepEqual(flagged.shapes, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a run stopped between images (an interrupt) keeps its records; the rerun completes them', async () => {
  const dataset = await openDataset(join(root, 'manifest.jsonl'));
  const path = join(out, 'stopped.jsonl');
  let finished = 0;
  const stop = new Error('interrupted');
  await assert.rejects(
    evaluate(ex, dataset, {
      metrics: ['accuracy', 'localization'],
      records: path,
      onImage: () => {
        finished++;
      },
      check: () => {
        if (finished >= 3) throw stop;
      },
    }),
    (e) => e === stop,
  );
  assert.equal((await records(path)).length, 3);
  const again = await evaluate(ex, dataset, { metrics: ['accuracy', 'localization'], records: path });
  assert.equal(again.resumed, 3);
  assert.equal(again.evaluated, N - 3);
  const whole = join(out, 'unstopped.jsonl');
  await evaluate(ex, dataset, { metrics: ['accuracy', 'localization'], records: whole });
  assert.deepEqual(await aggregateFile(path), await aggregateFile(whole));
});
