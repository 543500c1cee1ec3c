// The eval table's map metrics (registry.ts): accuracy, the paper's localization error with its
// baselines and sweep, the pointing games, segmentation seeds, class discrimination and bias. Each
// entry adapts an image's maps (at the image's size) and ground truth to the functions of
// src/eval/metrics/, where the formulas are.

import {
  type EvalMetric,
  type ImageContext,
  type MethodContext,
  mean,
  predictedMap,
  truthMaps,
  truthOf,
  type ValueDef,
} from './metric-context.ts';
import { type BiasRegion, biasRecord } from './metrics/bias.ts';
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
import { boxesOf, boxesToMask } from './metrics/regions.ts';
import {
  classIoU,
  SEED_FRACTION,
  SEED_SWEEP_FRACTIONS,
  type SeedRecord,
  seedIoU,
  seedRecord,
  sumConfusion,
} from './metrics/segmentation-seeds.ts';

export const accuracy: EvalMetric = {
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

export const localization: EvalMetric = {
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

export const pointing: EvalMetric = {
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

export const seeds: EvalMetric = {
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

export const discrimination: EvalMetric = {
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

export const bias: EvalMetric = {
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
