// The demo's numbers, computed on the held-out test split of the synthetic dataset: classification
// accuracy of both models, the paper's weakly-supervised localization (Grad-CAM and CAM boxes vs the
// ground truth, IoU ≥ 0.5) against a centre-box baseline, and how much of the biased model's Grad-CAM
// mass falls on the watermark compared with the clean model's.

import { type Box, iou, localize } from '../eval/localization.ts';
import type { Explainer } from '../explain/explainer.ts';
import { imagesToBatch } from '../image/preprocess.ts';
import { topK } from '../tensor/tensor.ts';
import { type DemoSample, IMAGE_SIZE, SPLITS, type SplitSpec, splitSample } from './dataset.ts';

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
  /** Fraction of single-object test images whose box has IoU ≥ 0.5 with the ground truth. */
  readonly localization: { readonly gradcam: number; readonly cam: number; readonly centreBox: number };
  /** Pointing game: fraction whose map maximum lies inside the ground-truth box (baseline: the centre). */
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

/** A box of the mean ground-truth size, centred in the image: what localization gets for free. */
function centreBox(data: readonly DemoSample[]): Box {
  let w = 0;
  let h = 0;
  for (const s of data) {
    const b = s.objects[0]!.box;
    w += b.x1 - b.x0 + 1;
    h += b.y1 - b.y0 + 1;
  }
  w = Math.round(w / data.length);
  h = Math.round(h / data.length);
  const x0 = Math.floor((IMAGE_SIZE - w) / 2);
  const y0 = Math.floor((IMAGE_SIZE - h) / 2);
  return { x0, y0, x1: x0 + w - 1, y1: y0 + h - 1 };
}

const inside = (b: Box, x: number, y: number) => x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1;

/**
 * Grad-CAM and CAM maps for the true class of single-object images: boxes scored by IoU ≥ 0.5 (the
 * paper's protocol), and the pointing game (the map's maximum inside the ground-truth box).
 */
async function localization(
  ex: Explainer,
  data: readonly DemoSample[],
): Promise<Pick<DemoMetrics, 'localization' | 'pointing'>> {
  const single = data.filter((s) => s.objects.length === 1);
  const centre = centreBox(single);
  const hits = { gradcam: 0, cam: 0, centreBox: 0 };
  const points = { gradcam: 0, cam: 0, centre: 0 };
  for (let cls = 0; cls < 4; cls++) {
    const group = single.filter((s) => s.label === cls);
    for (let i = 0; i < group.length; i += 64) {
      const chunk = group.slice(i, i + 64);
      const r = await ex.explain(
        chunk.map((s) => s.image),
        { method: ['gradcam', 'cam'], target: String(cls) },
      );
      for (const e of r.explanations) {
        const truth = chunk[e.image]!.objects[0]!.box;
        const box = localize(e.map!, e.width, e.height).box;
        const method = e.method as 'gradcam' | 'cam';
        if (box && iou(box, truth) >= 0.5) hits[method]++;
        let argmax = 0;
        for (let p = 1; p < e.map!.length; p++) if (e.map![p]! > e.map![argmax]!) argmax = p;
        if (inside(truth, argmax % e.width, Math.floor(argmax / e.width))) points[method]++;
      }
    }
  }
  const c = Math.floor(IMAGE_SIZE / 2);
  for (const s of single) {
    if (iou(centre, s.objects[0]!.box) >= 0.5) hits.centreBox++;
    if (inside(s.objects[0]!.box, c, c)) points.centre++;
  }
  const n = single.length;
  return {
    localization: { gradcam: hits.gradcam / n, cam: hits.cam / n, centreBox: hits.centreBox / n },
    pointing: { gradcam: points.gradcam / n, cam: points.cam / n, centre: points.centre / n },
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

export function massInside(map: Float32Array, mask: Uint8Array): number {
  let inside = 0;
  let all = 0;
  for (let p = 0; p < map.length; p++) {
    const v = Math.max(0, map[p]!);
    all += v;
    if (mask[p]) inside += v;
  }
  return all > 0 ? inside / all : 0;
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
