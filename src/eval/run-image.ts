// One image of an evaluation run (run.ts): decode, predict, choose the classes to explain, explain them
// with every method in one call, upsample the maps to the image's size, run each metric of the table
// on them, and return the image's record. Nothing of the image outlives the call. Node (decoding).

import { GradsightError, isGradsightError } from '../errors.ts';
import type { Explainer, Explanation } from '../explain/explainer.ts';
import { decodeImageFile } from '../image/decode-node.ts';
import type { ImageFileOptions } from '../image/limits.ts';
import { imageToTensor } from '../image/preprocess.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { resizeBilinearFloat } from '../image/upsample.ts';
import type { MethodId } from '../methods/types.ts';
import type { EvalSample } from './datasets/types.ts';
import { classScorer, inputRowOf, type ScoreKind, type Scorer } from './perturbation.ts';
import type { ImageRecord, MethodRecord } from './record-types.ts';
import type {
  EvalMetric,
  ExplainedClass,
  ImageContext,
  MethodMap,
  MetricOptions,
  MetricSession,
} from './registry.ts';

/** model class index → its dataset class (the first that maps to it). */
export function reverseMap(classes: ReadonlyMap<string, readonly number[]>): Map<number, string> {
  const out = new Map<number, string>();
  for (const [label, indices] of classes) for (const i of indices) if (!out.has(i)) out.set(i, label);
  return out;
}

export interface ImageJob {
  readonly explainer: Explainer;
  readonly sample: EvalSample;
  readonly index: number;
  readonly root: string;
  readonly methods: readonly MethodId[];
  readonly metrics: readonly EvalMetric[];
  readonly classes: ReadonlyMap<string, readonly number[]>;
  readonly datasetOf: ReadonlyMap<number, string>;
  readonly layers: readonly string[] | undefined;
  readonly decode: ImageFileOptions | undefined;
  readonly memoryBudget: number | undefined;
  readonly notApplicable: Record<string, string>;
  readonly signal?: AbortSignal | undefined;
  readonly sessions: readonly (readonly [string, MetricSession])[];
  readonly options: MetricOptions;
}

/** One image's record: everything computed for it, then dropped. */
export async function evaluateImage(job: ImageJob): Promise<ImageRecord> {
  const { explainer, sample } = job;
  const model = explainer.model;
  const image = await decodeImageFile(sample.image, job.decode ?? {});
  const { batch, top, explained } = await classesOf(explainer, image, sample, job.classes, job.datasetOf);
  const mask = sample.mask ? await sample.mask() : undefined;
  if (mask && (mask.width !== image.width || mask.height !== image.height)) {
    throw new GradsightError(
      'annotation-invalid',
      `${sample.id}: its mask is ${mask.width}×${mask.height}, the image ${image.width}×${image.height}`,
      { hint: 'a class mask must have the size of its image' },
    );
  }
  const scorers = new Map<string, Promise<Scorer>>();
  const ctx: ImageContext = {
    sample,
    width: image.width,
    height: image.height,
    labels: sample.labels,
    boxes: sample.boxes,
    mask,
    top,
    explained,
    input: inputRowOf(model, batch),
    options: job.options,
    scorer: (classIndex: number, kind: ScoreKind) => {
      const key = `${classIndex}:${kind}`;
      let s = scorers.get(key);
      if (!s) {
        s = classScorer(model, classIndex, kind, job.memoryBudget ? { memoryBudget: job.memoryBudget } : {});
        scorers.set(key, s);
      }
      return s;
    },
  };
  const values: Record<string, number | null> = {};
  for (const metric of job.metrics) Object.assign(values, (await metric.image?.(ctx))?.values ?? {});
  const methods: Record<string, MethodRecord> = {};
  const methodData: Record<string, Record<string, unknown>> = {};
  // Maps only when a metric reads them (the sanity checks and attacks explain on their own).
  const explanations = job.metrics.some((m) => m.method)
    ? await explainAll(
        job,
        image,
        explained.map((c) => c.classIndex),
      )
    : [];
  for (const method of job.methods) {
    if (method in job.notApplicable || !explanations.length) continue;
    const maps = mapsOf(
      explanations.filter((e) => e.method === method),
      explained,
      image,
    );
    const mctx = { ...ctx, method, maps };
    const mv: Record<string, number | null> = {};
    const curves: Record<string, readonly number[]> = {};
    const data: Record<string, unknown> = {};
    for (const metric of job.metrics) {
      if (!metric.method) continue;
      const out = await metric.method(mctx);
      Object.assign(mv, out.values ?? {});
      Object.assign(curves, out.curves ?? {});
      if (out.data !== undefined) data[metric.id] = out.data;
    }
    methods[method] = { values: mv, ...(Object.keys(curves).length ? { curves } : {}) };
    if (Object.keys(data).length) methodData[method] = data;
  }
  if (job.sessions.length) {
    const trueClasses = [...new Set(sample.labels.flatMap((l) => job.classes.get(l) ?? []))];
    const sctx = { ...ctx, image, trueClasses };
    for (const [, session] of job.sessions) {
      const out = await session.image(sctx);
      Object.assign(values, out.model?.values ?? {});
      for (const [m, o] of Object.entries(out.methods ?? {})) {
        const prev = methods[m] ?? { values: {} };
        const curves = { ...(prev.curves ?? {}), ...(o.curves ?? {}) };
        methods[m] = {
          values: { ...prev.values, ...(o.values ?? {}) },
          ...(Object.keys(curves).length ? { curves } : {}),
        };
      }
    }
  }
  return {
    index: job.index,
    id: sample.id,
    image: relativeTo(job.root, sample.image),
    labels: sample.labels,
    size: { width: image.width, height: image.height },
    predicted: top.map((t) => ({
      index: t.index,
      label: model.labels?.[t.index] ?? String(t.index),
      score: t.score,
    })),
    model: values,
    methods,
    ...(Object.keys(methodData).length ? { data: methodData } : {}),
  };
}

/** The image's preprocessed batch, the model's top 5 (with their dataset classes) and the classes to explain. */
export async function classesOf(
  explainer: Explainer,
  image: RgbImage,
  sample: EvalSample,
  classes: ReadonlyMap<string, readonly number[]>,
  datasetOf: ReadonlyMap<number, string>,
) {
  const model = explainer.model;
  const batch = imageToTensor(image, model.preprocess);
  const all = (await model.predict(batch, model.description.classes ?? 1000))[0]!;
  const score = new Map(all.top.map((c) => [c.index, c.score]));
  // A segmentation model's ranking (share of pixels) leaves out its background: the largest object
  // region is its top-1 class, as a classifier's.
  const ranked =
    model.description.task.kind === 'segmentation'
      ? all.top.filter((c) => !/^(background|__background__)$/i.test(model.labels?.[c.index] ?? ''))
      : all.top;
  const top = ranked
    .slice(0, 5)
    .map((c) => ({ index: c.index, label: datasetOf.get(c.index), score: c.score }));
  return { batch, top, explained: explainedClasses(sample.labels, classes, top, score) };
}

/**
 * The model classes to explain: per dataset class present, the highest-ranked of its classes in the
 * top 5, else its best-scoring class; then the top-1 class if not among them. A class that maps to no
 * model class is a 'label-unknown' error (the class map must cover it, or map it to [] on purpose).
 */
function explainedClasses(
  labels: readonly string[],
  classes: ReadonlyMap<string, readonly number[]>,
  top: readonly { index: number }[],
  score: ReadonlyMap<number, number>,
): ExplainedClass[] {
  const out: ExplainedClass[] = [];
  for (const label of labels) {
    const candidates = classes.get(label) ?? [];
    if (!candidates.length) continue; // mapped to no class on purpose: nothing to explain
    const ranked = top.find((t) => candidates.includes(t.index));
    let best = ranked?.index ?? candidates[0]!;
    if (!ranked)
      for (const c of candidates) if ((score.get(c) ?? -Infinity) > (score.get(best) ?? -Infinity)) best = c;
    if (!out.some((o) => o.classIndex === best))
      out.push({ label, classIndex: best, truth: true, predicted: best === top[0]?.index });
  }
  const first = top[0];
  if (first && !out.some((o) => o.classIndex === first.index))
    out.push({ label: undefined, classIndex: first.index, truth: false, predicted: true });
  return out;
}

/**
 * Every method's explanations of `targets` in one explain() call; a method that does not apply to the
 * model (CAM without a GAP head) is dropped for the rest of the run and noted.
 */
async function explainAll(
  job: ImageJob,
  image: RgbImage,
  targets: readonly number[],
): Promise<Explanation[]> {
  const active = job.methods.filter((m) => !(m in job.notApplicable));
  if (!active.length || !targets.length) return [];
  // A segmentation model explains a class as its region (the sum of its scores where it wins).
  const segmentation = job.explainer.model.description.task.kind === 'segmentation';
  const target = targets.map((c) => (segmentation ? `region:${c}` : c));
  const opts = {
    target,
    ...(job.layers?.length ? { layers: job.layers } : {}),
    ...(job.signal ? { signal: job.signal } : {}),
  };
  try {
    return [...(await job.explainer.explain(image, { ...opts, method: active })).explanations];
  } catch (e) {
    if (!isGradsightError(e, 'method-not-applicable')) throw e;
  }
  // One at a time, to find which methods apply.
  const out: Explanation[] = [];
  for (const method of active) {
    try {
      out.push(...(await job.explainer.explain(image, { ...opts, method })).explanations);
    } catch (e) {
      if (!isGradsightError(e, 'method-not-applicable')) throw e;
      job.notApplicable[method] = e.message;
    }
  }
  return out;
}

/** A method's maps per explained class, at the image size; pixel methods' maps are max |g| over channels. */
function mapsOf(
  explanations: readonly Explanation[],
  explained: readonly ExplainedClass[],
  image: RgbImage,
): MethodMap[] {
  return explained.flatMap((c) => {
    const e = explanations.find((x) => x.target.index === c.classIndex);
    if (!e) return [];
    const modelMap = e.map ?? pixelMap(e);
    const map = resizeBilinearFloat(
      { width: e.width, height: e.height, data: modelMap },
      image.width,
      image.height,
    ).data;
    return [{ ...c, map, modelMap }];
  });
}

/** A pixel method's [C, H, W] gradients as one map: max over channels of |g|, scaled to [0, 1]. */
function pixelMap(e: Explanation): Float32Array {
  const hw = e.width * e.height;
  const px = e.pixels!;
  const out = new Float32Array(hw);
  let max = 0;
  for (let c = 0; c < px.length / hw; c++)
    for (let p = 0; p < hw; p++) {
      const v = Math.abs(px[c * hw + p]!);
      if (v > out[p]!) out[p] = v;
      if (v > max) max = v;
    }
  if (max > 0) for (let p = 0; p < hw; p++) out[p]! /= max;
  return out;
}

export function relativeTo(root: string, path: string): string {
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}
