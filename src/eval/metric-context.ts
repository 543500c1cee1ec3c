// What a metric of the eval table sees and returns (registry.ts holds the table): an image's context
// (ground truth, the model's top 5, the classes explained, the input and a scorer), a method's maps of
// those classes, and the value, curve and reduction definitions the aggregation and the report read.
// Platform-neutral; small helpers shared by the table's entries at the end.

import type { Explainer } from '../explain/explainer.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import type { MethodId } from '../methods/types.ts';
import type { EvalSample, LabelledBox } from './datasets/types.ts';
import {
  boxesOf,
  type ClassTruth,
  classPixels,
  type LabelMask,
  type RelativeBox,
} from './metrics/regions.ts';
import type { InputRow, ScoreKind, Scorer } from './perturbation.ts';

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

export const mean = (xs: readonly number[]): number | null =>
  xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;

/** The ground truth of one class: its mask pixels when the image has a mask with it, else its boxes. */
export function truthOf(ctx: ImageContext, label: string): ClassTruth | undefined {
  if (ctx.mask) {
    const cls = ctx.mask.classes.indexOf(label);
    if (cls > 0) return { mask: classPixels(ctx.mask, cls) };
  }
  const boxes = boxesOf(ctx.boxes, label);
  return boxes.length ? { boxes } : undefined;
}

export const truthMaps = (ctx: MethodContext) => ctx.maps.filter((m) => m.truth && m.label !== undefined);

export const predictedMap = (ctx: MethodContext) => ctx.maps.find((m) => m.predicted);
