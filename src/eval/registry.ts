// The metric table of `gradsight eval`: one list that drives the CLI's --metrics choices and help, the
// runner (what each metric needs and computes per image), the aggregation (means with confidence
// intervals, curves, dataset-level values), the report and the README's metric table. Each entry calls
// the metric functions of src/eval/metrics/ (formulas there and in docs/metrics.md); this file only
// adapts an image's explanations and ground truth to their arguments. Platform-neutral.
//
// Per image the runner explains, with every method, the model class of each dataset class present
// (the best-scoring of the classes it maps to, or the highest-ranked in the top 5) and the predicted
// class; maps are upsampled to the original image size (bilinear, as pytorch-grad-cam) before a map
// metric sees them, and faithfulness metrics get the map at the model's input size with the input.

import type { Explainer } from '../explain/explainer.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import type { MethodId } from '../methods/types.ts';
import type { EvalSample, LabelledBox } from './datasets/types.ts';
import { type BiasRegion, biasRecord } from './metrics/bias.ts';
import { type ConfidenceChange, camMultConfidence, relativeDrop } from './metrics/confidence.ts';
import { perturbationCurve } from './metrics/deletion-insertion.ts';
import { discriminationOf } from './metrics/discrimination.ts';
import {
  boxBaselineRecord,
  centreBaselineBox,
  fullImageBaselineBox,
  localizationRecord,
  localizationSweep,
  type RankedMap,
  SWEEP_FRACTIONS,
} from './metrics/localization-error.ts';
import { energyPointing, LOC_DELTAS, locDelta, pointingGame } from './metrics/pointing.ts';
import {
  boxesOf,
  boxesToMask,
  type ClassTruth,
  classPixels,
  type LabelMask,
  type RelativeBox,
} from './metrics/regions.ts';
import { ROAD_PERCENTILES, road } from './metrics/road.ts';
import {
  classIoU,
  SEED_FRACTION,
  SEED_SWEEP_FRACTIONS,
  type SeedRecord,
  seedIoU,
  seedRecord,
  sumConfusion,
} from './metrics/segmentation-seeds.ts';
import type { InputRow, ScoreKind, Scorer } from './perturbation.ts';
import { adversarialMetric, sanityMetric } from './session-metrics.ts';

/** What a metric needs of the dataset or the model; an image without it gets no value (null). */
export type MetricNeed = 'boxes' | 'masks' | 'boxes-or-masks' | 'two-classes' | 'scorer' | 'region';

/**
 * Where the bias metric looks: a box in fractions of the width and height (the same place in every
 * image), or the boxes / mask pixels of one dataset class in each image (a watermark, a caption).
 */
export type BiasRegionSpec = { readonly relative: RelativeBox } | { readonly label: string };

/** Options of the metrics that take any. */
export interface MetricOptions {
  readonly biasRegion?: BiasRegionSpec;
}

/** A dataset class present in the image and the model class explained for it. */
export interface ExplainedClass {
  /** The dataset class (undefined for the predicted class when it maps to none). */
  readonly label: string | undefined;
  readonly classIndex: number;
  /** The image's ground-truth class, or only the model's top-1 prediction. */
  readonly truth: boolean;
  /** This is the model's top-1 class. */
  readonly predicted: boolean;
}

/** One image as every metric sees it. */
export interface ImageContext {
  readonly sample: EvalSample;
  readonly width: number;
  readonly height: number;
  readonly labels: readonly string[];
  readonly boxes: readonly LabelledBox[];
  readonly mask: LabelMask | undefined;
  /** The model's top 5: class index, its dataset class (undefined: maps to none), probability. */
  readonly top: readonly {
    readonly index: number;
    readonly label: string | undefined;
    readonly score: number;
  }[];
  readonly explained: readonly ExplainedClass[];
  /** The preprocessed input (model layout, no batch axis). */
  readonly input: InputRow;
  /** A scorer of one class (its softmax probability or logit), batched to the memory budget. */
  readonly scorer: (classIndex: number, kind: ScoreKind) => Promise<Scorer>;
  readonly options: MetricOptions;
}

/** What a metric with a session sees per image: the context, the decoded image, the true model classes. */
export interface SessionContext extends ImageContext {
  readonly image: RgbImage;
  /** Per dataset class present, the model classes it maps to (a VOC "bird" maps to every ImageNet bird). */
  readonly trueClasses: readonly number[];
}

/** A metric's state for a whole run (randomized models, compiled attack gradients), released at the end. */
export interface MetricSession {
  /** Per image: method-free values and per-method values. */
  image(ctx: SessionContext): Promise<{
    readonly model?: MetricOutput;
    readonly methods?: Readonly<Record<string, MetricOutput>>;
  }>;
  release(): Promise<void>;
}

/** A method's maps of the explained classes. */
export interface MethodMap extends ExplainedClass {
  /** At the original image size (width × height). */
  readonly map: Float32Array;
  /** As computed, at the model's input size (input.width × input.height). */
  readonly modelMap: Float32Array;
}

export interface MethodContext extends ImageContext {
  readonly method: string;
  readonly maps: readonly MethodMap[];
}

/** A per-image value: its mean over images (with a 95% interval) is the dataset's value. */
export interface ValueDef {
  readonly key: string;
  readonly title: string;
  readonly better: 'higher' | 'lower';
  /** Shown ×100 with a % sign. */
  readonly percent?: boolean;
  /**
   * The metric's graded value (not a 0/1 hit): its per-class bars and histogram are drawn, and the
   * first chosen metric's ranks the gallery's best and worst images.
   */
  readonly primary?: boolean;
}

/** A per-image curve over fixed x values; its mean over images is plotted. */
export interface CurveDef {
  readonly key: string;
  readonly title: string;
  /** The x of each point; absent: evenly from 0 to 1 (as many as the curves have). */
  readonly x?: readonly number[];
  readonly xLabel: string;
  readonly yLabel: string;
}

export interface MetricOutput {
  readonly values?: Readonly<Record<string, number | null>>;
  readonly curves?: Readonly<Record<string, readonly number[]>>;
  /** Small per-image data a dataset-level reduction reads (confusion counts). */
  readonly data?: unknown;
}

/** A dataset-level value computed from every image's `data` (mIoU from summed confusions). */
export interface Reduction {
  readonly key: string;
  readonly title: string;
  readonly better: 'higher' | 'lower';
  readonly percent?: boolean;
  add(data: unknown): void;
  result(): number;
}

export interface EvalMetric {
  readonly id: string;
  readonly title: string;
  /** One line for the CLI help and the docs table. */
  readonly summary: string;
  readonly paper: string;
  readonly needs: readonly MetricNeed[];
  /** In the default --metrics when the dataset meets its needs. */
  readonly byDefault: boolean;
  /** Values that do not depend on the method (accuracy, baselines). */
  readonly modelValues?: readonly ValueDef[];
  readonly values?: readonly ValueDef[];
  readonly curves?: readonly CurveDef[];
  /** Per image, once: the method-free values. */
  image?(ctx: ImageContext): MetricOutput | Promise<MetricOutput>;
  /** Per image and method. */
  method?(ctx: MethodContext): MetricOutput | Promise<MetricOutput>;
  /** A fresh dataset-level reduction per method. */
  reduce?(classes: number): readonly Reduction[];
  /** Metrics that hold models across images (sanity checks, attacks): opened once per run. */
  session?(
    explainer: Explainer,
    methods: readonly MethodId[],
    layers: readonly string[] | undefined,
  ): Promise<MetricSession>;
  /** A value on which methods compete per image: Win % = share of images where the method is best. */
  readonly win?: { readonly key: string; readonly title: string; readonly lowerWins: boolean };
}

const mean = (xs: readonly number[]): number | null =>
  xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;

/** The ground truth of one class: its mask pixels when the image has a mask with it, else its boxes. */
function truthOf(ctx: ImageContext, label: string): ClassTruth | undefined {
  if (ctx.mask) {
    const cls = ctx.mask.classes.indexOf(label);
    if (cls > 0) return { mask: classPixels(ctx.mask, cls) };
  }
  const boxes = boxesOf(ctx.boxes, label);
  return boxes.length ? { boxes } : undefined;
}

const truthMaps = (ctx: MethodContext) => ctx.maps.filter((m) => m.truth && m.label !== undefined);

const predictedMap = (ctx: MethodContext) => ctx.maps.find((m) => m.predicted);

const accuracy: EvalMetric = {
  id: 'accuracy',
  title: 'Classification accuracy',
  summary: 'top-1 / top-5: a predicted class maps to a class present in the image',
  paper: 'ILSVRC',
  needs: [],
  byDefault: true,
  modelValues: [
    { key: 'accuracy.top1', title: 'top-1 accuracy', better: 'higher', percent: true },
    { key: 'accuracy.top5', title: 'top-5 accuracy', better: 'higher', percent: true },
  ],
  image: (ctx) => {
    const rank = ctx.top.findIndex((t) => t.label !== undefined && ctx.labels.includes(t.label));
    return {
      values: { 'accuracy.top1': rank === 0 ? 1 : 0, 'accuracy.top5': rank >= 0 && rank < 5 ? 1 : 0 },
    };
  },
};

/** The top-5 as RankedMaps: the method's map for a ground-truth class, an unused map for the others. */
function rankedMaps(ctx: MethodContext): RankedMap[] {
  const none = new Float32Array(ctx.width * ctx.height);
  return ctx.top.map((t) => {
    const m = ctx.maps.find((x) => x.classIndex === t.index);
    return { label: t.label, map: m?.map ?? none };
  });
}

const localization: EvalMetric = {
  id: 'localization',
  title: 'Localization error',
  summary:
    "the Grad-CAM paper's ILSVRC protocol: box around the largest segment ≥ 15% of the max, right class and IoU ≥ 0.5; threshold sweep; centre-box and full-image baselines",
  paper: 'Selvaraju et al. 2017, Table 1',
  needs: ['boxes'],
  byDefault: true,
  modelValues: [
    { key: 'localization.centreTop1', title: 'centre box, top-1 loc. error', better: 'lower', percent: true },
    { key: 'localization.fullTop1', title: 'full image, top-1 loc. error', better: 'lower', percent: true },
  ],
  values: [
    { key: 'localization.top1', title: 'top-1 loc. error', better: 'lower', percent: true },
    { key: 'localization.top5', title: 'top-5 loc. error', better: 'lower', percent: true },
    { key: 'localization.iou', title: 'box IoU (true class)', better: 'higher', primary: true },
  ],
  curves: [
    {
      key: 'localization.sweep',
      title: 'top-1 localization error by threshold',
      x: SWEEP_FRACTIONS,
      xLabel: 'threshold (fraction of max)',
      yLabel: 'top-1 loc. error',
    },
  ],
  image: (ctx) => {
    if (!ctx.boxes.length) return {};
    const truth = { labels: ctx.labels, boxes: ctx.boxes };
    const labels = ctx.top.map((t) => t.label);
    const err = (box: ReturnType<typeof fullImageBaselineBox>) =>
      boxBaselineRecord(labels, box, truth).localizedAt === 1 ? 0 : 1;
    return {
      values: {
        'localization.centreTop1': err(centreBaselineBox(ctx.width, ctx.height)),
        'localization.fullTop1': err(fullImageBaselineBox(ctx.width, ctx.height)),
      },
    };
  },
  method: (ctx) => {
    if (!ctx.boxes.length) return {};
    const truth = { labels: ctx.labels, boxes: ctx.boxes };
    const ranked = rankedMaps(ctx);
    const r = localizationRecord(ranked, ctx.width, ctx.height, truth);
    const sweep = localizationSweep(ranked, ctx.width, ctx.height, truth);
    // The IoU of the true class's box whatever the prediction (the first ground-truth class explained).
    const first = truthMaps(ctx).find((m) => boxesOf(ctx.boxes, m.label!).length);
    // Its box is among the ranks' when its class is in the top 5 (the same map): computed once.
    const inTop =
      first &&
      r.ranks.find(
        (x, i) => x.correctClass && x.label === first.label && ctx.top[i]?.index === first.classIndex,
      );
    const iou = !first
      ? null
      : inTop
        ? inTop.iou
        : (localizationRecord([{ label: first.label, map: first.map }], ctx.width, ctx.height, truth).ranks[0]
            ?.iou ?? 0);
    return {
      values: {
        'localization.top1': r.localizedAt === 1 ? 0 : 1,
        'localization.top5': r.localizedAt !== null && r.localizedAt <= 5 ? 0 : 1,
        'localization.iou': iou,
      },
      curves: { 'localization.sweep': sweep.map((p) => (p.localizedAt === 1 ? 0 : 1)) },
    };
  },
};

const pointing: EvalMetric = {
  id: 'pointing',
  title: 'Pointing game',
  summary:
    "map maximum within 15 px of the class (Zhang et al.); energy inside the class (Score-CAM's energy pointing); Grad-CAM++'s Loc(δ); mean over the classes present",
  paper: 'Zhang et al. 2016; Wang et al. 2020; Chattopadhay et al. 2018',
  needs: ['boxes-or-masks'],
  byDefault: true,
  values: [
    { key: 'pointing.hit', title: 'pointing game', better: 'higher', percent: true },
    { key: 'pointing.energy', title: 'energy pointing', better: 'higher', percent: true, primary: true },
    ...LOC_DELTAS.slice(1).map(
      (d): ValueDef => ({ key: `pointing.loc${d}`, title: `Loc(δ=${d})`, better: 'higher', percent: true }),
    ),
  ],
  method: (ctx) => {
    const hits: number[] = [];
    const energy: number[] = [];
    const locs = LOC_DELTAS.slice(1).map(() => [] as number[]);
    for (const m of truthMaps(ctx)) {
      const truth = truthOf(ctx, m.label!);
      if (!truth) continue;
      hits.push(pointingGame(m.map, ctx.width, ctx.height, truth).hit ? 1 : 0);
      energy.push(energyPointing(m.map, ctx.width, ctx.height, truth));
      LOC_DELTAS.slice(1).forEach((d, i) => {
        locs[i]!.push(locDelta(m.map, ctx.width, ctx.height, truth, d));
      });
    }
    return {
      values: {
        'pointing.hit': mean(hits),
        'pointing.energy': mean(energy),
        ...Object.fromEntries(LOC_DELTAS.slice(1).map((d, i) => [`pointing.loc${d}`, mean(locs[i]!)])),
      },
    };
  },
};

/** The seed maps of the classes present that the mask has. */
function seedMaps(ctx: MethodContext): { cls: number; map: Float32Array }[] {
  const mask = ctx.mask!;
  return truthMaps(ctx).flatMap((m) => {
    const cls = mask.classes.indexOf(m.label!);
    return cls > 0 ? [{ cls, map: m.map }] : [];
  });
}

const seeds: EvalMetric = {
  id: 'seeds',
  title: 'Segmentation seeds',
  summary:
    'each class present: its map at ≥ 20% of the max as a seed mask; IoU with the class mask (void ignored), dataset mIoU, threshold sweep',
  paper: 'Selvaraju et al. 2017, §6 (seeds for SEC)',
  needs: ['masks'],
  byDefault: true,
  values: [
    { key: 'seeds.iou', title: `seed IoU (${SEED_FRACTION * 100}% of max)`, better: 'higher', primary: true },
  ],
  curves: [
    {
      key: 'seeds.sweep',
      title: 'seed IoU by threshold',
      x: SEED_SWEEP_FRACTIONS,
      xLabel: 'threshold (fraction of max)',
      yLabel: 'mean seed IoU',
    },
  ],
  method: (ctx) => {
    if (!ctx.mask) return {};
    const maps = seedMaps(ctx);
    if (!maps.length) return {};
    const iouAt = (fraction: number) =>
      mean(maps.map((m) => seedIoU(m.map, ctx.mask!, m.cls, fraction).iou).filter((v) => !Number.isNaN(v))) ??
      0;
    return {
      values: { 'seeds.iou': iouAt(SEED_FRACTION) },
      curves: { 'seeds.sweep': SEED_SWEEP_FRACTIONS.map(iouAt) },
      data: seedRecord(maps, ctx.mask),
    };
  },
  reduce: (classes) => {
    // The dataset's confusion matrix, summed image by image (the records are not kept).
    const confusion = new Float64Array(classes * classes);
    const miou = (background: boolean) => () => {
      const kept = [...classIoU(confusion, classes)]
        .slice(background ? 0 : 1)
        .filter((v) => !Number.isNaN(v));
      return kept.length ? kept.reduce((a, b) => a + b, 0) / kept.length : Number.NaN;
    };
    return [
      {
        key: 'seeds.mIoU',
        title: 'mIoU (background included)',
        better: 'higher',
        add: (d) => {
          const one = sumConfusion([d as SeedRecord], classes);
          for (let i = 0; i < one.length; i++) confusion[i]! += one[i]!;
        },
        result: miou(true),
      },
      {
        key: 'seeds.mIoUForeground',
        title: 'mIoU (foreground classes)',
        better: 'higher',
        add: () => {},
        result: miou(false),
      },
    ];
  },
};

const discrimination: EvalMetric = {
  id: 'discrimination',
  title: 'Class discrimination',
  summary:
    "images with several classes: the share of the explained class's map mass in its own region against the other classes' regions",
  paper: 'Selvaraju et al. 2017, §5.1 (automatic)',
  needs: ['two-classes'],
  byDefault: true,
  values: [
    {
      key: 'discrimination.ownShare',
      title: 'own-class share',
      better: 'higher',
      percent: true,
      primary: true,
    },
    { key: 'discrimination.win', title: 'own share > ½', better: 'higher', percent: true },
  ],
  method: (ctx) => {
    if (ctx.labels.length < 2) return {};
    const shares: number[] = [];
    for (const m of truthMaps(ctx)) {
      const r = discriminationOf(m.map, ctx.width, ctx.height, m.label!, {
        boxes: ctx.boxes,
        ...(ctx.mask ? { mask: ctx.mask } : {}),
      });
      if (r && !Number.isNaN(r.ownShare)) shares.push(r.ownShare);
    }
    const s = mean(shares);
    return {
      values: {
        'discrimination.ownShare': s,
        'discrimination.win': shares.length ? mean(shares.map((v) => (v > 0.5 ? 1 : 0))) : null,
      },
    };
  },
};

/** The bias region of one image, or undefined when the image has none (no box of the class). */
function biasRegionOf(ctx: ImageContext): BiasRegion | undefined {
  const spec = ctx.options.biasRegion;
  if (!spec) return undefined;
  if ('relative' in spec) return { relative: spec.relative };
  const truth = truthOf(ctx, spec.label);
  if (!truth) return undefined;
  return { mask: truth.mask ?? boxesToMask(truth.boxes ?? [], ctx.width, ctx.height) };
}

const bias: EvalMetric = {
  id: 'bias',
  title: 'Bias',
  summary:
    "the share of the predicted class's map mass inside a given region (--bias-region: a fixed box, or a dataset class such as a watermark), per class; classes whose share is ≥ 5× the region's area are flagged",
  paper: 'Selvaraju et al. 2017, §7',
  needs: ['region'],
  byDefault: false,
  values: [
    { key: 'bias.share', title: 'map mass in the region', better: 'lower', percent: true, primary: true },
    { key: 'bias.area', title: 'region area', better: 'lower', percent: true },
  ],
  method: (ctx) => {
    const m = predictedMap(ctx);
    const region = biasRegionOf(ctx);
    if (!m || !region) return {};
    const r = biasRecord(m.map, ctx.width, ctx.height, region);
    return { values: { 'bias.share': r.share, 'bias.area': r.area } };
  },
};

const confidence: EvalMetric = {
  id: 'confidence',
  title: 'Confidence under the map',
  summary:
    "the input × the map of the predicted class, scored again (softmax): Average Drop, Increase in Confidence and Win (Grad-CAM++); pytorch-grad-cam's confidence change",
  paper: 'Chattopadhay et al. 2018, §5.1',
  needs: ['scorer'],
  byDefault: false,
  values: [
    { key: 'confidence.drop', title: 'Average Drop', better: 'lower', percent: true, primary: true },
    { key: 'confidence.increase', title: 'Increase in Confidence', better: 'higher', percent: true },
    { key: 'confidence.change', title: 'confidence change', better: 'higher' },
  ],
  win: { key: 'confidence.drop', title: 'Win', lowerWins: true },
  method: async (ctx) => {
    const m = predictedMap(ctx);
    if (!m) return {};
    const scorer = await ctx.scorer(m.classIndex, 'softmax');
    const [c] = (await camMultConfidence(scorer, ctx.input, [m.modelMap])) as [ConfidenceChange];
    return {
      values: {
        'confidence.drop': c.clean > 0 ? relativeDrop(c.clean, c.masked) : null,
        'confidence.increase': c.masked > c.clean ? 1 : 0,
        'confidence.change': c.change,
      },
    };
  },
};

/** Deletion or insertion of the predicted class's map (RISE): AUC of the softmax score, and the curve. */
function curveMetric(mode: 'deletion' | 'insertion'): EvalMetric {
  const deletion = mode === 'deletion';
  return {
    id: mode,
    title: deletion ? 'Deletion' : 'Insertion',
    summary: deletion
      ? "pixels removed most relevant first (one row's worth per step, to zero): area under the class probability, lower is better"
      : 'pixels inserted most relevant first into a blurred input: area under the class probability, higher is better',
    paper: 'Petsiuk et al. 2018 (RISE)',
    needs: ['scorer'],
    byDefault: false,
    values: [
      { key: `${mode}.auc`, title: `${mode} AUC`, better: deletion ? 'lower' : 'higher', primary: true },
    ],
    curves: [
      {
        key: `${mode}.curve`,
        title: `${deletion ? 'Deletion' : 'Insertion'} curve`,
        xLabel: `fraction of pixels ${deletion ? 'removed' : 'inserted'}`,
        yLabel: 'class probability',
      },
    ],
    method: async (ctx) => {
      const m = predictedMap(ctx);
      if (!m) return {};
      const c = await perturbationCurve(
        await ctx.scorer(m.classIndex, 'softmax'),
        ctx.input,
        m.modelMap,
        mode,
      );
      return { values: { [`${mode}.auc`]: c.auc }, curves: { [`${mode}.curve`]: [...c.scores] } };
    },
  };
}

const roadMetric: EvalMetric = {
  id: 'road',
  title: 'ROAD',
  summary:
    "RemOve And Debias (pytorch-grad-cam's definition): pixels above / below each percentile imputed by noisy linear imputation; the class probability's change, most- and least-relevant first",
  paper: 'Rong et al. 2022',
  needs: ['scorer'],
  byDefault: false,
  values: [
    { key: 'road.morf', title: 'ROAD MoRF change', better: 'lower' },
    { key: 'road.lerf', title: 'ROAD LeRF change', better: 'higher' },
    { key: 'road.combined', title: 'ROAD combined', better: 'higher', primary: true },
  ],
  curves: [
    {
      key: 'road.morfCurve',
      title: 'ROAD, most relevant first',
      x: ROAD_PERCENTILES,
      xLabel: 'percentile removed',
      yLabel: 'probability change',
    },
    {
      key: 'road.lerfCurve',
      title: 'ROAD, least relevant first',
      x: ROAD_PERCENTILES,
      xLabel: 'percentile removed',
      yLabel: 'probability change',
    },
  ],
  method: async (ctx) => {
    const m = predictedMap(ctx);
    if (!m) return {};
    const r = await road(await ctx.scorer(m.classIndex, 'softmax'), ctx.input, m.modelMap);
    return {
      values: { 'road.morf': r.morf.mean, 'road.lerf': r.lerf.mean, 'road.combined': r.combined },
      curves: { 'road.morfCurve': r.morf.changes, 'road.lerfCurve': r.lerf.changes },
    };
  },
};

/** Every metric, in the order of the CLI help, results.json, the report and the docs. */
export const EVAL_METRICS: readonly EvalMetric[] = [
  accuracy,
  localization,
  pointing,
  seeds,
  discrimination,
  bias,
  confidence,
  curveMetric('deletion'),
  curveMetric('insertion'),
  roadMetric,
  sanityMetric,
  adversarialMetric,
];

export const EVAL_METRIC_IDS: readonly string[] = EVAL_METRICS.map((m) => m.id);

export function evalMetricById(id: string): EvalMetric | undefined {
  return EVAL_METRICS.find((m) => m.id === id);
}

/** Whether a dataset whose first samples have boxes / masks / several classes meets the metric's needs. */
export function meetsNeeds(
  metric: EvalMetric,
  has: {
    readonly boxes: boolean;
    readonly masks: boolean;
    readonly twoClasses: boolean;
    readonly region?: boolean;
  },
): boolean {
  return metric.needs.every((n) =>
    n === 'boxes'
      ? has.boxes
      : n === 'masks'
        ? has.masks
        : n === 'boxes-or-masks'
          ? has.boxes || has.masks
          : n === 'two-classes'
            ? has.twoClasses && (has.boxes || has.masks)
            : n === 'region'
              ? has.region === true
              : true,
  );
}

/** The metric table as Markdown (README, docs), generated, never by hand. */
export function metricTableMarkdown(): string {
  const rows = EVAL_METRICS.map((m) => {
    const values = [...(m.modelValues ?? []), ...(m.values ?? [])].map((v) => v.title);
    if (m.win) values.push(m.win.title);
    for (const r of m.reduce?.(2) ?? []) values.push(r.title);
    const cell = (t: string) => t.replace(/\|/g, '\\|');
    return `| \`${m.id}\` | ${cell(m.summary)} | ${cell(values.join('; '))} | ${m.needs.join(', ') || '—'} | ${m.byDefault ? 'yes' : ''} | ${m.paper} |`;
  });
  return [
    '| id | what it measures | values | needs | default | paper |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
