// FGSM and PGD in pixel space. On linear models the gradients are known by hand: ∂y_k/∂p = W[k]
// chained through the preprocessing (÷ 255·std, the band a BGR channel reads, NCHW or NHWC), so the
// FGSM image is exactly clean ± ε·sign(w) and PGD's projection ends on the same corner of the ball.
// Then PGD on the shared MobileNetV2 and photos at ε = 2/255 and 8/255 with the true class's
// Grad-CAM on the clean and adversarial images (numbers printed for the README).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { mulberry32 } from '../../src/demo/prng.ts';
import { GradsightError } from '../../src/errors.ts';
import {
  adversarialLocalization,
  attack,
  PixelGradients,
  type PixelImage,
  pixelImage,
  pixelsToInput,
  successRate,
  toRgbImage,
} from '../../src/eval/metrics/adversarial.ts';
import { writeAdversarialPng } from '../../src/eval/metrics/adversarial-node.ts';
import { loadExplainer } from '../../src/explain/load-node.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { imagesToBatch } from '../../src/image/preprocess.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { imagePath, modelPath, skipNoShared } from '../helpers/shared.ts';
import { seededValues } from '../helpers/tiny-models.ts';

const S = 4; // 4×4 pixels, 3 channels
const N = S * S * 3;
const W = seededValues(2 * N, 31);
const MEAN = [0.4, 0.5, 0.6];
const STD = [0.2, 0.25, 0.5];

/** y = W·flatten(x) + b, 2 classes, on a BGR model input in `layout`. */
async function linearModel(layout: 'NCHW' | 'NHWC'): Promise<ImageModel> {
  const shape = layout === 'NCHW' ? ['batch', 3, S, S] : ['batch', S, S, 3];
  const bytes = buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape }],
    outputs: [{ name: 'logits', shape: ['batch', 2] }],
    initializers: [
      { name: 'w', dims: [2, N], values: W },
      { name: 'b', dims: [2], values: [0.3, -0.3] },
    ],
    nodes: [
      { op: 'Flatten', inputs: ['input'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'w', 'b'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  });
  return ImageModel.create(
    nodeRuntime,
    { bytes, model: decodeModel(bytes) },
    { preprocess: { layout, mean: MEAN, std: STD, scale: '0-1', channelOrder: 'BGR' } },
  );
}

/** ∂y_k/∂p at pixel i, band b (RGB order) by hand: the BGR model channel 2 − b reads band b. */
function dydp(layout: 'NCHW' | 'NHWC', k: number, i: number, b: number): number {
  const c = 2 - b;
  const flat = layout === 'NCHW' ? c * S * S + i : i * 3 + c;
  return W[k * N + flat]! / (255 * STD[b]!);
}

function cleanImage(seed: number, lo = 20, hi = 235): PixelImage {
  const rng = mulberry32(seed);
  return { width: S, height: S, channels: 3, data: Float32Array.from({ length: N }, () => rng.int(lo, hi)) };
}

for (const layout of ['NCHW', 'NHWC'] as const) {
  describe(`linear ${layout} BGR model with mean/std`, () => {
    test('pixel input equals the preprocessing of the 8-bit image, bit for bit', async () => {
      const model = await linearModel(layout);
      const im = cleanImage(1);
      assert.deepEqual(
        [...pixelsToInput([im], model.preprocess).data],
        [...imagesToBatch([toRgbImage(im)], model.preprocess).data],
      );
      await model.release();
    });

    test('pixel gradients: ∂(−y_c)/∂p = −W[c]/(255·std) in the band the channel reads', async () => {
      const model = await linearModel(layout);
      const g = await PixelGradients.create(model, 'logit');
      try {
        const { gradients } = await g.at([cleanImage(2), cleanImage(3)], [0, 1]);
        for (const [img, c] of [
          [0, 0],
          [1, 1],
        ] as const) {
          for (let i = 0; i < S * S; i++) {
            for (let b = 0; b < 3; b++) {
              const want = -dydp(layout, c, i, b);
              const got = gradients[img]![i * 3 + b]!;
              assert.ok(
                Math.abs(got - want) <= 1e-6 * Math.abs(want) + 1e-9,
                `pixel ${i} band ${b}: ${got} vs ${want}`,
              );
            }
          }
        }
      } finally {
        await g.release();
        await model.release();
      }
    });

    test('FGSM is exactly clean − ε·sign(w_c) (logit loss) and clean + ε·sign(w_o − w_c) (cross-entropy)', async () => {
      const model = await linearModel(layout);
      const im = cleanImage(4);
      for (const loss of ['logit', 'cross-entropy'] as const) {
        const g = await PixelGradients.create(model, loss);
        try {
          const [r] = await attack(g, [im], [0], { kind: 'fgsm', epsilon: 8, loss });
          for (let i = 0; i < S * S; i++) {
            for (let b = 0; b < 3; b++) {
              const d =
                loss === 'logit' ? -dydp(layout, 0, i, b) : dydp(layout, 1, i, b) - dydp(layout, 0, i, b);
              const want = im.data[i * 3 + b]! + 8 * Math.sign(d);
              assert.equal(r!.adversarial.data[i * 3 + b], want, `${loss} pixel ${i} band ${b}`);
            }
          }
          assert.equal(r!.linf, 8);
        } finally {
          await g.release();
        }
      }
      await model.release();
    });
  });
}

describe('projection, clipping, rounding, random start', () => {
  test('PGD on a linear model ends at the FGSM corner of the ball; pixels stay within [0, 255]', async () => {
    const model = await linearModel('NCHW');
    const g = await PixelGradients.create(model, 'logit');
    try {
      // Pixels at the ends of the range: clipping must hold them in [0, 255].
      const edge = cleanImage(5, 0, 255);
      edge.data.forEach((_, j) => {
        if (j % 4 === 0) edge.data[j] = j % 8 === 0 ? 0 : 255;
      });
      const [fgsm] = await attack(g, [edge], [0], { kind: 'fgsm', epsilon: 6, loss: 'logit' });
      const [pgd] = await attack(g, [edge], [0], {
        kind: 'pgd',
        epsilon: 6,
        stepSize: 1.5,
        steps: 7,
        loss: 'logit',
      });
      assert.deepEqual([...pgd!.adversarial.data], [...fgsm!.adversarial.data]);
      for (let j = 0; j < N; j++) {
        const want = Math.min(
          255,
          Math.max(0, edge.data[j]! + 6 * Math.sign(-dydp('NCHW', 0, Math.floor(j / 3), j % 3))),
        );
        assert.equal(pgd!.adversarial.data[j], want, `pixel ${j}`);
      }
      // Random start: the same seed gives the same image; every iterate stays in the ball.
      const opts = { kind: 'pgd', epsilon: 6, steps: 2, randomStart: true, seed: 3, round: false } as const;
      const [a] = await attack(g, [edge], [0], opts);
      const [b] = await attack(g, [edge], [0], opts);
      const [c] = await attack(g, [edge], [0], { ...opts, seed: 4 });
      assert.deepEqual([...a!.adversarial.data], [...b!.adversarial.data]);
      assert.notDeepEqual([...a!.adversarial.data], [...c!.adversarial.data]);
      assert.ok(a!.linf <= 6 + 1e-9 && a!.adversarial.data.every((v) => v >= 0 && v <= 255));
    } finally {
      await g.release();
      await model.release();
    }
  });

  test('a perturbation under half a pixel step is undone by 8-bit rounding (and is then no success)', async () => {
    const model = await linearModel('NCHW');
    const g = await PixelGradients.create(model);
    try {
      const im = cleanImage(6);
      const [rounded] = await attack(g, [im], [0], { kind: 'fgsm', epsilon: 0.4 });
      assert.deepEqual([...rounded!.adversarial.data], [...im.data]);
      assert.equal(rounded!.linf, 0);
      const [exact] = await attack(g, [im], [0], { kind: 'fgsm', epsilon: 0.4, round: false });
      // Float32 pixels: 100.4 is held to within 4e-6.
      assert.ok(Math.abs(exact!.linf - 0.4) < 1e-5, String(exact!.linf));
    } finally {
      await g.release();
      await model.release();
    }
  });

  test('several true classes: the highest-scoring one is attacked, success means none of them', async () => {
    const model = await linearModel('NCHW');
    const g = await PixelGradients.create(model, 'logit');
    try {
      const im = cleanImage(8);
      const x = pixelsToInput([im], model.preprocess).data;
      const y = [0, 1].map((k) => x.reduce((s, v, j) => s + v * W[k * N + j]!, 0) + [0.3, -0.3][k]!);
      const top = y[0]! > y[1]! ? 0 : 1;
      const [both] = await attack(g, [im], [[1 - top, top]], { kind: 'fgsm', epsilon: 255 });
      assert.equal(both!.trueClass, top);
      assert.equal(both!.success, false);
      const [one] = await attack(g, [im], [top], { kind: 'fgsm', epsilon: 255 });
      assert.deepEqual([...one!.adversarial.data], [...both!.adversarial.data]);
      assert.equal(one!.success, one!.adversarialPrediction !== top);
    } finally {
      await g.release();
      await model.release();
    }
  });

  test('bad budgets and mismatched classes are typed errors', async () => {
    const model = await linearModel('NCHW');
    const g = await PixelGradients.create(model);
    const im = cleanImage(7);
    const bad = (e: unknown) => e instanceof GradsightError && e.code === 'bad-argument';
    try {
      await assert.rejects(attack(g, [im], [0], { kind: 'fgsm', epsilon: 0 }), bad);
      await assert.rejects(attack(g, [im], [0], { kind: 'pgd', epsilon: 8, steps: 0 }), bad);
      await assert.rejects(attack(g, [im], [0, 1], { kind: 'fgsm', epsilon: 8 }), bad);
      await assert.rejects(attack(g, [im], [5], { kind: 'fgsm', epsilon: 8 }), bad);
    } finally {
      await g.release();
      await model.release();
    }
  });
});

describe('PGD on MobileNetV2 and photos', { skip: skipNoShared }, () => {
  test('ε = 2/255 and 8/255: success rates, and the true class Grad-CAM on clean vs adversarial', async (t) => {
    const ex = await loadExplainer(modelPath('mobilenet_v2_1.0_224_quant'));
    const names = ['cat.png', 'parrot.png', 'hot_dog.png', 'sunflower.png'];
    const photos = await Promise.all(names.map((n) => decodeImageFile(imagePath(n))));
    const clean = photos.map((p) => pixelImage(p, ex.model.preprocess));
    const g = await PixelGradients.create(ex.model);
    const dir = mkdtempSync(join(tmpdir(), 'gradsight-adv-'));
    try {
      // No labels for the photos: the true class is the model's clean prediction (an untargeted attack
      // on its own answer), and the clean pixels are the model's view of the photo.
      const truth = await g.classify(clean);
      const label = (c: number) => ex.model.labels?.[c] ?? String(c);
      const rates: Record<number, number> = {};
      for (const epsilon of [2, 8]) {
        const results = await attack(g, clean, truth, { kind: 'pgd', epsilon, steps: 10 });
        rates[epsilon] = successRate(results);
        const loc = await adversarialLocalization(ex, results);
        results.forEach((r, i) => {
          assert.ok(r.linf <= epsilon, `${names[i]}: L∞ ${r.linf} > ε ${epsilon}`);
          t.diagnostic(
            `ε ${epsilon}/255 ${names[i]}: ${label(r.trueClass)} → ${label(r.adversarialPrediction)}; Grad-CAM of the true class: box IoU clean vs adversarial ${loc[i]!.boxIou.toFixed(3)}, ρ ${loc[i]!.spearman.toFixed(3)}`,
          );
        });
        const mean = (xs: number[]) =>
          xs.filter(Number.isFinite).reduce((a, b) => a + b, 0) / xs.filter(Number.isFinite).length;
        t.diagnostic(
          `ε ${epsilon}/255: PGD-10 success ${(100 * rates[epsilon]!).toFixed(0)}% of ${results.length}; mean box IoU ${mean(loc.map((l) => l.boxIou)).toFixed(3)}, mean ρ ${mean(loc.map((l) => l.spearman)).toFixed(3)}`,
        );
        // The written PNG is the evaluated image: decoded again, the model predicts the same.
        const file = join(dir, `adv-${epsilon}.png`);
        await writeAdversarialPng(file, results[0]!);
        const back = pixelImage(await decodeImageFile(file), ex.model.preprocess);
        assert.deepEqual([...back.data], [...results[0]!.adversarial.data]);
        assert.equal((await g.classify([back]))[0], results[0]!.adversarialPrediction);
      }
      assert.ok(rates[8]! >= 0.75, `success at ε = 8/255: ${rates[8]}`);
      assert.ok(rates[8]! >= rates[2]!, 'a larger budget never does worse here');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await g.release();
      await ex.release();
    }
  });
});
