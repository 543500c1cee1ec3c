// The explain pipeline (decode and preprocess on the image worker, explain on the main thread,
// render on the worker) with a stand-in explainer whose maps are made by hand: explain() gets exactly
// the library's preprocessing of the decoded files, batch by batch; records come back in input order
// with a broken file among good ones in different batches; each image's files and box match its
// hand-made map; the report cards are numbered by input position; a failing explain() rejects the
// run (no hang, no orphan worker).

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { batchSizes, type PipelineImage, runExplainPipeline } from '../../src/cli/explain-pipeline.ts';
import { ImageWorker } from '../../src/cli/image-worker-client.ts';
import { GradsightError } from '../../src/errors.ts';
import type { Explainer, ExplainResult, Explanation } from '../../src/explain/explainer.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { imagesToBatch, type PreprocessConfig } from '../../src/image/preprocess.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';

const preprocess: PreprocessConfig = {
  layout: 'NCHW',
  channels: 3,
  size: [16, 16],
  mean: [0, 0, 0],
  std: [1, 1, 1],
  scale: '0-255',
  channelOrder: 'RGB',
  labelOffset: 0,
};

let dir = '';
const files: string[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-pipeline-'));
  // Five photos of different sizes and colours, and a broken file third (batch 1 of 3 at --batch 2).
  for (let i = 0; i < 6; i++) {
    const file = join(dir, `img${i}.png`);
    if (i === 2) await writeFile(file, 'not an image');
    else {
      const [width, height] = [20 + 8 * i, 12 + 4 * i];
      const data = Buffer.alloc(width * height * 3);
      for (let p = 0; p < data.length; p++) data[p] = (p * (i + 3)) % 251;
      await sharp(data, { raw: { width, height, channels: 3 } })
        .png()
        .toFile(file);
    }
    files.push(file);
  }
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * A stand-in explainer: image n's map is one hot pixel at (n + 2, 3), keyed by its first input value.
 * prepare() is recorded in `calls` as a dims-only entry (no data) and fails as explain() does.
 */
function handExplainer(calls: (Float32Tensor | readonly number[])[], fail = false): Explainer {
  return {
    prepare: async (dims: readonly number[]) => {
      calls.push(dims);
      if (fail) throw new GradsightError('layer-not-found', 'no such layer', { hint: 'pick one' });
    },
    explain: async (input: Float32Tensor): Promise<ExplainResult> => {
      if (fail) throw new GradsightError('layer-not-found', 'no such layer', { hint: 'pick one' });
      calls.push(input);
      const n = input.dims[0]!;
      const explanations: Explanation[] = Array.from({ length: n }, (_, i) => {
        const map = new Float32Array(16 * 16);
        map[3 * 16 + (i + 2)] = 1;
        return {
          image: i,
          target: {
            index: 1,
            label: 'one',
            description: 'one (1)',
            kind: 'class',
            counterfactual: false,
            score: 1,
            probability: 0.5,
            tensor: 'logits',
          },
          method: 'gradcam',
          layers: ['conv'],
          width: 16,
          height: 16,
          map,
        };
      });
      const predictions = Array.from({ length: n }, () => ({
        kind: 'classification' as const,
        top: [{ index: 1, label: 'one', score: 0.5 }],
      }));
      return {
        predictions,
        layers: [],
        reads: 'logits',
        explanations,
        seconds: 0,
      } as unknown as ExplainResult;
    },
  } as unknown as Explainer;
}

const options = (explainer: Explainer, out: string, images: PipelineImage[]) => ({
  worker: ImageWorker.start(),
  explainer,
  preprocess,
  explain: { method: 'gradcam' as const },
  batch: 2,
  sendImages: false,
  out,
  colormap: 'jet' as const,
  alpha: 0.5,
  overlaySize: 'original' as const,
  saveRaw: false,
  onResult: () => {},
  onImage: async (img: PipelineImage) => {
    images.push(img);
  },
});

test('explain() gets the library preprocessing per batch; records in input order, the broken file in place', async () => {
  const all: (Float32Tensor | readonly number[])[] = [];
  const images: PipelineImage[] = [];
  const out = join(dir, 'out');
  await runExplainPipeline({ files }, options(handExplainer(all), out, images));
  // The gradient model is prepared once, for the first batch's dims, before the first explain().
  assert.deepEqual(all[0], [2, 3, 16, 16]);
  const calls = all.slice(1) as Float32Tensor[];
  // Batches [0, 1], [2 broken, 3] → [3] alone, then the last two halved: [4], [5].
  assert.deepEqual(
    calls.map((c) => c.dims),
    [
      [2, 3, 16, 16],
      [1, 3, 16, 16],
      [1, 3, 16, 16],
      [1, 3, 16, 16],
    ],
  );
  const decoded = await Promise.all(files.filter((_, i) => i !== 2).map((f) => decodeImageFile(f)));
  const expected = imagesToBatch(decoded, preprocess).data;
  const got = new Float32Array(expected.length);
  let offset = 0;
  for (const c of calls) {
    got.set(c.data, offset);
    offset += c.data.length;
  }
  assert.deepEqual(got, expected);

  assert.deepEqual(
    images.map((i) => [i.file, i.index]),
    files.map((f, i) => [f, i]),
  );
  const broken = images[2]!;
  assert.ok(broken.error instanceof GradsightError);
  assert.equal(broken.error.code, 'bad-image');
  for (const [k, img] of images.entries()) {
    if (k === 2) continue;
    assert.ok(!img.error);
    // The card's anchor is the image's input position.
    assert.match(img.card, new RegExp(`id="image-${k + 1}"`));
    const json = img.json as {
      size: { width: number; height: number };
      explanations: { boxModel: unknown; files: { image: string; heatmap: string } }[];
    };
    assert.deepEqual(json.size, { width: 20 + 8 * k, height: 12 + 4 * k });
    // Image k sits at row i of its batch: its hot pixel is at (i + 2, 3).
    const i = k < 2 ? k : 0;
    assert.deepEqual(json.explanations[0]!.boxModel, { x0: i + 2, y0: 3, x1: i + 2, y1: 3 });
    const png = await decodeImageFile(join(out, json.explanations[0]!.files.image));
    assert.deepEqual([png.width, png.height], [json.size.width, json.size.height]);
  }
});

test('batch sizes: full batches, then the last batch halving to single images', () => {
  assert.deepEqual(batchSizes(56, 8), [8, 8, 8, 8, 8, 8, 4, 2, 1, 1]);
  assert.deepEqual(batchSizes(5, 8), [3, 1, 1]);
  assert.deepEqual(batchSizes(9, 8), [8, 1]);
  assert.deepEqual(batchSizes(1, 8), [1]);
  assert.deepEqual(batchSizes(0, 8), []);
  assert.deepEqual(batchSizes(3, 1), [1, 1, 1]);
  for (const [n, b] of [
    [100, 8],
    [17, 4],
    [7, 7],
  ] as const) {
    const sizes = batchSizes(n, b);
    assert.equal(
      sizes.reduce((a, c) => a + c, 0),
      n,
    );
    assert.ok(sizes.every((x) => x >= 1 && x <= b));
  }
});

test('a failing explain() rejects the run with its typed error', async () => {
  await assert.rejects(
    runExplainPipeline({ files }, options(handExplainer([], true), join(dir, 'fail'), [])),
    (e: unknown) => e instanceof GradsightError && e.code === 'layer-not-found',
  );
});
