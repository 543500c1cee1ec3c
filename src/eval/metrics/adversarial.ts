// Adversarial images from gradsight's own input gradients: FGSM (Goodfellow et al. 2015) and PGD
// (Madry et al. 2018) under an L∞ budget, in PIXEL space — the model-size image on the 0–255 scale,
// before normalisation — so ε and the step are pixel units (ε = 8 is 8/255 of the range) and every
// iterate is a valid image (clipped to [0, 255]). The loss gradient with respect to the model input
// is chained through the preprocessing: x = (p/255 − mean)/std (scale 0-1) or (p − mean)/std (0-255),
// so ∂L/∂p = ∂L/∂x / (255·std) or ∂L/∂x / std, channel by channel (BGR models read the bands swapped).
// Then the paper's experiment (Grad-CAM, Sec. 6.2 of arXiv:1610.02391): the true class's Grad-CAM on
// the adversarial image against the clean one.

import { explainedTensor, RULE_SETS } from '../../autodiff/index.ts';
import { mulberry32, streamSeed } from '../../demo/prng.ts';
import { GradsightError } from '../../errors.ts';
import type { Explainer } from '../../explain/explainer.ts';
import { inputDimsOf, modelBands, type PreprocessConfig } from '../../image/preprocess.ts';
import { type RgbImage, rgbImage } from '../../image/rgb-image.ts';
import { GradientRunner } from '../../model/gradient-runner.ts';
import type { ImageModel } from '../../model/image-model.ts';
import type { TargetGraph } from '../../model/target-graph.ts';
import { logSoftmaxHead } from '../../targets/index.ts';
import { type Float32Tensor, float32 } from '../../tensor/tensor.ts';
import { type Box, iou, localize } from '../localization.ts';
import { classPerImage } from './sanity.ts';
import { spearman } from './similarity.ts';

/**
 * The loss the attack increases: 'cross-entropy' −log softmax(y)_c of the true class c (default;
 * computed in the graph by a LogSoftmax head), or 'logit' −y_c (the true class's score before softmax).
 */
export type AttackLoss = 'cross-entropy' | 'logit';

export interface AttackOptions {
  readonly kind: 'fgsm' | 'pgd';
  /** L∞ budget in pixel units (0–255 scale): 8 means 8/255 of the pixel range. */
  readonly epsilon: number;
  /** PGD step in pixel units (default ε/4, so 10 steps can cross the ball 2.5 times, as Madry et al.). */
  readonly stepSize?: number;
  /** PGD iterations (default 10). */
  readonly steps?: number;
  /** PGD: start at a uniform random point of the ε-ball (default false: at the clean image). */
  readonly randomStart?: boolean;
  /** Seed of the random start (default 0). */
  readonly seed?: number;
  readonly loss?: AttackLoss;
  /**
   * Round the result to 8-bit pixels (default true): what a PNG holds, and what success is measured
   * on. Rounding can undo a perturbation smaller than half a pixel step; the rounded image is clamped
   * back into the ε-ball (only needed for a fractional ε).
   */
  readonly round?: boolean;
}

/** An image in the model's own channels at the model's input size, 0–255 floats, interleaved HWC. */
export interface PixelImage {
  readonly width: number;
  readonly height: number;
  /** 1 (L), 3 (RGB) or 4 (RGBA): the bands in RGB(A) order, whatever the model's channel order. */
  readonly channels: number;
  readonly data: Float32Array;
}

export interface AttackResult {
  /** The class whose loss was increased: of several true classes, the one scored highest on the clean image. */
  readonly trueClass: number;
  /** Every class counted as correct (one, or the model classes a dataset class maps to). */
  readonly trueClasses: readonly number[];
  readonly clean: PixelImage;
  readonly adversarial: PixelImage;
  /** The top-1 class on the clean and on the adversarial image. */
  readonly cleanPrediction: number;
  readonly adversarialPrediction: number;
  /** Untargeted success: the adversarial image's top-1 class is none of the true classes. */
  readonly success: boolean;
  /** max |adversarial − clean| in pixel units (≤ ε). */
  readonly linf: number;
}

/** The model-size pixels of a decoded image (converted and resized as the model's preprocessing does). */
export function pixelImage(img: RgbImage, cfg: PreprocessConfig): PixelImage {
  const b = modelBands(img, cfg);
  return { width: b.width, height: b.height, channels: b.bands, data: Float32Array.from(b.data) };
}

/** The source band (RGB(A) order) of model channel c. */
const bandOf = (cfg: PreprocessConfig, c: number) => (cfg.channelOrder === 'BGR' && c < 3 ? 2 - c : c);

/** dx/dp of model channel c: 1/(255·std) on the 0-1 scale, 1/std on 0-255. */
const slopeOf = (cfg: PreprocessConfig, c: number) => {
  const std = cfg.std[bandOf(cfg, c)]!;
  return cfg.scale === '0-1' ? 1 / (255 * std) : 1 / std;
};

/**
 * Pixel images → the model input, with the preprocessing's arithmetic (float32 after each operation):
 * on 8-bit values this equals imagesToBatch bit for bit.
 */
export function pixelsToInput(images: readonly PixelImage[], cfg: PreprocessConfig): Float32Tensor {
  const [h, w] = cfg.size;
  const nc = cfg.channels;
  const plane = h * w;
  const out = new Float32Array(images.length * nc * plane);
  const f = Math.fround;
  images.forEach((im, n) => {
    if (im.width !== w || im.height !== h || im.channels !== nc) {
      throw new GradsightError(
        'shape-mismatch',
        `a ${im.width}×${im.height}×${im.channels} pixel image does not fit the ${w}×${h}×${nc} model input`,
        { hint: 'make pixel images with pixelImage(image, model.preprocess)' },
      );
    }
    for (let c = 0; c < nc; c++) {
      const band = bandOf(cfg, c);
      const mean = f(cfg.mean[band]!);
      const std = f(cfg.std[band]!);
      for (let i = 0; i < plane; i++) {
        const p = im.data[i * nc + band]!;
        const x = cfg.scale === '0-1' ? f(p / 255) : p;
        const v = f(f(x - mean) / std);
        out[cfg.layout === 'NCHW' ? n * nc * plane + c * plane + i : (n * plane + i) * nc + c] = v;
      }
    }
  });
  return float32(out, inputDimsOf(cfg, images.length));
}

/** ∂L/∂x of a model input batch → ∂L/∂p per pixel image (HWC bands), by the chain rule above. */
export function inputToPixelGradient(grad: Float32Tensor, cfg: PreprocessConfig): Float32Array[] {
  const [h, w] = cfg.size;
  const nc = cfg.channels;
  const plane = h * w;
  const n = grad.dims[0]!;
  return Array.from({ length: n }, (_, k) => {
    const out = new Float32Array(plane * nc);
    for (let c = 0; c < nc; c++) {
      const band = bandOf(cfg, c);
      const slope = slopeOf(cfg, c);
      for (let i = 0; i < plane; i++) {
        const g =
          grad.data[cfg.layout === 'NCHW' ? k * nc * plane + c * plane + i : (k * plane + i) * nc + c]!;
        out[i * nc + band] = g * slope;
      }
    }
    return out;
  });
}

/**
 * The loss gradients in pixel space for a fixed model: one compiled gradient model (the loss head and
 * the backward graph to the input) reused for every iterate.
 */
export class PixelGradients {
  private constructor(
    readonly model: ImageModel,
    readonly loss: AttackLoss,
    private readonly graph: TargetGraph,
    private readonly runner: GradientRunner,
  ) {}

  static async create(model: ImageModel, loss: AttackLoss = 'cross-entropy'): Promise<PixelGradients> {
    if (model.description.task.kind !== 'classification') {
      throw new GradsightError(
        'method-not-applicable',
        `adversarial attacks need a classifier; this model's output is a ${model.description.task.kind} output`,
        { hint: 'attack a classification model (one score per class)' },
      );
    }
    const reads = explainedTensor(model.model.graph, model.output.name, true);
    const graph = await model.targetGraph(reads, loss === 'cross-entropy' ? logSoftmaxHead : undefined);
    const runner = await GradientRunner.create(
      model,
      {
        wrt: [model.input.name],
        explained: graph.explained,
        beforeSoftmax: false,
        ruleSet: RULE_SETS.standard,
      },
      model.threads,
      graph,
    );
    return new PixelGradients(model, loss, graph, runner);
  }

  /**
   * ∂L/∂p of L = −T_c for each image (T the log-probabilities or the scores), and the scores T at
   * those pixels (rows of the class count).
   */
  async at(
    images: readonly PixelImage[],
    classes: readonly number[],
  ): Promise<{ gradients: Float32Array[]; scores: Float32Tensor }> {
    const cfg = this.model.preprocess;
    const batch = pixelsToInput(images, cfg);
    const dims = this.runner.seedDims(images.length);
    const k = dims.slice(1).reduce((a, b) => a * b, 1);
    const seed = new Float32Array(images.length * k);
    classes.forEach((c, i) => {
      if (!Number.isInteger(c) || c < 0 || c >= k) {
        throw new GradsightError('bad-argument', `true class ${c} is not one of the model's ${k} classes`, {
          hint: `give class indices from 0 to ${k - 1}`,
        });
      }
      seed[i * k + c] = -1;
    });
    const { [this.model.input.name]: _image, ...feeds } = this.model.feedsFor(batch);
    const r = await this.runner.run(batch, { dtype: 'float32', dims, data: seed }, feeds);
    return { gradients: inputToPixelGradient(r.grads[this.model.input.name]!, cfg), scores: r.explained };
  }

  /** The scores T (log-probabilities, or the scores before softmax for the logit loss): a forward run. */
  async scores(images: readonly PixelImage[]): Promise<Float32Tensor> {
    const batch = pixelsToInput(images, this.model.preprocess);
    const { [this.model.input.name]: _image, ...feeds } = this.model.feedsFor(batch);
    return (await this.model.runTarget(this.graph, batch, feeds)).t;
  }

  /** The top-1 class of each pixel image. */
  async classify(images: readonly PixelImage[]): Promise<number[]> {
    return argmaxRows(await this.scores(images));
  }

  async release(): Promise<void> {
    await this.runner.release();
  }
}

/**
 * FGSM: p' = clip(p + ε·sign(∇ₚL(p)), 0, 255). PGD: from p⁰ = p (or a uniform draw in the ball),
 * pᵗ⁺¹ = clip(Π_ε(pᵗ + α·sign(∇ₚL(pᵗ))), 0, 255), Π_ε the projection onto [p − ε, p + ε]. sign(0) = 0:
 * a pixel with no gradient does not move. Untargeted: success when the (rounded) result is not
 * classified as the true class.
 */
export async function attack(
  gradients: PixelGradients,
  clean: readonly PixelImage[],
  trueClasses: readonly (number | readonly number[])[],
  opts: AttackOptions,
): Promise<AttackResult[]> {
  checkAttack(opts, clean.length, trueClasses.length);
  const sets = trueClasses.map((c) => [c].flat());
  const cleanScores = await gradients.scores(clean);
  const k = cleanScores.data.length / clean.length;
  // Of several true classes, the attack pushes down the one the model scores highest.
  const targets = sets.map((set, i) => {
    if (set.length === 0) {
      throw new GradsightError('bad-argument', `attack: image ${i} has no true class`, {
        hint: 'give one true class (or a non-empty list) per image',
      });
    }
    const row = cleanScores.data.subarray(i * k, (i + 1) * k);
    return set.reduce(
      (best, c) =>
        (row[c] ?? Number.NEGATIVE_INFINITY) > (row[best] ?? Number.NEGATIVE_INFINITY) ? c : best,
      set[0]!,
    );
  });
  const eps = opts.epsilon;
  const pgd = opts.kind === 'pgd';
  const steps = pgd ? (opts.steps ?? 10) : 1;
  const alpha = pgd ? (opts.stepSize ?? eps / 4) : eps;
  let current = clean.map((im, i) => {
    if (!pgd || !opts.randomStart) return im;
    const rng = mulberry32(streamSeed(opts.seed ?? 0, i, 2));
    return withData(
      im,
      im.data.map((p) => clamp(p + rng.uniform(-eps, eps), 0, 255)),
    );
  });
  for (let s = 0; s < steps; s++) {
    const { gradients: g } = await gradients.at(current, targets);
    current = current.map((im, i) => {
      const x0 = clean[i]!.data;
      const gi = g[i]!;
      return withData(
        im,
        im.data.map((p, j) => {
          const moved = p + alpha * Math.sign(gi[j]!);
          return clamp(clamp(moved, x0[j]! - eps, x0[j]! + eps), 0, 255);
        }),
      );
    });
  }
  if (opts.round ?? true) {
    current = current.map((im, i) => {
      const x0 = clean[i]!.data;
      return withData(
        im,
        im.data.map((p, j) =>
          clamp(Math.round(p), Math.ceil(x0[j]! - eps - 1e-9), Math.floor(x0[j]! + eps + 1e-9)),
        ),
      );
    });
  }
  const before = argmaxRows(cleanScores);
  const after = await gradients.classify(current);
  return clean.map((im, i) => {
    let linf = 0;
    for (let j = 0; j < im.data.length; j++)
      linf = Math.max(linf, Math.abs(current[i]!.data[j]! - im.data[j]!));
    return {
      trueClass: targets[i]!,
      trueClasses: sets[i]!,
      clean: im,
      adversarial: current[i]!,
      cleanPrediction: before[i]!,
      adversarialPrediction: after[i]!,
      success: !sets[i]!.includes(after[i]!),
      linf,
    };
  });
}

/** The share of attacks that succeeded. */
export function successRate(results: readonly AttackResult[]): number {
  return results.length === 0 ? Number.NaN : results.filter((r) => r.success).length / results.length;
}

/**
 * A pixel image as an 8-bit RGB image (rounded and clamped; L repeated on R, G, B; RGBA's alpha kept
 * as the alpha plane), e.g. to write it as PNG (writePng) or to explain it: a model-size image goes
 * through the preprocessing unchanged (no resize, and L of a grey pixel is the pixel itself).
 */
export function toRgbImage(im: PixelImage): RgbImage {
  const n = im.width * im.height;
  const rgb = new Uint8Array(n * 3);
  const alpha = im.channels === 4 ? new Uint8Array(n) : undefined;
  const byte = (v: number) => clamp(Math.round(v), 0, 255);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++)
      rgb[3 * i + c] = byte(im.data[i * im.channels + (im.channels === 1 ? 0 : c)]!);
    if (alpha) alpha[i] = byte(im.data[i * 4 + 3]!);
  }
  return rgbImage(im.width, im.height, rgb, alpha);
}

export interface AdversarialLocalization {
  /** The paper's box (15% of the max, largest segment) of the true class's Grad-CAM, model pixels. */
  readonly cleanBox: Box | undefined;
  readonly adversarialBox: Box | undefined;
  /** IoU of the two boxes (0 when either map has no box). */
  readonly boxIou: number;
  /** Spearman's ρ of the two maps. */
  readonly spearman: number;
  /** The maps at the model's input size (H×W), for galleries and ground-truth metrics. */
  readonly cleanMap: Float32Array;
  readonly adversarialMap: Float32Array;
  readonly width: number;
  readonly height: number;
}

/**
 * The true class's Grad-CAM (or another CAM method) on the clean and the adversarial image of each
 * attack, and how far the adversarial map moved: box IoU and rank correlation.
 */
export async function adversarialLocalization(
  explainer: Explainer,
  results: readonly AttackResult[],
  options: {
    readonly method?: 'gradcam' | 'gradcam++' | 'hirescam' | 'layercam' | 'xgradcam';
    readonly layers?: readonly string[];
  } = {},
): Promise<AdversarialLocalization[]> {
  if (results.length === 0) return [];
  const method = options.method ?? 'gradcam';
  const target = classPerImage(
    results.map((r) => r.trueClass),
    explainer.model.labels,
  );
  const mapsOf = async (images: RgbImage[]) => {
    const r = await explainer.explain(images, {
      method,
      target,
      ...(options.layers ? { layers: options.layers } : {}),
    });
    return [...r.explanations].sort((a, b) => a.image - b.image);
  };
  const clean = await mapsOf(results.map((r) => toRgbImage(r.clean)));
  const adv = await mapsOf(results.map((r) => toRgbImage(r.adversarial)));
  return clean.map((c, i) => {
    const a = adv[i]!;
    const cleanBox = localize(c.map!, c.width, c.height).box;
    const adversarialBox = localize(a.map!, a.width, a.height).box;
    return {
      cleanBox,
      adversarialBox,
      boxIou: cleanBox && adversarialBox ? iou(cleanBox, adversarialBox) : 0,
      spearman: spearman(c.map!, a.map!),
      cleanMap: c.map!,
      adversarialMap: a.map!,
      width: c.width,
      height: c.height,
    };
  });
}

function checkAttack(opts: AttackOptions, images: number, classes: number): void {
  const bad = (what: string, hint: string) => new GradsightError('bad-argument', `attack: ${what}`, { hint });
  if (opts.kind !== 'fgsm' && opts.kind !== 'pgd')
    throw bad(`unknown kind ${JSON.stringify(opts.kind)}`, "use 'fgsm' or 'pgd'");
  if (!(opts.epsilon > 0 && opts.epsilon <= 255))
    throw bad(`ε = ${opts.epsilon}`, 'give ε in pixel units, above 0 and at most 255 (8 means 8/255)');
  if (opts.stepSize !== undefined && !(opts.stepSize > 0))
    throw bad(`step size ${opts.stepSize}`, 'give a positive step in pixel units');
  if (opts.steps !== undefined && !(Number.isInteger(opts.steps) && opts.steps >= 1))
    throw bad(`${opts.steps} steps`, 'give a whole number of PGD steps, at least 1');
  if (images !== classes)
    throw bad(`${images} images but ${classes} true classes`, 'give one true class per image');
}

function withData(im: PixelImage, data: Float32Array): PixelImage {
  return { width: im.width, height: im.height, channels: im.channels, data };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

function argmaxRows(t: Float32Tensor): number[] {
  const n = t.dims[0]!;
  const k = t.data.length / n;
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let j = 1; j < k; j++) if (t.data[i * k + j]! > t.data[i * k + best]!) best = j;
    return best;
  });
}
