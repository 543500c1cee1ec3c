// Failure analysis on a GAP model whose Grad-CAM is known in closed form: with an identity 1×1 conv,
// A = Relu(x) and ∂y_c/∂A_k = fc[c][k]/(h·w), so Grad-CAM(c) = minmax(Relu(Σ_k fc[c][k]·A_k)) and the
// contrast P-vs-T uses fc[P] − fc[T]. Correctly classified images are left out; of several true
// classes the highest-scoring one is explained.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../../src/demo/prng.ts';
import { GradsightError } from '../../src/errors.ts';
import { explainFailures } from '../../src/eval/metrics/failures.ts';
import { imagesToBatch } from '../../src/image/preprocess.ts';
import { rgbImage } from '../../src/image/rgb-image.ts';
import { assertClose, explainerFor, gapModel, mean, minMax, relu, weighted } from '../helpers/hand-models.ts';

const FC = [
  [1, 2, -1],
  [-1, 0.5, 2],
  [0.5, -1, 1],
];
const LABELS = ['red', 'green', 'blue'];
const SIZE = 4;

test('misclassified images: predicted, true and pred-vs-true Grad-CAM maps equal the closed form', async () => {
  const ex = await explainerFor(gapModel({ fc: FC, size: SIZE }), LABELS);
  try {
    const rng = mulberry32(21);
    const images = Array.from({ length: 5 }, () =>
      rgbImage(
        SIZE,
        SIZE,
        Uint8Array.from({ length: SIZE * SIZE * 3 }, () => rng.int(0, 255)),
      ),
    );
    // The features and logits by hand, from the model input (ImageNet normalisation by default).
    const x = imagesToBatch(images, ex.model.preprocess).data;
    const plane = SIZE * SIZE;
    const features = images.map((_, n) =>
      [0, 1, 2].map((k) => relu([...x.subarray((n * 3 + k) * plane, (n * 3 + k + 1) * plane)])),
    );
    const logits = features.map((a) => FC.map((w) => w.reduce((s, v, k) => s + v * mean(a[k]!), 0)));
    const predicted = logits.map((l) => l.indexOf(Math.max(...l)));
    // Images 0–2 wrong (image 2 has two true classes), 3 right, 4 right as one of two.
    const others = (p: number) => [0, 1, 2].filter((c) => c !== p);
    const truth = [
      others(predicted[0]!)[0]!,
      others(predicted[1]!)[1]!,
      others(predicted[2]!),
      predicted[3]!,
      [predicted[4]!, others(predicted[4]!)[0]!],
    ];
    const cases = await explainFailures(ex, images, truth, { methods: ['gradcam'] });
    assert.deepEqual(
      cases.map((c) => c.image),
      [0, 1, 2],
    );
    for (const c of cases) {
      const l = logits[c.image]!;
      const t = [truth[c.image]!].flat();
      const want = t.reduce((b, k) => (l[k]! > l[b]! ? k : b), t[0]!);
      assert.equal(c.predicted, predicted[c.image]);
      assert.equal(c.trueClass, want);
      assert.equal(c.predictedLabel, LABELS[c.predicted]);
      const z = Math.max(...l);
      const p = l.map((v) => Math.exp(v - z) / l.reduce((s, u) => s + Math.exp(u - z), 0));
      assert.ok(Math.abs(c.trueProbability - p[want]!) < 1e-6);
      assert.deepEqual(
        c.panels.map((q) => [q.role, q.target]),
        [
          ['predicted', String(c.predicted)],
          ['true', String(want)],
          ['contrast', `${c.predicted}-vs-${want}`],
        ],
      );
      const weights = [FC[c.predicted]!, FC[want]!, FC[c.predicted]!.map((v, k) => v - FC[want]![k]!)];
      c.panels.forEach((q, i) => {
        const cam = minMax(relu(weighted(features[c.image]!, weights[i]!)));
        assertClose(q.explanation.map!, cam, 1e-5, `image ${c.image} ${q.role}`);
      });
      // The contrast's score is y_P − y_T.
      assert.ok(Math.abs(c.panels[2]!.score - (l[c.predicted]! - l[want]!)) < 1e-5);
    }
  } finally {
    await ex.release();
  }
});

test('true classes outside the model or a count mismatch are typed errors', async () => {
  const ex = await explainerFor(gapModel({ fc: FC, size: SIZE }), LABELS);
  const im = rgbImage(SIZE, SIZE, new Uint8Array(SIZE * SIZE * 3).fill(100));
  const bad = (e: unknown) => e instanceof GradsightError && e.code === 'bad-argument';
  try {
    await assert.rejects(explainFailures(ex, [im], [7]), bad);
    await assert.rejects(explainFailures(ex, [im], [[]]), bad);
    await assert.rejects(explainFailures(ex, [im, im], [0]), bad);
  } finally {
    await ex.release();
  }
});
