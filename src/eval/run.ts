// `evaluate()`: a dataset streamed through an Explainer, one image at a time, with bounded memory. Per
// image: decode, predict, explain the classes present (and the predicted one) with every method, run
// every metric of the registry on the maps (upsampled to the image's size), append the image's record
// to per-image.jsonl, drop everything else. A rerun skips images the records file already holds; a
// shard runs every n-th sample. Aggregation (aggregate.ts) reads the records back. Node (files).

import { GradsightError, isGradsightError } from '../errors.ts';
import type { Explainer } from '../explain/explainer.ts';
import type { ImageFileOptions } from '../image/limits.ts';
import { METHOD_IDS } from '../methods/table.ts';
import type { MethodId } from '../methods/types.ts';
import { type AggregateOptions, Aggregator, type EvalResults } from './aggregate.ts';
import type { ClassMap } from './datasets/class-map.ts';
import { mapClasses } from './datasets/class-map.ts';
import type { EvalDataset } from './datasets/types.ts';
import {
  appendRecords,
  type ImageRecord,
  inShard,
  openRecords,
  RECORDS_FORMAT,
  type RecordsHeader,
  type RunConfig,
  readRecords,
  type Shard,
} from './records-node.ts';
import {
  type BiasRegionSpec,
  EVAL_METRIC_IDS,
  type EvalMetric,
  evalMetricById,
  type MetricSession,
  meetsNeeds,
} from './registry.ts';
import { evaluateImage, relativeTo, reverseMap } from './run-image.ts';
import { indexedSamples, isSampleError } from './samples.ts';

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
  /** Stops the run inside an image too (between its ONNX Runtime runs): the run rejects with its reason. */
  readonly signal?: AbortSignal;
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
export function defaultMetrics(dataset: EvalDataset, probe = 20, scores = true): string[] {
  const has = { boxes: false, masks: false, twoClasses: false, scores };
  let n = 0;
  for (const { sample: s } of indexedSamples(dataset)) {
    has.boxes ||= s.boxes.length > 0;
    has.masks ||= s.mask !== undefined;
    has.twoClasses ||= s.labels.length > 1;
    if (++n >= probe) break;
  }
  return EVAL_METRICS_DEFAULT()
    .filter((m) => meetsNeeds(m, has))
    .map((m) => m.id);
}

/** Whether the model's output is one score per class and image ([N, K]), what the faithfulness metrics read. */
function scoresClasses(model: Explainer['model']): boolean {
  const kind = model.description.task.kind;
  return kind === 'classification' || kind === 'multi-label' || kind === 'vqa';
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
  const scores = scoresClasses(explainer.model);
  const metricIds = options.metrics?.length ? [...options.metrics] : defaultMetrics(dataset, 20, scores);
  const metrics = metricIds.map((id) => evalMetricById(id)!);
  const needScores = metrics.filter((m) => m.needs.includes('scorer'));
  if (!scores && needScores.length) {
    const kind = explainer.model.description.task.kind;
    throw new GradsightError(
      'method-not-applicable',
      `${needScores.map((m) => m.id).join(', ')} perturb the input and read one class score per image; this ${kind} model's output (${explainer.model.output.name}) has no such score`,
      {
        hint: 'leave these metrics out for segmentation and detection models (the localization, pointing and seed metrics apply)',
      },
    );
  }
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
    dataset: { name: dataset.name, size: dataset.size, ids: sampleIdsHash(dataset) },
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
  try {
    for (const { index, sample } of indexedSamples(dataset)) {
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
          signal: options.signal,
          options: { ...(options.biasRegion ? { biasRegion: options.biasRegion } : {}) },
          sessions: metrics.some((m) => m.session) ? await openSessions() : [],
        });
        evaluated++;
      } catch (e) {
        if (!isGradsightError(e) || !isSampleError(e)) throw e;
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

/**
 * FNV-1a (32-bit) of the dataset's sample ids in order, so a records file is never resumed or merged
 * against another dataset of the same name and size.
 */
export function sampleIdsHash(dataset: EvalDataset): string {
  let h = 0x811c9dc5;
  const add = (text: string) => {
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 10, 0x01000193);
  };
  for (const { sample } of indexedSamples(dataset)) add(sample.id);
  return (h >>> 0).toString(16).padStart(8, '0');
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

export { classesOf, reverseMap } from './run-image.ts';
