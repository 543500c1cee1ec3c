// Scoring a model on modified copies of one input: the perturbation behind Score-CAM (the input
// masked by each channel), Ablation-CAM (the layer with one channel ablated), layer ranking (the
// input masked by each layer's map) and the faithfulness metrics (eval/metrics: confidence,
// deletion/insertion, ROAD, through a Scorer), as pytorch-grad-cam's
// metrics/perturbation_confidence.py serves its metrics. A perturbation is `count` variants made a batch at a time and scored by one
// run per batch; the batch is the largest whose memory fits a budget, estimated from the static
// shapes of the tensors one variant needs (its input plus the peak of the activations alive at once
// while the model runs it).

import { explainedTensor } from '../autodiff/index.ts';
import { GradsightError } from '../errors.ts';
import type { ImageModel } from '../model/image-model.ts';
import { byteSize, type Graph, type ValueInfo } from '../onnx/index.ts';
import { type Feeds, selectFeeds, sliceRows } from '../tensor/rows.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';
import type { Masker } from './mask-model.ts';

/** Default memory for one batch of variants: inputs plus activations (256 MiB). */
export const DEFAULT_PERTURBATION_BUDGET = 256 * 2 ** 20;

export interface Perturbation {
  /** How many variants. */
  readonly count: number;
  /** Variants per run (see batchWithin). */
  readonly batch: number;
  /** Variants [start, start + n) as one batch [n, ...]. */
  make(start: number, n: number): Float32Tensor | Promise<Float32Tensor>;
  /** The scored tensor of a batch, [n, ...]. */
  run(batch: Float32Tensor): Promise<Float32Tensor>;
  /** The scalar of one variant from its row of the scored tensor. */
  score(row: Float32Array): number;
}

/** One score per variant, in order. */
export async function scorePerturbation(p: Perturbation): Promise<Float32Array> {
  const scores = new Float32Array(p.count);
  for (let start = 0; start < p.count; start += p.batch) {
    const n = Math.min(p.batch, p.count - start);
    const out = await p.run(await p.make(start, n));
    const k = out.data.length / n;
    for (let i = 0; i < n; i++) scores[start + i] = p.score(out.data.subarray(i * k, (i + 1) * k));
  }
  return scores;
}

/**
 * Variants per batch: the largest number whose `rowBytes` fit in `budget` (at least 1, at most
 * `count`); 1 for a model exported with batch 1 (its reshapes often hard-code it).
 */
export function batchWithin(budget: number, rowBytes: number, count: number, fixedBatch = false): number {
  if (fixedBatch) return 1;
  const fit = rowBytes > 0 ? Math.floor(budget / rowBytes) : count;
  return Math.max(1, Math.min(count, fit));
}

/**
 * ONNX Runtime's CPU arena holds more than the tensors alive at once: layout reorders (NCHWc copies
 * of convolution inputs and outputs), fused kernels' scratch, and an arena that grows in powers of
 * two. Measured on the shared MobileNetV2, peak RSS grew by 13–18 MB per masked input against an
 * estimate of 9.2 MB of live tensors; the runtime's share is counted twice.
 */
export const RUNTIME_MEMORY_FACTOR = 2;

/**
 * Bytes one variant costs in a run of `graph` from the tensors `from`: the runtime's share
 * (RUNTIME_MEMORY_FACTOR × peakRowBytes) plus `heldBytes`, what the caller holds per variant (the
 * variant itself as made in JS).
 */
export function variantBytes(
  graph: Graph,
  shapes: ReadonlyMap<string, ValueInfo>,
  from: readonly string[],
  heldBytes: number,
): number {
  return RUNTIME_MEMORY_FACTOR * peakRowBytes(graph, shapes, from) + heldBytes;
}

/** Bytes of one batch row of a tensor; 0 when its shape (past the batch axis) is not static. */
function rowBytesOf(info: ValueInfo | undefined): number {
  const shape = info?.shape;
  if (!shape || !info.dtype) return 0;
  let n = byteSize(info.dtype);
  for (const [i, d] of shape.entries()) {
    if (typeof d === 'number') n *= i === 0 ? 1 : d;
    else if (i !== 0) return 0;
  }
  return n;
}

/**
 * Peak bytes per batch row of the tensors alive at once when `graph` runs from the tensors `from`
 * (the variant's input), in topological order: a node's outputs are allocated, then every tensor it
 * read for the last time is freed. Only nodes downstream of `from` count; weights do not (they do not
 * grow with the batch). Tensors of unknown shape count 0, so this is an estimate, not a bound.
 */
export function peakRowBytes(
  graph: Graph,
  shapes: ReadonlyMap<string, ValueInfo>,
  from: readonly string[],
): number {
  const downstream = new Set(from);
  const lastUse = new Map<string, number>();
  const nodes = graph.nodes.filter((n) => {
    if (!n.inputs.some((i) => downstream.has(i))) return false;
    for (const o of n.outputs) downstream.add(o);
    return true;
  });
  nodes.forEach((n, k) => {
    for (const i of n.inputs) if (downstream.has(i)) lastUse.set(i, k);
  });
  const outputs = new Set(graph.outputs.map((o) => o.name));
  let live = from.reduce((s, t) => s + rowBytesOf(shapes.get(t)), 0);
  let peak = live;
  nodes.forEach((n, k) => {
    for (const o of n.outputs) live += rowBytesOf(shapes.get(o));
    peak = Math.max(peak, live);
    for (const i of new Set(n.inputs)) {
      if (lastUse.get(i) === k && !outputs.has(i)) live -= rowBytesOf(shapes.get(i));
    }
  });
  return peak;
}

/**
 * Scores of one class for whole model input rows (one batch row each, in the model's layout,
 * normalized as the model takes them), one score per row. The faithfulness metrics take this: a
 * plain function, so a test can pass an analytic model. `batch`, when present, is how many rows one
 * model run takes within the memory budget: a caller that makes its rows lazily makes this many at a
 * time, so no more than one batch of copies is alive.
 */
export type Scorer = ((inputs: readonly Float32Array[]) => Promise<Float32Array>) & {
  readonly batch?: number;
};

/** What a class scorer reads: the class logit, or its softmax probability over the logits. */
export type ScoreKind = 'logit' | 'softmax';

/** log softmax(row)[c], in float64: finite where the probability underflows float32. */
export function logSoftmaxAt(row: ArrayLike<number>, c: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return row[c]! - max - Math.log(sum);
}

/** The scalar of `kind` for class `c` from a row of logits. */
export function scoreAt(row: ArrayLike<number>, c: number, kind: ScoreKind): number {
  return kind === 'logit' ? row[c]! : Math.exp(logSoftmaxAt(row, c));
}

/**
 * The one loop behind every "score the model on modified copies" in gradsight: variants made a
 * batch at a time (`make`), run (`run`), reduced to one scalar each (`score`). Score-CAM's masked
 * inputs, Ablation-CAM's ablated activations, the layer ranking's masked inputs and the faithfulness
 * metrics' perturbed inputs all go through it.
 */
export class VariantScorer {
  constructor(
    /** Variants per run. */
    readonly batch: number,
    private readonly run: (batch: Float32Tensor) => Promise<Float32Tensor>,
    private readonly score: (row: Float32Array) => number,
  ) {}

  /** Scores of `count` variants, made `batch` at a time by `make(start, n)` as one tensor [n, ...]. */
  variants(count: number, make: Perturbation['make']): Promise<Float32Array> {
    return scorePerturbation({ count, batch: this.batch, make, run: this.run, score: this.score });
  }

  /** Scores of whole rows of dims `rowDims` (copied into one tensor per batch). */
  async rows(inputs: readonly Float32Array[], rowDims: readonly number[]): Promise<Float32Array> {
    const size = rowDims.reduce((p, q) => p * q, 1);
    for (const [i, x] of inputs.entries()) {
      if (x.length !== size) {
        throw new GradsightError(
          'shape-mismatch',
          `input ${i} to score has ${x.length} values; the model's input row [${rowDims.join(', ')}] has ${size}`,
          {
            hint: 'pass perturbed copies of the preprocessed input, one batch row each, in the model layout',
          },
        );
      }
    }
    const buffer = new Float32Array(Math.min(this.batch, inputs.length) * size);
    return this.variants(inputs.length, (start, n) => {
      const data = buffer.subarray(0, n * size);
      for (let i = 0; i < n; i++) data.set(inputs[start + i]!, i * size);
      return { dtype: 'float32', dims: [n, ...rowDims], data };
    });
  }

  /** Scores of one input row x [1, ...] masked by each map [n, h, w], the masks made in ONNX Runtime. */
  masked(masker: Masker, x: Float32Tensor, maps: Float32Tensor): Promise<Float32Array> {
    return this.variants(maps.dims[0]!, (start, n) => masker.apply(sliceRows(maps, start, n), x));
  }

  /** As a Scorer over rows of dims `rowDims`. */
  scorer(rowDims: readonly number[]): Scorer {
    return Object.assign((inputs: readonly Float32Array[]) => this.rows(inputs, rowDims), {
      batch: this.batch,
    });
  }
}

export interface ModelScorerOptions {
  /** The scored tensor of a batch of inputs [n, ...] (default: the model's logits, before softmax). */
  readonly run?: (batch: Float32Tensor) => Promise<Float32Tensor>;
  readonly score: (row: Float32Array) => number;
  /** The graph the runs execute and its shapes, for the memory estimate (default: the model's). */
  readonly graph?: { readonly graph: Graph; readonly shapes: ReadonlyMap<string, ValueInfo> };
  /** Inputs per run (default: as many as fit `memoryBudget`). */
  readonly batchSize?: number;
  /** Bytes of inputs + activations one run may take (default DEFAULT_PERTURBATION_BUDGET). */
  readonly memoryBudget?: number;
  /** The model's other inputs for one row, repeated for every row of a batch. */
  readonly feeds?: Feeds;
}

/** A VariantScorer of inputs to `model`, batched to the memory budget (1 for a fixed-batch model). */
export async function modelScorer(model: ImageModel, o: ModelScorerOptions): Promise<VariantScorer> {
  if (o.batchSize !== undefined && !(Number.isInteger(o.batchSize) && o.batchSize > 0)) {
    throw new GradsightError('bad-argument', `batchSize must be a positive integer, got ${o.batchSize}`, {
      hint: 'give the number of perturbed copies per run (e.g. 32), or leave it out to fit memoryBudget',
    });
  }
  if (o.memoryBudget !== undefined && !(o.memoryBudget > 0 && Number.isFinite(o.memoryBudget))) {
    throw new GradsightError(
      'bad-argument',
      `memoryBudget must be a positive number of bytes, got ${o.memoryBudget}`,
      {
        hint: 'give bytes, e.g. 268435456 for 256 MiB, or leave it out for the default',
      },
    );
  }
  const g = o.graph ?? { graph: model.model.graph, shapes: await model.shapes() };
  const rowSize = model.inputDims(1).reduce((p, q) => p * q, 1);
  const count = Number.MAX_SAFE_INTEGER;
  const batch = model.fixedBatch
    ? 1
    : o.batchSize !== undefined
      ? o.batchSize
      : batchWithin(
          o.memoryBudget ?? DEFAULT_PERTURBATION_BUDGET,
          variantBytes(g.graph, g.shapes, [model.input.name], 4 * rowSize),
          count,
        );
  const logits = explainedTensor(model.model.graph, model.output.name, true);
  const feeds = o.feeds;
  const run =
    o.run ??
    ((b: Float32Tensor) =>
      model.runTensor(b, logits, feeds ? selectFeeds(feeds, Array(b.dims[0]!).fill(0)) : undefined));
  return new VariantScorer(batch, run, o.score);
}

/**
 * The Scorer of class `classIndex` of `model` (its logit, or its softmax probability over the logits:
 * pytorch-grad-cam's ClassifierOutputTarget / ClassifierOutputSoftmaxTarget), batched to the budget.
 */
export async function classScorer(
  model: ImageModel,
  classIndex: number,
  kind: ScoreKind,
  o: Omit<ModelScorerOptions, 'score' | 'run'> = {},
): Promise<Scorer> {
  const classes = model.description.classes;
  if (!Number.isInteger(classIndex) || classIndex < 0 || (classes !== undefined && classIndex >= classes)) {
    throw new GradsightError('bad-argument', `class ${classIndex} is not an output index of the model`, {
      hint: `give a class index in 0..${classes !== undefined ? classes - 1 : 'classes − 1'}`,
    });
  }
  const s = await modelScorer(model, { ...o, score: (row) => scoreAt(row, classIndex, kind) });
  return s.scorer(model.inputDims(1).slice(1));
}

/**
 * One preprocessed input row as the model takes it (no batch axis): [C, H, W] for an NCHW model,
 * [H, W, C] for NHWC. The faithfulness metrics perturb it pixel by pixel (all channels of a pixel
 * together) and hand the copies, in the same layout, to a Scorer.
 */
export interface InputRow {
  readonly data: Float32Array;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly layout: 'NCHW' | 'NHWC';
}

/** Row 0 of a preprocessed batch [1, ...] of `model`, as an InputRow. */
export function inputRowOf(model: ImageModel, batch: Float32Tensor): InputRow {
  const [height, width] = model.spatialOf(batch.dims) as [number, number];
  const channels = (model.preprocess.layout === 'NCHW' ? batch.dims[1] : batch.dims[3])!;
  const size = channels * height * width;
  return { data: batch.data.subarray(0, size), channels, height, width, layout: model.preprocess.layout };
}

/** Offset of channel k of pixel p (row-major, p = y·W + x) and the stride between a pixel's channels. */
export function pixelAddressing(row: InputRow): {
  readonly plane: (k: number) => number;
  readonly step: number;
} {
  const hw = row.height * row.width;
  return row.layout === 'NCHW' ? { plane: (k) => k * hw, step: 1 } : { plane: (k) => k, step: row.channels };
}

/** Checks that a map has one value per pixel of the input row. */
export function checkMapFits(map: Float32Array, row: InputRow, what: string): void {
  if (map.length !== row.height * row.width || row.data.length !== row.channels * row.height * row.width) {
    throw new GradsightError(
      'shape-mismatch',
      `${what}: the map has ${map.length} values and the input row ${row.data.length}, for a ${row.channels}×${row.height}×${row.width} input`,
      {
        hint: "upsample the map to the model's input size (H×W) and pass the preprocessed input row it explains",
      },
    );
  }
  const bad = map.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new GradsightError('non-finite', `${what}: the map's value at pixel ${bad} is ${map[bad]}`, {
      hint: 'the map must be finite to rank pixels; check the explanation for NaN/Inf',
    });
  }
}
