// The one entry point: `const ex = Explainer.fromModel(model); const r = await ex.explain(images,
// { method: 'gradcam', target: 'top:3' })`. It resolves targets into rows, runs what the requested
// methods need once (one batched gradient run for all rows and layers), and returns typed results.

import { type RuleSetName, resolveTarget } from '../autodiff/index.ts';
import { GradsightError } from '../errors.ts';
import type { Box } from '../eval/localization.ts';
import { imagesToBatch } from '../image/preprocess.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { fuseLayers, type Normalization } from '../methods/pipeline.ts';
import { METHOD_IDS, methodById } from '../methods/table.ts';
import type { Method, MethodId, MethodResult } from '../methods/types.ts';
import { GradientRunner } from '../model/gradient-runner.ts';
import type { ImageModel } from '../model/image-model.ts';
import { findLayer, type LayerInfo } from '../model/layers.ts';
import { type Prediction, rankOutput } from '../model/predict.ts';
import { parseTarget, resolveTargets, type TargetRow, type TargetSpec } from '../targets/index.ts';
import { type Float32Tensor, softmax } from '../tensor/tensor.ts';
import { ExplainContext, type RunnerOptions } from './context.ts';
import { type Diagnostic, diagnose } from './diagnose.ts';

export interface ExplainOptions {
  /** One method or several (default 'gradcam'). */
  readonly method?: MethodId | readonly MethodId[];
  /** What to explain (default: the predicted class). Strings as the CLI takes them: pred, top:3, 281, label, a-vs-b. */
  readonly target?: string | TargetSpec | readonly (string | TargetSpec)[];
  /** Target layers for the CAM methods (default: the model's default layer). */
  readonly layers?: readonly string[];
  /** Explain −y: regions whose removal raises the target (the paper's counterfactual). */
  readonly counterfactual?: boolean;
  readonly normalize?: Normalization;
  /** SmoothGrad-style averaging over noisy copies of the input: samples and σ as a fraction of the input range. */
  readonly smooth?: { readonly samples: number; readonly noise: number; readonly seed?: number };
  /** Images per forward batch for Score-CAM and Ablation-CAM (default 32). */
  readonly batchSize?: number;
  /** Explain another output or tensor than the first output. */
  readonly targetOutput?: string;
  /**
   * Rule set for the layer gradients the CAM methods use (default 'standard'; 'guided' gives
   * guided-gradient weights, as tf-explain's GradCAM does). Pixel methods fix their own rules.
   */
  readonly rule?: RuleSetName;
}

export interface TargetInfo {
  readonly index: number | undefined;
  readonly label: string;
  readonly description: string;
  readonly kind: TargetSpec['kind'];
  readonly counterfactual: boolean;
  /** The explained scalar at the unmodified input. */
  readonly score: number;
  /** Softmax probability of `index` (classifiers). */
  readonly probability: number | undefined;
}

export interface Explanation {
  readonly image: number;
  readonly target: TargetInfo;
  readonly method: MethodId;
  readonly layers: readonly string[];
  readonly width: number;
  readonly height: number;
  /** CAM methods: the final map at input resolution (H×W), normalised as asked. */
  readonly map?: Float32Array;
  /** Pixel methods (Guided Backprop, Deconvnet, Guided Grad-CAM): the raw [3, H, W] map. */
  readonly pixels?: Float32Array;
  readonly diagnostic?: Diagnostic;
  /** Detection targets: the explained detection; its box in model-input pixels, continuous edges (detect/types.ts). */
  readonly detection?: {
    readonly box: Box;
    readonly classIndex: number;
    readonly label: string;
    readonly score: number;
  };
}

export interface ExplainResult {
  /** Top-5 predictions per image. */
  readonly predictions: readonly Prediction[];
  readonly layers: readonly LayerInfo[];
  /** The differentiated tensor. */
  readonly target: string;
  readonly explanations: readonly Explanation[];
  readonly seconds: number;
}

export class Explainer {
  /** Compiled gradient models and their sessions, reused by later explain() calls. */
  private readonly runners = new Map<string, Promise<GradientRunner>>();

  constructor(readonly model: ImageModel) {}

  private runner(options: RunnerOptions): Promise<GradientRunner> {
    const key = JSON.stringify({ ...options, ruleSet: options.ruleSet?.name ?? 'standard' });
    let r = this.runners.get(key);
    if (!r) {
      r = GradientRunner.create(this.model, options, this.model.threads);
      this.runners.set(key, r);
      r.catch(() => this.runners.delete(key));
    }
    return r;
  }

  static fromModel(model: ImageModel): Explainer {
    return new Explainer(model);
  }

  /**
   * Opens a model by path (Node) — `await Explainer.load('model.onnx')`. The loader is imported on
   * demand so that browser bundles of this class never pull in Node's file system.
   */
  static async load(
    path: string,
    options: import('../model/open-node.ts').OpenOptions = {},
  ): Promise<Explainer> {
    const { loadExplainer } = await import('./load-node.ts');
    return loadExplainer(path, options);
  }

  async release(): Promise<void> {
    for (const r of this.runners.values()) await (await r.catch(() => undefined))?.release();
    this.runners.clear();
    await this.model.release();
  }

  /** Explains decoded images (resized and normalised with the model's preprocessing) or a ready input tensor. */
  async explain(
    input: RgbImage | readonly RgbImage[] | Float32Tensor,
    options: ExplainOptions = {},
  ): Promise<ExplainResult> {
    const t0 = performance.now();
    const batch =
      'dims' in input
        ? input
        : imagesToBatch(Array.isArray(input) ? input : [input as RgbImage], this.model.preprocess);
    const methods = methodList(options.method);
    const layers = await this.layersFor(methods, options.layers);
    const g = this.model.model.graph;
    const target = resolveTarget(g, options.targetOutput ?? this.model.output.name, true);
    const images = batch.dims[0]!;
    const [height, width] = batch.dims.slice(-2) as [number, number];

    // One forward run gives the scores the targets are chosen from (e.g. top-k).
    const values = await this.model.runTensor(batch, target);
    const rowDims = values.dims.slice(1);
    const specs = targetSpecs(options.target);
    const rows = resolveTargets(specs, {
      output: values.data,
      images,
      rowDims,
      labels: this.model.labels,
      counterfactual: options.counterfactual ?? false,
    });
    const predictions = rankOutput(values, { top: 5, labels: this.model.labels, outputIsProbability: false });

    const samples = options.smooth?.samples ?? 1;
    const expanded = expandRows(batch, values, rows, samples, options.smooth);
    const results = new Map<MethodId, Promise<MethodResult>>();
    const finals = new Map<MethodId, Promise<Float32Tensor>>();
    const normalize = options.normalize ?? 'per-image';
    const ctx: ExplainContext = new ExplainContext({
      model: this.model,
      target,
      layers: layers.map((l) => l.name),
      input: expanded.input,
      forward: forwardPlan(batch, rows, samples, expanded.input),
      rows: expanded.rows,
      targetValues: expanded.values,
      batchSize: options.batchSize ?? 32,
      rule: options.rule ?? 'standard',
      finalMap: (id) => finalOf(id),
      runner: (o) => this.runner(o),
    });
    const resultOf = (id: MethodId): Promise<MethodResult> => {
      let p = results.get(id);
      if (!p) {
        p = methodById(id)!
          .compute(ctx)
          .then((r) => averageSamples(r, samples));
        results.set(id, p);
      }
      return p;
    };
    const finalOf = (id: MethodId): Promise<Float32Tensor> => {
      let p = finals.get(id);
      if (!p) {
        p = resultOf(id).then((r) => {
          if (r.kind !== 'cam') throw new Error(`${id} has no CAM map`);
          return fuseLayers(r.perLayer, height, width, normalize);
        });
        finals.set(id, p);
      }
      return p;
    };

    const explanations: Explanation[] = [];
    try {
      await ctx.prepare();
      for (const method of methods) {
        const r = await resultOf(method.id);
        const final = r.kind === 'cam' ? await finalOf(method.id) : undefined;
        for (let i = 0; i < rows.length; i++) {
          const row = rows[i]!;
          const plane = height * width;
          const map = final?.data.slice(i * plane, (i + 1) * plane);
          const pixels =
            r.kind === 'pixels' ? r.pixels.data.slice(i * 3 * plane, (i + 1) * 3 * plane) : undefined;
          const info = targetInfo(row, values, rowDims);
          const diagnostic = diagnose({
            method: method.id,
            map: map ?? pixels!,
            rawCams: r.kind === 'cam' ? [...r.perLayer.values()].map((c) => rowSlice(c, i)) : [],
            gradients: method.needs.gradients
              ? await Promise.all(layers.map(async (l) => rowSlice(await ctx.gradients(l.name), i * samples)))
              : [],
            // Saturation explains a zero gradient only when the explained scalar is the probability.
            probability: row.kind === 'probability' ? info.probability : undefined,
            counterfactual: row.counterfactual,
          });
          explanations.push({
            image: row.image,
            target: info,
            method: method.id,
            layers: method.output === 'cam' || method.needs.finalMapOf ? layers.map((l) => l.name) : [],
            width,
            height,
            ...(map ? { map } : {}),
            ...(pixels ? { pixels } : {}),
            ...(diagnostic ? { diagnostic } : {}),
          });
        }
      }
    } finally {
      await ctx.release();
    }
    return { predictions, layers, target, explanations, seconds: (performance.now() - t0) / 1000 };
  }

  private async layersFor(
    methods: readonly Method[],
    names: readonly string[] | undefined,
  ): Promise<LayerInfo[]> {
    const needsLayers = methods.some((m) => m.output === 'cam' || m.needs.finalMapOf);
    if (!needsLayers) return [];
    const all = await this.model.layers();
    if (!names?.length) return [await this.model.defaultLayer()];
    return names.map((n) => findLayer(all, n));
  }
}

function methodList(m: ExplainOptions['method']): Method[] {
  const ids = m === undefined ? ['gradcam'] : typeof m === 'string' ? [m] : [...m];
  if (ids.length === 0)
    throw new GradsightError('bad-argument', 'no method given', {
      hint: `methods: ${METHOD_IDS.join(', ')}`,
    });
  return ids.map((id) => {
    const method = methodById(id);
    if (!method) {
      throw new GradsightError('bad-argument', `unknown method ${JSON.stringify(id)}`, {
        hint: `methods: ${METHOD_IDS.join(', ')}`,
      });
    }
    return method;
  });
}

function targetSpecs(t: ExplainOptions['target']): TargetSpec[] {
  if (t === undefined) return [{ kind: 'predicted' }];
  const list =
    typeof t === 'string' || !Array.isArray(t)
      ? [t as string | TargetSpec]
      : (t as readonly (string | TargetSpec)[]);
  return list.map((x) => (typeof x === 'string' ? parseTarget(x) : x));
}

/** Rows × samples copies of the input (noisy for SmoothGrad) and of the target values. */
function expandRows(
  batch: Float32Tensor,
  values: Float32Tensor,
  rows: readonly TargetRow[],
  samples: number,
  smooth: ExplainOptions['smooth'],
): { input: Float32Tensor; values: Float32Tensor; rows: TargetRow[] } {
  const size = batch.data.length / batch.dims[0]!;
  const vsize = values.data.length / values.dims[0]!;
  const m = rows.length * samples;
  const input = new Float32Array(m * size);
  const vals = new Float32Array(m * vsize);
  const out: TargetRow[] = [];
  let state = smooth?.seed ?? 1;
  const gauss = () => {
    // Box–Muller on a small LCG: deterministic noise for reproducible SmoothGrad maps.
    const u = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return (state + 1) / 4294967297;
    };
    return Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  };
  rows.forEach((row, r) => {
    const src = batch.data.subarray(row.image * size, (row.image + 1) * size);
    let sigma = 0;
    if (samples > 1 && smooth?.noise) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let p = 0; p < src.length; p++) {
        const v = src[p]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      sigma = smooth.noise * (hi - lo);
    }
    for (let s = 0; s < samples; s++) {
      const i = r * samples + s;
      const dst = input.subarray(i * size, (i + 1) * size);
      if (samples === 1) dst.set(src);
      else for (let p = 0; p < size; p++) dst[p] = src[p]! + sigma * gauss();
      vals.set(values.data.subarray(row.image * vsize, (row.image + 1) * vsize), i * vsize);
      out.push(row);
    }
  });
  return {
    input: { dtype: 'float32', dims: [m, ...batch.dims.slice(1)], data: input },
    values: { dtype: 'float32', dims: [m, ...values.dims.slice(1)], data: vals },
    rows: out,
  };
}

/** Feed each image once when every image has the same number of contiguous rows (and no noise). */
function forwardPlan(
  batch: Float32Tensor,
  rows: readonly TargetRow[],
  samples: number,
  expanded: Float32Tensor,
): { input: Float32Tensor; repeat: number } {
  const n = batch.dims[0]!;
  const r = rows.length / n;
  const uniform =
    samples === 1 && Number.isInteger(r) && r > 1 && rows.every((row, i) => row.image === Math.floor(i / r));
  return uniform ? { input: batch, repeat: r } : { input: expanded, repeat: 1 };
}

/** Mean over each row's consecutive samples (SmoothGrad); identity for one sample. */
function averageSamples(r: MethodResult, samples: number): MethodResult {
  if (samples === 1) return r;
  const avg = (t: Float32Tensor): Float32Tensor => {
    const m = t.dims[0]! / samples;
    const size = t.data.length / t.dims[0]!;
    const out = new Float32Array(m * size);
    for (let i = 0; i < m; i++) {
      for (let s = 0; s < samples; s++) {
        const src = t.data.subarray((i * samples + s) * size, (i * samples + s + 1) * size);
        for (let p = 0; p < size; p++) out[i * size + p]! += src[p]! / samples;
      }
    }
    return { dtype: 'float32', dims: [m, ...t.dims.slice(1)], data: out };
  };
  if (r.kind === 'pixels') return { kind: 'pixels', pixels: avg(r.pixels) };
  return { kind: 'cam', perLayer: new Map([...r.perLayer].map(([k, v]) => [k, avg(v)])) };
}

function targetInfo(row: TargetRow, values: Float32Tensor, rowDims: readonly number[]): TargetInfo {
  const k = rowDims.reduce((a, b) => a * b, 1);
  const out = values.data.subarray(row.image * k, (row.image + 1) * k);
  const probability = rowDims.length === 1 && row.index !== undefined ? softmax(out)[row.index] : undefined;
  return {
    index: row.index,
    label: row.label,
    description: row.description,
    kind: row.kind,
    counterfactual: row.counterfactual,
    score: row.score(out),
    probability,
  };
}

function rowSlice(t: Float32Tensor, row: number): Float32Array {
  const size = t.data.length / t.dims[0]!;
  return t.data.subarray(row * size, (row + 1) * size);
}
