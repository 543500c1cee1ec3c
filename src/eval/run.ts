// `evaluate()`: a dataset streamed through an Explainer, one image at a time, with bounded memory. Per
// image: decode, predict, explain the classes present (and the predicted one) with every method, run
// every metric of the registry on the maps (upsampled to the image's size), append the image's record
// to per-image.jsonl, drop everything else. A rerun skips images the records file already holds; a
// shard runs every n-th sample. Aggregation (aggregate.ts) reads the records back. Node (files).

import { GradsightError, isGradsightError } from '../errors.ts';
import type { Explainer, Explanation } from '../explain/explainer.ts';
import { decodeImageFile } from '../image/decode-node.ts';
import type { ImageFileOptions } from '../image/limits.ts';
import { imageToTensor } from '../image/preprocess.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { resizeBilinearFloat } from '../image/upsample.ts';
import { METHOD_IDS } from '../methods/table.ts';
import type { MethodId } from '../methods/types.ts';
import { type AggregateOptions, Aggregator, type EvalResults } from './aggregate.ts';
import type { ClassMap } from './datasets/class-map.ts';
import { mapClasses } from './datasets/class-map.ts';
import type { EvalDataset, EvalSample } from './datasets/types.ts';
import { classScorer, inputRowOf, type ScoreKind, type Scorer } from './perturbation.ts';
import {
  appendRecords,
  type ImageRecord,
  inShard,
  type MethodRecord,
  openRecords,
  RECORDS_FORMAT,
  type RecordsHeader,
  type RunConfig,
  readRecords,
  type Shard,
} from './records.ts';
import {
  type BiasRegionSpec,
  EVAL_METRIC_IDS,
  type EvalMetric,
  type ExplainedClass,
  evalMetricById,
  type ImageContext,
  type MethodMap,
  type MetricOptions,
  type MetricSession,
  meetsNeeds,
} from './registry.ts';

export interface EvaluateOptions {
  /** Methods of the method table (default gradcam). */
  readonly methods?: readonly MethodId[];
  /** Metric ids of the registry (default: every default metric the dataset's first samples allow). */
  readonly metrics?: readonly string[];
  /** Only the first `limit` samples (before sharding). */
  readonly limit?: number;
  readonly shard?: Shard;
  /** CAM layers (default: the model's default layer). */
  readonly layers?: readonly string[];
  /** A class map file, a shipped map's name, or a ClassMap (datasets/class-map.ts). */
  readonly classMap?: string | ClassMap;
  /** The per-image records file (JSON lines); created, or resumed. */
  readonly records: string;
  /** Skip images already in `records` (default true). */
  readonly resume?: boolean;
  /** The model's name in the records' configuration (default: the model's input and output names). */
  readonly modelName?: string;
  readonly decode?: ImageFileOptions;
  /** Called after each image (done counts the skipped ones too). */
  readonly onImage?: (p: {
    readonly done: number;
    readonly total: number;
    readonly record?: ImageRecord;
  }) => void;
  /** Called between images: throw to stop the run (an interrupt). */
  readonly check?: () => void;
  /** Bytes one batch of perturbed copies may take (faithfulness metrics). */
  readonly memoryBudget?: number;
  /** The region the bias metric scores (required with it). */
  readonly biasRegion?: BiasRegionSpec;
}

export interface EvaluateSummary {
  readonly header: RecordsHeader;
  /** Samples this run covers (limit and shard applied). */
  readonly selected: number;
  /** Computed now, skipped as already recorded, failed. */
  readonly evaluated: number;
  readonly resumed: number;
  readonly failed: number;
  /** Whether sample `index` belongs to this run (for the aggregation). */
  readonly keep: (index: number) => boolean;
  /** Methods dropped because they do not apply to the model (CAM without a GAP head), with why. */
  readonly notApplicable: Readonly<Record<string, string>>;
  readonly metrics: readonly string[];
}

/** Checks method and metric ids: unknown ones are 'bad-argument' errors listing the known ones. */
export function checkEvalChoices(methods: readonly string[], metrics: readonly string[] | undefined): void {
  for (const m of methods) {
    if (!(METHOD_IDS as readonly string[]).includes(m)) {
      throw new GradsightError('bad-argument', `unknown method ${JSON.stringify(m)}`, {
        hint: `methods: ${METHOD_IDS.join(', ')}`,
      });
    }
  }
  for (const m of metrics ?? []) {
    if (!evalMetricById(m)) {
      throw new GradsightError('bad-argument', `unknown metric ${JSON.stringify(m)}`, {
        hint: `metrics: ${EVAL_METRIC_IDS.join(', ')}`,
      });
    }
  }
}

/** The default metrics for a dataset, judged from its first samples (boxes, masks, several classes). */
export function defaultMetrics(dataset: EvalDataset, probe = 20): string[] {
  const has = { boxes: false, masks: false, twoClasses: false };
  let n = 0;
  for (const s of dataset.samples()) {
    has.boxes ||= s.boxes.length > 0;
    has.masks ||= s.mask !== undefined;
    has.twoClasses ||= s.labels.length > 1;
    if (++n >= probe) break;
  }
  return EVAL_METRICS_DEFAULT()
    .filter((m) => meetsNeeds(m, has))
    .map((m) => m.id);
}

const EVAL_METRICS_DEFAULT = (): EvalMetric[] =>
  EVAL_METRIC_IDS.map((id) => evalMetricById(id)!).filter((m) => m.byDefault);

export async function evaluate(
  explainer: Explainer,
  dataset: EvalDataset,
  options: EvaluateOptions,
): Promise<EvaluateSummary> {
  const methods = [...(options.methods?.length ? options.methods : (['gradcam'] as MethodId[]))];
  checkEvalChoices(methods, options.metrics);
  const metricIds = options.metrics?.length ? [...options.metrics] : defaultMetrics(dataset);
  const metrics = metricIds.map((id) => evalMetricById(id)!);
  if (metricIds.includes('bias') && !options.biasRegion) {
    throw new GradsightError('bad-argument', 'the bias metric needs a region to measure the map mass in', {
      hint: 'give --bias-region x0,y0,x1,y1 (fractions of the width and height, e.g. 0.8,0.8,1,1 for the bottom-right corner) or --bias-region label:watermark (a dataset class)',
    });
  }
  const model = explainer.model;
  const labels = model.labels;
  if (!labels?.length) {
    throw new GradsightError('bad-labels', 'the model has no labels: eval matches dataset classes to them', {
      hint: 'put labels.txt (one class per line) beside the model, or give --labels',
    });
  }
  const classes = mapClasses(dataset.classes, labels, options.classMap);
  const datasetOf = reverseMap(classes);
  const config: RunConfig = {
    model: options.modelName ?? `${model.input.name}->${model.output.name}`,
    dataset: { name: dataset.name, size: dataset.size },
    methods,
    metrics: metricIds,
    layers: options.layers ?? [],
    ...(typeof options.classMap === 'string' ? { classMap: options.classMap } : {}),
    ...(options.biasRegion && metricIds.includes('bias') ? { biasRegion: options.biasRegion } : {}),
  };
  const header: RecordsHeader = {
    format: RECORDS_FORMAT,
    config,
    ...(options.shard ? { shard: options.shard } : {}),
  };
  const opened = await openRecords(options.records, header, options.resume ?? true);
  const limit = options.limit ?? dataset.size;
  const keep = (index: number) => index < limit && inShard(index, options.shard);
  let selected = 0;
  for (let i = 0; i < Math.min(limit, dataset.size); i++) if (inShard(i, options.shard)) selected++;

  const notApplicable: Record<string, string> = {};
  // Metrics that hold models for the whole run (sanity, adversarial), opened at the first image to compute.
  let sessions: Promise<[string, MetricSession][]> | undefined;
  const openSessions = () => {
    sessions ??= Promise.all(
      metrics.flatMap((m) =>
        m.session
          ? [m.session(explainer, methods, options.layers).then((s) => [m.id, s] as [string, MetricSession])]
          : [],
      ),
    );
    return sessions;
  };
  let done = 0;
  let evaluated = 0;
  let resumed = 0;
  let failed = 0;
  let index = -1;
  try {
    for (const sample of dataset.samples()) {
      index++;
      if (index >= limit) break;
      if (!inShard(index, options.shard)) continue;
      options.check?.();
      if (opened.done.has(index)) {
        resumed++;
        options.onImage?.({ done: ++done, total: selected });
        continue;
      }
      let record: ImageRecord;
      try {
        record = await evaluateImage({
          explainer,
          sample,
          index,
          root: dataset.root,
          methods: methods.filter((m) => !(m in notApplicable)),
          metrics,
          classes,
          datasetOf,
          layers: options.layers,
          decode: options.decode,
          memoryBudget: options.memoryBudget,
          notApplicable,
          options: { ...(options.biasRegion ? { biasRegion: options.biasRegion } : {}) },
          sessions: metrics.some((m) => m.session) ? await openSessions() : [],
        });
        evaluated++;
      } catch (e) {
        if (!isGradsightError(e) || !IMAGE_ERRORS.has(e.code)) throw e;
        record = {
          index,
          id: sample.id,
          image: relativeTo(dataset.root, sample.image),
          labels: sample.labels,
          error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) },
        };
        failed++;
      }
      await appendRecords(options.records, [record]);
      options.onImage?.({ done: ++done, total: selected, record });
    }
  } finally {
    for (const [, s] of (await sessions?.catch(() => [])) ?? []) await s.release();
  }
  return { header, selected, evaluated, resumed, failed, keep, notApplicable, metrics: metricIds };
}

/** Errors of one image (its file, its annotation): recorded, and the run goes on. */
const IMAGE_ERRORS = new Set<string>([
  'bad-image',
  'file-not-found',
  'file-unreadable',
  'file-too-large',
  'not-a-regular-file',
  'dataset-image-missing',
  'annotation-invalid',
  'non-finite',
]);

/** model class index → its dataset class (the first that maps to it). */
export function reverseMap(classes: ReadonlyMap<string, readonly number[]>): Map<number, string> {
  const out = new Map<number, string>();
  for (const [label, indices] of classes) for (const i of indices) if (!out.has(i)) out.set(i, label);
  return out;
}

interface ImageJob {
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
  const opts = { target, ...(job.layers?.length ? { layers: job.layers } : {}) };
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

function relativeTo(root: string, path: string): string {
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

/** The results of a records file: the same whether it was written in one run, resumed or merged. */
export async function aggregateFile(path: string, options: AggregateOptions = {}): Promise<EvalResults> {
  let aggregator: Aggregator | undefined;
  const pending: ImageRecord[] = [];
  const header = await readRecords(path, (r) => {
    if (aggregator) aggregator.add(r);
    else pending.push(r);
  });
  aggregator ??= new Aggregator(header.config, options);
  for (const r of pending) aggregator.add(r);
  return aggregator.results();
}
