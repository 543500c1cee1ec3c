// Sanity checks for saliency maps (Adebayo et al. 2018, "Sanity Checks for Saliency Maps",
// arXiv:1810.03292): a map that explains the model must change when the model's weights are
// randomized. Cascading randomization re-initialises the parameterised layers one after another from
// the logits towards the input, one ONNX model per step (built from the model's own IR), and compares
// each method's map on the randomized model with its map on the original: Spearman's rank correlation
// of the absolute values and of the raw values, and SSIM. The random-logit test compares the map of
// the predicted class with the map of a random other class.

import { create, toBinary } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, type TensorProto, TensorProtoSchema } from 'onnx-buf';
import { mix32, mulberry32, type Rng, streamSeed } from '../../demo/prng.ts';
import { GradsightError } from '../../errors.ts';
import { Explainer, type ExplainOptions, type Explanation } from '../../explain/explainer.ts';
import type { RgbImage } from '../../image/rgb-image.ts';
import type { MethodId } from '../../methods/types.ts';
import { ImageModel } from '../../model/image-model.ts';
import { type Model, modelFromProto, withExternalData } from '../../onnx/index.ts';
import type { Target } from '../../targets/index.ts';
import type { Float32Tensor } from '../../tensor/tensor.ts';
import { type SsimOptions, spearman, ssim } from './similarity.ts';

/** Ops whose float initializer inputs are the learned parameters re-initialised, and which inputs. */
const PARAMETER_INPUTS: Readonly<Record<string, readonly number[]>> = {
  Conv: [1, 2],
  ConvTranspose: [1, 2],
  Gemm: [0, 1, 2],
  MatMul: [0, 1],
  // scale and bias; the running mean and variance are statistics of the data, not weights.
  BatchNormalization: [1, 2],
};

/** One parameterised layer of the model: the node and the initializers it owns. */
export interface ParameterLayer {
  readonly node: string;
  readonly opType: string;
  readonly initializers: readonly string[];
}

/** Step k randomizes `layers` on top of every earlier step's layers (cumulative). */
export interface RandomizationStep {
  /** 1-based: step 1 randomizes the top (logits) layer. */
  readonly step: number;
  /** The layers this step adds, top first. */
  readonly layers: readonly ParameterLayer[];
}

/**
 * The model's parameterised layers from the output towards the input: Conv, ConvTranspose, Gemm,
 * MatMul and BatchNormalization nodes in reverse topological order, each with its float32
 * initializer inputs (an initializer shared by several nodes belongs to the first one met from the top).
 */
export function parameterLayers(model: Model): ParameterLayer[] {
  const g = model.graph;
  const taken = new Set<string>();
  const layers: ParameterLayer[] = [];
  for (const node of [...g.nodes].reverse()) {
    const slots = PARAMETER_INPUTS[node.opType];
    if (!slots) continue;
    const names = slots
      .map((i) => node.inputs[i])
      .filter((n): n is string => !!n && g.initializers.has(n) && !taken.has(n));
    const own = names.filter((n) => {
      const init = g.initializers.get(n)!;
      if (init.dtype === 'float32') return true;
      throw new GradsightError(
        'unsupported-dtype',
        `sanity check: ${node.opType} node '${node.name}' has a ${init.dtype} parameter '${n}'; only float32 weights are re-initialised`,
        { hint: 'convert the model to float32 weights to run the randomization checks' },
      );
    });
    if (own.length === 0) continue;
    for (const n of own) taken.add(n);
    layers.push({ node: node.name, opType: node.opType, initializers: own });
  }
  if (layers.length === 0) {
    throw new GradsightError(
      'method-not-applicable',
      'sanity check: the model has no parameterised layer (Conv, Gemm, MatMul, BatchNormalization with initializer weights) to randomize',
      { hint: 'the cascading randomization needs weights stored as graph initializers' },
    );
  }
  return layers;
}

/**
 * The cascade: one step per layer, or `count` steps of consecutive layers (as equal as possible, the
 * top steps taking the remainder), e.g. to randomize a 100-layer network block-wise.
 */
export function randomizationSteps(
  layers: readonly ParameterLayer[],
  count = layers.length,
): RandomizationStep[] {
  if (!Number.isInteger(count) || count < 1) {
    throw new GradsightError('bad-argument', `sanity check: ${count} randomization steps`, {
      hint: `give a whole number of steps from 1 to ${layers.length}`,
    });
  }
  const n = Math.min(count, layers.length);
  const steps: RandomizationStep[] = [];
  let at = 0;
  for (let s = 0; s < n; s++) {
    const size = Math.floor(layers.length / n) + (s < layers.length % n ? 1 : 0);
    steps.push({ step: s + 1, layers: layers.slice(at, at + size) });
    at += size;
  }
  return steps;
}

/**
 * A re-initialised copy of a parameter: values ~ N(0, σ²) truncated to ±2σ (redrawn outside, as
 * TensorFlow's truncated_normal that the paper's models were initialised with), σ the standard
 * deviation of the original values so each layer keeps its scale; a constant tensor (a zero bias,
 * BatchNorm's initial scale) uses σ = |its value|, or 0.01 when that is 0.
 */
export function reinitialized(values: Float32Array, rng: Rng): Float32Array {
  const n = values.length;
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  let sigma = n > 1 ? Math.sqrt(ss / n) : 0;
  if (!(sigma > 0)) sigma = Math.abs(mean) > 0 ? Math.abs(mean) : 0.01;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let z: number;
    do z = normal(rng);
    while (Math.abs(z) > 2);
    out[i] = sigma * z;
  }
  return out;
}

/** A standard normal draw (Box–Muller). */
function normal(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * The model with every layer of steps 1..`upTo` re-initialised (reinitialized(), seeded per
 * initializer name, so step k's draws for a layer equal step k+1's: the cascade is cumulative). The
 * input model is not changed.
 */
export function randomizedModel(
  model: Model,
  steps: readonly RandomizationStep[],
  upTo: number,
  seed: number,
): { proto: Model['proto']; replaced: ReadonlyMap<string, Float32Array> } {
  const replaced = new Map<string, Float32Array>();
  for (const step of steps.slice(0, upTo)) {
    for (const layer of step.layers) {
      for (const name of layer.initializers) {
        const init = model.graph.initializers.get(name)!;
        const rng = mulberry32(streamSeed(seed, hashName(name), 0));
        replaced.set(name, reinitialized(init.values() as Float32Array, rng));
      }
    }
  }
  const fwd = model.proto.graph!;
  const initializer = fwd.initializer.map((t): TensorProto => {
    const values = replaced.get(t.name);
    if (!values) return t;
    // Always raw little-endian data in the model itself, even where the original was external.
    const raw = new Uint8Array(values.byteLength);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i]!, true);
    return create(TensorProtoSchema, { name: t.name, dims: t.dims, dataType: t.dataType, rawData: raw });
  });
  const proto = create(ModelProtoSchema, {
    ...model.proto,
    graph: create(GraphProtoSchema, { ...fwd, initializer }),
  });
  return { proto, replaced };
}

function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = mix32(h ^ name.charCodeAt(i));
  return h;
}

/** An ImageModel for `proto` with `base`'s preprocessing, input, output, labels and threads. */
async function modelLike(base: ImageModel, proto: Model['proto']): Promise<ImageModel> {
  const bytes = toBinary(ModelProtoSchema, proto);
  const external = base.source.externalData ?? [];
  let model = modelFromProto(proto);
  if (external.length) model = withExternalData(model, new Map(external.map((f) => [f.path, f])));
  return ImageModel.create(
    base.runtime,
    { ...base.source, bytes, model },
    {
      preprocess: { ...base.preprocess },
      output: base.output.name,
      imageInput: base.input.name,
      ...(base.threads !== undefined ? { threads: base.threads } : {}),
      maxInputPixels: base.maxInputPixels,
    },
  );
}

/** How alike a map is to the reference map (the original model's, or the predicted class's). */
export interface MapSimilarity {
  /** Spearman's ρ of the absolute values (NaN when a map is constant). */
  readonly spearmanAbs: number;
  /** Spearman's ρ of the raw (signed) values. */
  readonly spearman: number;
  /** SSIM of the absolute-value maps, each min-max normalized to [0, 1]. */
  readonly ssim: number;
}

/**
 * The plane a map is compared on: a CAM's H×W map as is; a pixel method's [C, H, W] map summed over
 * channels (raw) or summed in absolute value (abs), as Adebayo et al. visualise multi-channel maps.
 */
export function mapPlane(e: Explanation, absolute: boolean): Float32Array {
  if (e.map) return absolute ? e.map.map(Math.abs) : e.map;
  const px = e.pixels!;
  const plane = e.width * e.height;
  const out = new Float32Array(plane);
  for (let c = 0; c < px.length / plane; c++) {
    for (let i = 0; i < plane; i++) {
      const v = px[c * plane + i]!;
      out[i] = out[i]! + (absolute ? Math.abs(v) : v);
    }
  }
  return out;
}

/** Spearman (abs and raw) and SSIM of two explanations of the same image. */
export function compareMaps(a: Explanation, b: Explanation, ssimOptions: SsimOptions = {}): MapSimilarity {
  const absA = mapPlane(a, true);
  const absB = mapPlane(b, true);
  return {
    spearmanAbs: spearman(absA, absB),
    spearman: spearman(mapPlane(a, false), mapPlane(b, false)),
    ssim: ssim(absA, absB, a.width, a.height, ssimOptions),
  };
}

/** One fixed class per image of the batch (index i of `classes` for image i), as a Target. */
export function classPerImage(classes: readonly number[], labels?: readonly string[]): Target {
  return {
    fixed: true,
    rows: (v) => {
      const c = classes[v.image];
      if (c === undefined || c < 0 || c >= v.t.length) {
        throw new GradsightError(
          'bad-argument',
          `class ${c} for image ${v.image} is not one of ${v.t.length}`,
          {
            hint: 'give one class index per image, within the model output',
          },
        );
      }
      const seed = new Float32Array(v.t.length);
      seed[c] = 1;
      const label = labels?.[c] ?? String(c);
      return [{ index: c, label, description: `${label} (${c})`, kind: 'class', seed }];
    },
  };
}

/** Steps of the default cascade: 8 models beside the original (MobileNetV2's 53 convs in blocks of 6–7). */
export const DEFAULT_MAX_STEPS = 8;

export interface SanityOptions {
  /** Methods checked (default Grad-CAM and Guided Backprop, the paper's contrast). */
  readonly methods?: readonly MethodId[];
  /** Seed of the re-initialisation and of the random-logit class (default 0). */
  readonly seed?: number;
  /**
   * Cascade steps (default: one per parameterised layer up to DEFAULT_MAX_STEPS layers; a deeper model
   * is randomized in that many blocks of consecutive layers); see randomizationSteps. Each step is one
   * more model and session held for the whole run.
   */
  readonly steps?: number;
  /** Also run the random-logit test (default true). */
  readonly randomLogit?: boolean;
  /** Other explain() options (layers, normalize, ...), the same for every model. */
  readonly explain?: Omit<ExplainOptions, 'method' | 'target'>;
  readonly ssim?: SsimOptions;
}

export interface CascadeScore extends MapSimilarity {
  readonly method: MethodId;
  readonly step: number;
  /** The last (lowest) layer randomized at this step. */
  readonly layer: string;
}

export interface RandomLogitScore extends MapSimilarity {
  readonly method: MethodId;
  readonly other: number;
}

export interface ImageSanity {
  readonly image: number;
  /** The class explained: the original model's prediction. */
  readonly class: number;
  readonly cascade: readonly CascadeScore[];
  readonly randomLogit: readonly RandomLogitScore[];
}

/**
 * Cascading randomization over a stream of images: the randomized models are built once (lazily,
 * one session each) and reused for every check(); release() frees them (not the original explainer).
 */
export class CascadingRandomization {
  private readonly explainers = new Map<number, Promise<Explainer>>();
  readonly methods: readonly MethodId[];

  private constructor(
    readonly explainer: Explainer,
    readonly steps: readonly RandomizationStep[],
    private readonly options: SanityOptions,
  ) {
    this.methods = options.methods ?? ['gradcam', 'guided-backprop'];
  }

  static create(explainer: Explainer, options: SanityOptions = {}): CascadingRandomization {
    const task = explainer.model.description.task.kind;
    if (task !== 'classification' && task !== 'multi-label') {
      throw new GradsightError(
        'method-not-applicable',
        `sanity checks explain one class per image; this model's output is a ${task} output`,
        { hint: 'run the randomization checks on a classifier (one score per class)' },
      );
    }
    const layers = parameterLayers(explainer.model.model);
    const steps = options.steps ?? Math.min(layers.length, DEFAULT_MAX_STEPS);
    return new CascadingRandomization(explainer, randomizationSteps(layers, steps), options);
  }

  /** The explainer of the model randomized through step `k` (1-based). */
  stepExplainer(k: number): Promise<Explainer> {
    let e = this.explainers.get(k);
    if (!e) {
      const { proto } = randomizedModel(this.explainer.model.model, this.steps, k, this.options.seed ?? 0);
      e = modelLike(this.explainer.model, proto).then((m) => Explainer.fromModel(m));
      this.explainers.set(k, e);
    }
    return e;
  }

  /**
   * The checks for a batch of images (decoded images or a model-input tensor). `ids` (one per image,
   * e.g. the dataset's ids) seed each image's random logit, so a resumed or sharded run draws the
   * same class; by default the position in the batch is used.
   */
  async check(
    input: RgbImage | readonly RgbImage[] | Float32Tensor,
    ids?: readonly string[],
  ): Promise<ImageSanity[]> {
    const methods = [...this.methods];
    const base = this.options.explain ?? {};
    const n = 'dims' in input ? input.dims[0]! : Array.isArray(input) ? input.length : 1;
    if (ids && ids.length !== n) {
      throw new GradsightError('bad-argument', `sanity check: ${ids.length} ids for ${n} images`, {
        hint: 'give one id per image (or none)',
      });
    }
    const original = await this.explainer.explain(input, { ...base, method: methods, target: 'pred' });
    const classes = rowsByImage(original.explanations, methods[0]!).map((e) => e.target.index!);
    const layers = base.layers ?? original.layers.map((l) => l.name);
    const labels = this.explainer.model.labels;
    const fixed = { ...base, method: methods, layers, target: classPerImage(classes, labels) };
    const ref = new Map(methods.map((m) => [m, rowsByImage(original.explanations, m)]));
    const cascade: CascadeScore[][] = classes.map(() => []);
    for (const step of this.steps) {
      const ex = await this.stepExplainer(step.step);
      const r = await ex.explain(input, fixed);
      for (const m of methods) {
        rowsByImage(r.explanations, m).forEach((e, i) => {
          const layer = step.layers[step.layers.length - 1]!.node;
          cascade[i]!.push({
            method: m,
            step: step.step,
            layer,
            ...compareMaps(ref.get(m)![i]!, e, this.options.ssim),
          });
        });
      }
    }
    const logit: RandomLogitScore[][] = classes.map(() => []);
    const outputs = await classCount(this.explainer);
    // A background output (labelOffset 1, e.g. TF-slim's 1001 classes) is not a class to draw.
    const first = Math.min(this.explainer.model.preprocess.labelOffset, outputs - 1);
    if ((this.options.randomLogit ?? true) && outputs - first > 1) {
      const others = classes.map((c, i) => {
        const rng = mulberry32(streamSeed(this.options.seed ?? 0, hashName(ids?.[i] ?? String(i)), 1));
        // Uniform over the classes other than c (c itself may be the background).
        const pool = outputs - first - (c >= first ? 1 : 0);
        const o = first + rng.int(0, pool - 1);
        return c >= first && o >= c ? o + 1 : o;
      });
      const r = await this.explainer.explain(input, { ...fixed, target: classPerImage(others, labels) });
      for (const m of methods) {
        rowsByImage(r.explanations, m).forEach((e, i) => {
          logit[i]!.push({
            method: m,
            other: others[i]!,
            ...compareMaps(ref.get(m)![i]!, e, this.options.ssim),
          });
        });
      }
    }
    return classes.map((c, i) => ({ image: i, class: c, cascade: cascade[i]!, randomLogit: logit[i]! }));
  }

  /** Frees the randomized models' sessions. */
  async release(): Promise<void> {
    const all = [...this.explainers.values()];
    this.explainers.clear();
    for (const e of all) await (await e.catch(() => undefined))?.release();
  }
}

export interface CascadeSummary {
  readonly method: MethodId;
  readonly step: number;
  readonly layer: string;
  readonly images: number;
  /** Means over the images whose value is defined (a constant map has no rank correlation). */
  readonly spearmanAbs: number;
  readonly spearman: number;
  readonly ssim: number;
  /** Images whose ρ (abs) is undefined: the map on the randomized model (or the original) is constant. */
  readonly undefinedRho: number;
}

/** Per method and step, the mean similarity over images (for tables; runs add confidence intervals). */
export function summarizeCascade(results: readonly ImageSanity[]): CascadeSummary[] {
  const groups = new Map<string, CascadeScore[]>();
  for (const r of results) {
    for (const c of r.cascade) {
      const key = `${c.method}|${c.step}`;
      const g = groups.get(key);
      if (g) g.push(c);
      else groups.set(key, [c]);
    }
  }
  const mean = (xs: number[]) => {
    const f = xs.filter(Number.isFinite);
    return f.length ? f.reduce((a, b) => a + b, 0) / f.length : Number.NaN;
  };
  return [...groups.values()].map((g) => ({
    method: g[0]!.method,
    step: g[0]!.step,
    layer: g[0]!.layer,
    images: g.length,
    spearmanAbs: mean(g.map((c) => c.spearmanAbs)),
    spearman: mean(g.map((c) => c.spearman)),
    ssim: mean(g.map((c) => c.ssim)),
    undefinedRho: g.filter((c) => !Number.isFinite(c.spearmanAbs)).length,
  }));
}

/** The model's class count, from its output's (inferred) shape. */
async function classCount(explainer: Explainer): Promise<number> {
  const m = explainer.model;
  const d = (m.output.shape ?? (await m.shapes()).get(m.output.name)?.shape)?.[1];
  if (typeof d === 'number') return d;
  throw new GradsightError('shape-inference', `the class count of output '${m.output.name}' is not known`, {
    hint: 'the random-logit test needs a classifier output [N, classes] of static size',
  });
}

/** The explanations of one method, one per image, in image order. */
function rowsByImage(explanations: readonly Explanation[], method: MethodId): Explanation[] {
  return explanations.filter((e) => e.method === method).sort((a, b) => a.image - b.image);
}
