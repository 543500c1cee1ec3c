// The demo's numbers, computed on the held-out test split of the synthetic dataset with eval's metrics:
// classification accuracy of both models, the paper's weakly-supervised top-1 localization (Grad-CAM and
// CAM boxes vs the ground truth, IoU ≥ 0.5) against centre-box and full-image baselines, the pointing
// game, and how much of the biased model's Grad-CAM
// mass falls on the watermark compared with the clean model's.

import { massInside } from '../eval/metrics/bias.ts';
import {
  boxBaselineRecord,
  centreBaselineBox,
  fullImageBaselineBox,
  type LocalizationRecord,
  localizationError,
  localizationRecord,
  meanRelativeBoxSize,
} from '../eval/metrics/localization-error.ts';
import { type PointingRecord, pointHits, pointingAccuracy, pointingGame } from '../eval/metrics/pointing.ts';
import type { Explainer } from '../explain/explainer.ts';
import { imagesToBatch } from '../image/preprocess.ts';
import { topK } from '../tensor/tensor.ts';
import { type DemoSample, IMAGE_SIZE, SPLITS, type SplitSpec, splitSample } from './dataset.ts';

/** The watermark share, now eval's bias metric (re-exported for the demo command). */
export { massInside };

export interface DemoMetrics {
  /** Test images used (the first n of the split). */
  readonly images: number;
  readonly accuracy: {
    readonly shapes: number;
    /** The biased model on the unbiased test split (watermark independent of the class). */
    readonly biasedOnTest: number;
    /** The biased model on held-out images biased like its training data. */
    readonly biasedOnBiasedVal: number;
  };
  /**
   * Top-1 localization accuracy (1 − the paper's top-1 localization error) on single-object test
   * images: the top-1 class is right and its box has IoU ≥ 0.5 with the ground truth. Baselines: a
   * centre box of the mean ground-truth size, the full image.
   */
  readonly localization: {
    readonly gradcam: number;
    readonly cam: number;
    readonly centreBox: number;
    readonly fullImage: number;
  };
  /** Pointing game: fraction whose map maximum lies on the object (baseline: the image centre). */
  readonly pointing: { readonly gradcam: number; readonly cam: number; readonly centre: number };
  /** Mean fraction of the Grad-CAM map's mass inside the watermark, on test images that have one. */
  readonly cueMass: { readonly biased: number; readonly clean: number };
}

export function samples(split: SplitSpec, n: number): DemoSample[] {
  return Array.from({ length: Math.min(n, split.count) }, (_, i) => splitSample(split, i));
}

async function accuracy(ex: Explainer, data: readonly DemoSample[]): Promise<number> {
  let right = 0;
  for (let i = 0; i < data.length; i += 64) {
    const chunk = data.slice(i, i + 64);
    const out = await ex.model.run(
      imagesToBatch(
        chunk.map((s) => s.image),
        ex.model.preprocess,
      ),
    );
    const k = out.data.length / chunk.length;
    chunk.forEach((s, j) => {
      if (topK(out.data.subarray(j * k, (j + 1) * k), 1)[0] === s.label) right++;
    });
  }
  return right / data.length;
}

/**
 * The paper's top-1 localization (Table 1) on single-object images, with eval's metrics
 * (eval/metrics/localization-error.ts): an image is localized when the model's top-1 class is the true
 * one and the box around the largest segment of its map above 15% of the max has IoU ≥ 0.5 with the
 * ground truth. Baselines scored the same way (the top-1 class, then a fixed box): a centre box of the
 * mean ground-truth size and the full image. The pointing game (eval/metrics/pointing.ts) with no
 * tolerance (the map's maximum on the object itself: these 96-pixel images are far smaller than the
 * 15 px tolerance is meant for) against the image centre.
 */
async function localization(
  ex: Explainer,
  data: readonly DemoSample[],
): Promise<Pick<DemoMetrics, 'localization' | 'pointing'>> {
  const single = data.filter((s) => s.objects.length === 1);
  const truthOf = (s: DemoSample) => ({
    labels: [String(s.label)],
    boxes: [{ label: String(s.label), box: s.objects[0]!.box }],
  });
  const size = meanRelativeBoxSize(
    single.map((s) => ({ width: IMAGE_SIZE, height: IMAGE_SIZE, ...truthOf(s) })),
  );
  const fixedBoxes = {
    centreBox: centreBaselineBox(IMAGE_SIZE, IMAGE_SIZE, size),
    fullImage: fullImageBaselineBox(IMAGE_SIZE, IMAGE_SIZE),
  };
  const located: Record<keyof DemoMetrics['localization'], LocalizationRecord[]> = {
    gradcam: [],
    cam: [],
    centreBox: [],
    fullImage: [],
  };
  const points: Record<'gradcam' | 'cam' | 'centre', PointingRecord[]> = { gradcam: [], cam: [], centre: [] };
  const c = Math.floor(IMAGE_SIZE / 2);
  // Maps of the true class, grouped by class for batching: when the top-1 class is another one, the
  // image is not localized whatever its map (localizationRecord only boxes maps of a true class).
  for (let cls = 0; cls < 4; cls++) {
    const group = single.filter((s) => s.label === cls);
    for (let i = 0; i < group.length; i += 64) {
      const chunk = group.slice(i, i + 64);
      const r = await ex.explain(
        chunk.map((s) => s.image),
        { method: ['gradcam', 'cam'], target: String(cls) },
      );
      const top1 = (image: number) => String(r.predictions[image]!.top[0]?.index);
      for (const e of r.explanations) {
        const truth = truthOf(chunk[e.image]!);
        const method = e.method as 'gradcam' | 'cam';
        located[method].push(
          localizationRecord([{ label: top1(e.image), map: e.map! }], e.width, e.height, truth),
        );
        points[method].push(
          pointingGame(e.map!, e.width, e.height, { mask: chunk[e.image]!.objects[0]!.mask }, 0),
        );
      }
      chunk.forEach((s, image) => {
        const truth = truthOf(s);
        located.centreBox.push(boxBaselineRecord([top1(image)], fixedBoxes.centreBox, truth));
        located.fullImage.push(boxBaselineRecord([top1(image)], fixedBoxes.fullImage, truth));
        points.centre.push(pointHits(c, c, IMAGE_SIZE, IMAGE_SIZE, { mask: s.objects[0]!.mask }, 0));
      });
    }
  }
  const rate = (records: LocalizationRecord[]) => 1 - localizationError(records, 1);
  return {
    localization: {
      gradcam: rate(located.gradcam),
      cam: rate(located.cam),
      centreBox: rate(located.centreBox),
      fullImage: rate(located.fullImage),
    },
    pointing: {
      gradcam: pointingAccuracy(points.gradcam),
      cam: pointingAccuracy(points.cam),
      centre: pointingAccuracy(points.centre),
    },
  };
}

/** Mean share of the Grad-CAM mass (for the predicted class) inside the watermark. */
export async function cueMass(ex: Explainer, data: readonly DemoSample[]): Promise<number> {
  const withCue = data.filter((s) => s.cue);
  let total = 0;
  for (let i = 0; i < withCue.length; i += 64) {
    const chunk = withCue.slice(i, i + 64);
    const r = await ex.explain(
      chunk.map((s) => s.image),
      { method: 'gradcam', target: 'pred' },
    );
    for (const e of r.explanations) total += massInside(e.map!, chunk[e.image]!.cue!.mask);
  }
  return total / withCue.length;
}

export async function evaluateDemo(clean: Explainer, biased: Explainer, n = 400): Promise<DemoMetrics> {
  const test = samples(SPLITS.test, n);
  const biasedVal = samples(SPLITS.valBiased, n);
  return {
    images: test.length,
    accuracy: {
      shapes: await accuracy(clean, test),
      biasedOnTest: await accuracy(biased, test),
      biasedOnBiasedVal: await accuracy(biased, biasedVal),
    },
    ...(await localization(clean, test)),
    cueMass: { biased: await cueMass(biased, test), clean: await cueMass(clean, test) },
  };
}
