// The one entry point: `const ex = Explainer.fromModel(model); const r = await ex.explain(images,
// { method: 'gradcam', target: 'top:3' })`. Targets become rows (one explained scalar each); rows that
// share a target graph (the same read tensor and head) are explained together, running what the
// requested methods need once (one batched gradient run for all rows and layers).

import { explainedTensor, type Profile, RULE_SETS, type RuleSetName } from '../autodiff/index.ts';
import type { Detection } from '../detect/types.ts';
import { GradsightError } from '../errors.ts';
import type { Box } from '../eval/localization.ts';
import { imagesToBatch } from '../image/preprocess.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { fuseLayers, type Normalization } from '../methods/pipeline.ts';
import { METHOD_IDS, methodById } from '../methods/table.ts';
import type { Method, MethodId, MethodResult } from '../methods/types.ts';
import { type GradientResult, GradientRunner } from '../model/gradient-runner.ts';
import type { ImageModel } from '../model/image-model.ts';
import { type LayerLayout, type LayerViews, parseLayerLayout } from '../model/layer-view.ts';
import type { AlsoPart, InGraphMap } from '../model/layer-view-compile.ts';
import { type LayerInfo, resolveLayers } from '../model/layers.ts';
import type { OneHotSeed } from '../model/one-hot-head.ts';
import { type Prediction, rankOutput } from '../model/predict.ts';
import type { TargetGraph } from '../model/target-graph.ts';
import {
  type CaptionWord,
  counterfactual,
  resolveRows,
  scoreOf,
  type Target,
  type TargetInput,
  type TargetRow,
  targetFrom,
} from '../targets/index.ts';
import { type Feeds, repeatRows, selectFeeds, selectRows } from '../tensor/rows.ts';
import { type Float32Tensor, float32, softmax } from '../tensor/tensor.ts';
import { ExplainContext, type RunnerOptions, runOptions } from './context.ts';
import {
  type Diagnostic,
  diagnose,
  type GradientCheck,
  gradientCheck,
  gradientCheckOfSum,
} from './diagnose.ts';
import { type LanguageInfo, type LanguageOptions, languageFeeds } from './language.ts';
import { averageSamples, expandRows, forwardPlan, perImageValues, type SmoothOptions } from './rows.ts';
import { targetEnvOf } from './target-env.ts';
import {
  checkExplainInput,
  checkExplainOptions,
  checkFinite,
  checkSmoothCopies,
  DEFAULT_MAX_TARGETS,
  rowCounter,
} from './validate-options.ts';

export interface ExplainOptions extends LanguageOptions {
  /** One method or several (default 'gradcam'). */
  readonly method?: MethodId | readonly MethodId[];
  /**
   * What to explain (default: the predicted class; every detection for a detector). Strings as the
   * CLI takes them (pred, top:3, 281, a label, a-vs-b, prob:c, det:2, ...), specs, or Targets of
   * your own.
   */
  readonly target?: TargetInput | readonly TargetInput[];
  /** Target layers for the CAM methods (default: the model's default layer). */
  readonly layers?: readonly string[];
  /**
   * How the layers are read as N×C×H×W when that cannot be inferred (default: inferred from shapes and
   * the graph): 'nchw', 'nhwc', 'tokens[:SKIP[:HxW]]' or a LayerLayout object.
   */
  readonly layerLayout?: string | LayerLayout;
  /** Explain −y for every target: regions whose removal raises it (the paper's counterfactual). */
  readonly counterfactual?: boolean;
  /** Extra inputs of a model with several (token ids, masks): one row per image, or one for all. */
  readonly feeds?: Feeds;
  readonly normalize?: Normalization;
  /** SmoothGrad-style averaging over noisy copies of the input: samples and σ as a fraction of the input range. */
  readonly smooth?: SmoothOptions;
  /**
   * Masked or ablated copies per forward batch for Score-CAM and Ablation-CAM (default: the largest
   * batch that fits `memoryBudget`).
   */
  readonly batchSize?: number;
  /**
   * Bytes of inputs + activations one such batch may take, estimated from the model's static shapes
   * (default 256 MiB, DEFAULT_PERTURBATION_BUDGET).
   */
  readonly memoryBudget?: number;
  /** The output (or any tensor) targets read by default, instead of the model's output. */
  readonly targetOutput?: string;
  /**
   * Rule set for the layer gradients the CAM methods use (default 'standard'; 'guided' gives
   * guided-gradient weights, as tf-explain's GradCAM does). Pixel methods fix their own rules.
   */
  readonly rule?: RuleSetName;
  /**
   * The most explained rows (targets) per image (default 100, DEFAULT_MAX_TARGETS): `top:1000` or a
   * long target list is refused before it is computed unless this is raised.
   */
  readonly maxTargets?: number;
  /** Explain an input tensor holding NaN or ±Infinity (default false: a 'non-finite' error). */
  readonly allowNonFinite?: boolean;
  /**
   * The autodiff recipes of the gradient graphs (default: the runtime's, `Runtime.profile`): 'cpu' for
   * ONNX Runtime's CPU kernels (Node, wasm), 'web' for WebGPU (docs/autodiff.md).
   */
  readonly profile?: Profile;
  /**
   * Stops the call between ONNX Runtime runs: explain() then rejects with the signal's reason (an
   * AbortError DOMException unless given), as fetch does. A run already started finishes first.
   */
  readonly signal?: AbortSignal;
  /** Called as the call proceeds: after the target runs and after each method's maps. */
  readonly onProgress?: (progress: ExplainProgress) => void;
}

export interface ExplainProgress {
  /** Steps finished, of `total`: one run per target group, then one step per method and group. */
  readonly done: number;
  readonly total: number;
  /** What just finished: 'run' (scores, activations and gradients) or a method id. */
  readonly step: 'run' | MethodId;
}

export interface TargetInfo {
  readonly index: number | undefined;
  readonly label: string;
  readonly description: string;
  readonly kind: string;
  readonly counterfactual: boolean;
  /** The explained scalar at the unmodified input. */
  readonly score: number;
  /** Softmax probability of `index` (classifiers). */
  readonly probability: number | undefined;
  /** The tensor differentiated for this target (a head's output, or the scores themselves). */
  readonly tensor: string;
  /** The explained detection (detection targets). */
  readonly detection?: Detection;
  /** A caption word (captioning models): its 1-based position and the caption's words. */
  readonly word?: CaptionWord;
  /** VQA models: the question the answer was explained for. */
  readonly question?: string;
}

export type { TargetInput } from '../targets/index.ts';

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
  /** The tensor the (first) target reads: the scores before softmax by default. */
  readonly reads: string;
  readonly explanations: readonly Explanation[];
  readonly seconds: number;
  /** Captioning and VQA: the decoded captions' words and the questions, per image. */
  readonly language?: LanguageInfo;
}

export class Explainer {
  /** Compiled gradient models and their sessions, reused by later explain() calls. */
  private readonly runners = new Map<string, Promise<GradientRunner>>();
  private released = false;

  constructor(readonly model: ImageModel) {}

  private runner(
    options: RunnerOptions & {
      readonly views?: LayerViews;
      readonly also?: readonly AlsoPart[];
      readonly maps?: readonly InGraphMapSpec[];
      readonly oneHot?: OneHotSeed;
    },
  ): Promise<GradientRunner> {
    const { graph, ...compile } = options;
    const key = JSON.stringify({
      ...compile,
      maps: compile.maps?.map((m) => [m.key, ...m.layers]),
      graph: graph.key,
      ruleSet: options.ruleSet?.name ?? 'standard',
    });
    let r = this.runners.get(key);
    if (!r) {
      r = GradientRunner.create(this.model, compile, this.model.threads, graph);
      this.runners.set(key, r);
      r.catch(() => this.runners.delete(key));
    }
    return r;
  }

  static fromModel(model: ImageModel): Explainer {
    return new Explainer(model);
  }

  /** Frees the sessions; a second call does nothing, and explain() afterwards is a typed error. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
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
    if (this.released) {
      throw new GradsightError('bad-argument', 'explain() after release(): this Explainer is released', {
        hint: 'create a new Explainer (loadExplainer in Node, or Explainer.fromModel) to explain more images',
      });
    }
    checkExplainOptions(options);
    options.signal?.throwIfAborted();
    const given = checkExplainInput(input, this.model);
    const images = 'images' in given ? given.images : undefined;
    const batch = images
      ? imagesToBatch(images, this.model.preprocess)
      : (given as { tensor: Float32Tensor }).tensor;
    if (!options.allowNonFinite) checkFinite(batch, images ? 'the preprocessed images' : 'the input tensor');
    // Captioning and VQA: the caption (decoded greedily unless given) or the question as token feeds.
    const language = await languageFeeds(this.model, batch, options.feeds, options);
    const { [this.model.input.name]: _image, ...feeds } = this.model.feedsFor(batch, language.feeds);
    const { methods, layers, defaultReads, groups, counter } = await this.plan(options);
    const scores = explainedTensor(this.model.model.graph, this.model.output.name, true);

    const explanations: Explanation[] = [];
    let predictions: Prediction[] | undefined;
    const progress = progressOf(options, groups.length * (1 + methods.length));
    options = this.withProfile(options);
    for (const group of groups) {
      options.signal?.throwIfAborted();
      const base = await this.model.targetGraph(group.reads, group.head);
      // One run where the graph can choose the rows (or they are known): scores, selection and
      // gradients together. Otherwise a forward run gives the values the targets choose from.
      const one = await this.oneRun({
        group,
        graph: base,
        batch,
        feeds,
        images,
        methods,
        layers,
        options,
        counter,
      });
      let graph = base;
      let x: Float32Tensor;
      let t: Float32Tensor;
      let rows: TargetRow[];
      let prefilled: ReadonlyMap<string, GradientResult> | undefined;
      if (one) ({ graph, x, t, rows, prefilled } = one);
      else {
        ({ x, t } = await this.model.runTarget(base, batch, feeds));
        const values = perImageValues(
          x,
          t,
          group.targets.length,
          batch,
          sizesOf(images),
          this.model.labels,
          feeds,
        );
        rows = resolveRows(group.targets, values);
      }
      if (!one) counter.add(rows);
      options.signal?.throwIfAborted();
      progress('run');
      if (!predictions && group.reads === scores)
        predictions = rankOutput(x, {
          top: 5,
          labels: this.model.labels,
          outputIsProbability: false,
          // A captioner's [N, L, V] scores rank as its first word's, not as L·V classes.
          ...(this.model.description.task.kind === 'captioning' ? { task: this.model.description.task } : {}),
        });
      if (rows.length === 0) {
        for (const m of methods) progress(m.id);
        continue;
      }
      explanations.push(
        ...(await this.explainRows({
          graph,
          batch,
          feeds,
          x,
          t,
          rows,
          methods,
          layers,
          options,
          prefilled,
          progress,
        })),
      );
    }
    predictions ??= await this.model.predict(batch, 5, feeds);
    const reads = groups[0]?.reads ?? defaultReads;
    const questions = language.info?.questions;
    return {
      predictions,
      layers,
      reads,
      explanations: questions
        ? explanations.map((e) => ({ ...e, target: { ...e.target, question: questions[e.image]! } }))
        : explanations,
      seconds: (performance.now() - t0) / 1000,
      ...(language.info ? { language: language.info } : {}),
    };
  }

  /**
   * Compiles the gradient models that `explain()` of an input tensor with these dims and options
   * will run, and opens their sessions, without running them: the first explain() call then starts
   * at its run (`gradsight explain` does this while the worker decodes the first images). Covers the
   * one-run path (a classifier's targets chosen from its scores, or fixed rows); other targets, and
   * captioning and VQA models, compile at their first explain() as before. Errors are explain()'s own.
   */
  async prepare(dims: readonly number[], options: ExplainOptions = {}): Promise<void> {
    if (this.released || this.model.description.language) return;
    checkExplainOptions(options);
    const batch = float32(new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
    checkExplainInput(batch, this.model);
    const { [this.model.input.name]: _image, ...feeds } = this.model.feedsFor(batch, options.feeds);
    const { methods, layers, groups, counter } = await this.plan(options);
    for (const group of groups) {
      const graph = await this.model.targetGraph(group.reads, group.head);
      const run = { group, graph, batch, feeds, images: undefined, methods, layers, counter };
      await this.oneRun({ ...run, options: this.withProfile(options), dry: true });
    }
  }

  /** What explain() and prepare() resolve from the options: methods, layers, target groups, the row budget. */
  private async plan(options: ExplainOptions) {
    const methods = methodList(options.method);
    const layers = await this.layersFor(methods, options.layers, options.layerLayout);
    const defaultReads = options.targetOutput ?? this.model.output.name;
    const groups = groupTargets(this.targets(options), this.model, defaultReads);
    const counter = rowCounter(options.maxTargets ?? DEFAULT_MAX_TARGETS);
    return { methods, layers, defaultReads, groups, counter };
  }

  /** The options with the autodiff profile made explicit (the runtime's by default). */
  private withProfile(options: ExplainOptions): ExplainOptions {
    return { ...options, profile: options.profile ?? this.model.runtime.profile ?? 'cpu' };
  }

  private targets(options: ExplainOptions): Target[] {
    const t = options.target;
    const list: readonly TargetInput[] =
      t === undefined
        ? [this.model.description.language?.task === 'captioning' ? 'caption' : 'pred']
        : Array.isArray(t)
          ? (t as readonly TargetInput[])
          : [t as TargetInput];
    const env = targetEnvOf(this.model);
    return list.map((x) => {
      const target = targetFrom(x, env);
      return options.counterfactual ? counterfactual(target) : target;
    });
  }

  /**
   * The first gradient run of a group, when it needs no forward run before it: the targets' rows are
   * the k best classes of a classifier (chosen in the graph by TopK, `Target.select`), or do not depend
   * on the values at all (`Target.fixed`). Returns the values, the rows and the run, which the method
   * context then reuses. Undefined where the targets must see the values first (a dense or detection
   * output, several ranked targets in one group, SmoothGrad's noisy copies).
   */
  private async oneRun(a: {
    group: TargetGroup;
    graph: TargetGraph;
    batch: Float32Tensor;
    feeds: Feeds;
    images: readonly RgbImage[] | undefined;
    methods: readonly Method[];
    layers: readonly LayerInfo[];
    options: ExplainOptions;
    counter: ReturnType<typeof rowCounter>;
    /** Only compile the run's gradient model (prepare()): undefined once its session is open. */
    dry?: boolean;
  }): Promise<OneRun | undefined> {
    const { group, graph, batch, feeds, images, methods, layers, options, counter, dry } = a;
    if ((options.smooth?.samples ?? 1) > 1) return undefined;
    const xs = graph.shapes.get(graph.reads)?.shape;
    const ts = graph.shapes.get(graph.explained)?.shape;
    const classes = xs?.[1];
    if (xs?.length !== 2 || typeof classes !== 'number' || ts?.length !== 2 || ts[1] !== classes)
      return undefined;
    const targets = group.targets;
    const select = targets.length === 1 ? targets[0]!.select : undefined;
    if (!select && !targets.every((t) => t.fixed)) return undefined;
    // Every gradient the methods need, from one forward pass: the layers' (CAM methods, under
    // options.rule) and each pixel method's input gradient (its own rule set), sharing the seed.
    const input = this.model.input.name;
    const layerRule = options.rule ?? 'standard';
    const pixelRules = [
      ...new Set(methods.flatMap((m) => (m.needs.inputGradient ? [m.needs.inputGradient] : []))),
    ];
    const parts = [
      ...(layers.length ? [{ keys: ['layers'], wrt: layers.map((l) => l.name), rule: layerRule }] : []),
      ...pixelRules.map((rule) => ({ keys: [`input:${rule}`], wrt: [input], rule })),
    ];
    // The parts under one rule set are one backward graph.
    const byRule = new Map<RuleSetName, { keys: string[]; wrt: string[]; rule: RuleSetName }>();
    for (const p of parts) {
      const b = byRule.get(p.rule);
      if (b) {
        b.keys.push(...p.keys);
        b.wrt.push(...p.wrt.filter((w) => !b.wrt.includes(w)));
      } else byRule.set(p.rule, { keys: [...p.keys], wrt: [...p.wrt], rule: p.rule });
    }
    // A tensor's gradient under two rule sets needs two runs: each run's results are keyed by tensor.
    const runs: { keys: string[]; wrt: string[]; rule: RuleSetName }[] = [];
    for (const p of byRule.values()) {
      if (!runs.some((r) => r.wrt.some((w) => p.wrt.includes(w)))) runs.push(p);
    }
    const [first, ...rest] = runs;
    if (!first) return undefined;
    const also = rest.map((p) => ({ wrt: p.wrt, ruleSet: RULE_SETS[p.rule] }));
    // The CAM pipeline of each method that has an in-graph form runs in the same ONNX Runtime run
    // (pytorch-grad-cam's per-image normalisation is what compile/cam-graph.ts builds).
    const maps =
      first.keys.includes('layers') && (options.normalize ?? 'per-image') === 'per-image'
        ? inGraphMaps(methods, layers)
        : [];
    const keys = runs.flatMap((p) => p.keys);
    // When the graph makes every map the methods use, the layers' values and gradients stay in ONNX
    // Runtime (the run's Σ|g| per row is what the diagnostics read).
    const made = new Set(maps.map((m) => m.key));
    const computed = methods.some((m) =>
      m.output === 'cam'
        ? !made.has(m.id)
        : m.needs.finalMapOf !== undefined && !made.has(m.needs.finalMapOf),
    );
    const fetch = { skip: maps.length && !computed ? layers.map((l) => l.name) : [] };
    const views: LayerViews = Object.fromEntries(layers.map((l) => [l.name, l.view!]));
    const n = batch.dims[0]!;
    const labels = this.model.labels;
    const valuesOf = (r: GradientResult, g: TargetGraph) => ({
      x: (r.outputs[g.reads] ?? r.explained) as Float32Tensor,
      t: r.explained,
    });
    if (select) {
      classIndexBound(select.k, classes);
      counter.check(select.k);
      const sg = this.model.selectionGraph(graph, select.k, select.sign);
      const runner = await this.runner({
        ...runOptions(sg, first.wrt, RULE_SETS[first.rule], select.k, sg.seed),
        profile: options.profile!,
        views,
        also,
        maps,
        oneHot: { seed: sg.seed, indices: sg.indices, negate: select.sign < 0 },
      });
      if (dry) return undefined;
      const r = await runner.run(batch, undefined, feeds, fetch);
      const { x, t } = valuesOf(r, sg);
      const rows = resolveRows(targets, perImageValues(x, t, 1, batch, sizesOf(images), labels, feeds));
      counter.add(rows);
      // The graph chose with TopK on the same x: the rows must be its picks, in its order.
      const picked = r.outputs[sg.indices]!.data as BigInt64Array;
      if (rows.length !== n * select.k || rows.some((row, i) => BigInt(row.index ?? -1) !== picked[i])) {
        throw new GradsightError(
          'internal-error',
          'internal: the in-graph selection disagrees with the targets',
          {
            hint: 'this is a bug in gradsight; please report it with the model',
          },
        );
      }
      return { graph: sg, x, t, rows, prefilled: new Map(keys.map((k) => [k, r])) };
    }
    // Fixed rows: resolved on zeros (they do not look at the values), seeds fed.
    const zeros = (k: number): Float32Tensor => ({
      dtype: 'float32',
      dims: [n, k],
      data: new Float32Array(n * k),
    });
    const rows = resolveRows(
      targets,
      perImageValues(zeros(classes), zeros(classes), targets.length, batch, sizesOf(images), labels, feeds),
    );
    if (rows.length === 0) return undefined;
    counter.add(rows);
    const plan = forwardPlan(batch, rows, 1, expandRows(batch, zeros(classes), rows, 1, undefined).input);
    const planInput = plan.input();
    const runner = await this.runner({
      ...runOptions(graph, first.wrt, RULE_SETS[first.rule], plan.repeat),
      profile: options.profile!,
      views,
      also,
      maps,
    });
    if (dry) return undefined;
    const seed = new Float32Array(rows.length * classes);
    rows.forEach((row, i) => {
      seed.set(row.seed, i * classes);
    });
    const rowFeeds =
      plan.repeat > 1
        ? feeds
        : selectFeeds(
            feeds,
            rows.map((row) => row.image),
          );
    const seeds: Float32Tensor = { dtype: 'float32', dims: runner.seedDims(rows.length), data: seed };
    const r = await runner.run(planInput, seeds, rowFeeds, fetch);
    let { x, t } = valuesOf(r, graph);
    if (x.dims[0] !== n) {
      // One forward row per target row: each image's values are those of its first row.
      const firsts = Array.from({ length: n }, (_, i) => rows.findIndex((row) => row.image === i));
      x = selectRows(x, firsts);
      t = selectRows(t, firsts);
    }
    return { graph, x, t, rows, prefilled: new Map(keys.map((k) => [k, r])) };
  }

  /** The explanations of rows that share one target graph. */
  private async explainRows(a: {
    graph: TargetGraph;
    batch: Float32Tensor;
    feeds: Feeds;
    x: Float32Tensor;
    t: Float32Tensor;
    rows: TargetRow[];
    methods: readonly Method[];
    layers: readonly LayerInfo[];
    options: ExplainOptions;
    prefilled: ReadonlyMap<string, GradientResult> | undefined;
    progress: (step: MethodId) => void;
  }): Promise<Explanation[]> {
    const { graph, batch, rows, methods, layers, options } = a;
    const [height, width] = this.model.spatialOf(batch.dims);
    const samples = options.smooth?.samples ?? 1;
    checkSmoothCopies(rows.length, samples, batch.data.length / batch.dims[0]!);
    const expanded = expandRows(batch, a.t, rows, samples, options.smooth);
    // Noisy copies have their own scores (Ablation-CAM's relative drop divides by the copy's own).
    const noisy = samples > 1 && (options.smooth?.noise ?? 0) !== 0;
    const copyFeeds = () =>
      selectFeeds(
        a.feeds,
        expanded.rows.map((r) => r.image),
      );
    const values = noisy
      ? (await this.model.runTarget(graph, expanded.input(), copyFeeds())).t
      : expanded.values;
    const results = new Map<MethodId, Promise<MethodResult>>();
    const finals = new Map<MethodId, Promise<Float32Tensor>>();
    const normalize = options.normalize ?? 'per-image';
    const views: LayerViews = Object.fromEntries(layers.map((l) => [l.name, l.view!]));
    const ctx: ExplainContext = new ExplainContext({
      model: this.model,
      graph,
      feeds: a.feeds,
      layers: layers.map((l) => l.name),
      input: expanded.input,
      forward: forwardPlan(batch, rows, samples, expanded.input),
      rows: expanded.rows,
      targetValues: values,
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.memoryBudget !== undefined ? { memoryBudget: options.memoryBudget } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      rule: options.rule ?? 'standard',
      // Methods index rows per sample (ctx.rows); the final map is per row: repeat it per sample.
      finalMap: (id) => finalOf(id).then((f) => repeatRows(f, samples)),
      views,
      ...(a.prefilled ? { prefilled: a.prefilled } : {}),
      runner: (o) => this.runner({ ...o, views, profile: options.profile! }),
    });
    // Maps the one run already computed in the graph (oneRun: never with SmoothGrad's samples).
    const inGraph = a.prefilled?.get('layers')?.maps ?? {};
    const resultOf = (id: MethodId): Promise<MethodResult> => {
      let p = results.get(id);
      if (!p) {
        const done = inGraph[id];
        p = done
          ? Promise.resolve<MethodResult>({ kind: 'cam', perLayer: done.perLayer })
          : methodById(id)!
              .compute(ctx)
              .then((r) => averageSamples(r, samples));
        results.set(id, p);
      }
      return p;
    };
    const finalOf = (id: MethodId): Promise<Float32Tensor> => {
      let p = finals.get(id);
      if (!p) {
        const done = inGraph[id];
        p = done
          ? Promise.resolve(done.final)
          : resultOf(id).then((r) => {
              if (r.kind !== 'cam') throw new Error(`${id} has no CAM map`);
              return fuseLayers(r.perLayer, height, width, normalize);
            });
        finals.set(id, p);
      }
      return p;
    };

    const explanations: Explanation[] = [];
    const plane = height * width;
    // Each row's gradient check per layer, once: from the run's Σ|g| when the graph made the maps
    // (the gradients themselves were not fetched), else from the gradients.
    const sums = a.prefilled?.get('layers')?.gradientSums ?? {};
    const checks = new Map<string, Promise<GradientCheck[]>>();
    const gradientChecks = (name: string) => {
      let p = checks.get(name);
      if (!p) {
        const sum = sums[name];
        p = sum
          ? Promise.resolve(Array.from(sum, gradientCheckOfSum))
          : ctx
              .gradients(name)
              .then((g) => Array.from({ length: g.dims[0]! }, (_, r) => gradientCheck(rowSlice(g, r))));
        checks.set(name, p);
      }
      return p;
    };
    const probabilities = new Map<number, Float32Array>();
    try {
      await ctx.prepare();
      for (const method of methods) {
        a.options.signal?.throwIfAborted();
        const r = await resultOf(method.id);
        const final = r.kind === 'cam' ? await finalOf(method.id) : undefined;
        const channels = r.kind === 'pixels' ? r.pixels.data.length / (r.pixels.dims[0]! * plane) : 0;
        const layerChecks = method.needs.gradients
          ? await Promise.all(layers.map((l) => gradientChecks(l.name)))
          : [];
        for (let i = 0; i < rows.length; i++) {
          const row = rows[i]!;
          const map = final ? ownRow(final.data, i, plane, rows.length) : undefined;
          const pixels =
            r.kind === 'pixels' ? ownRow(r.pixels.data, i, channels * plane, rows.length) : undefined;
          const info = targetInfo(row, a.x, a.t, graph.explained, probabilities);
          const diagnostic = diagnose({
            method: method.id,
            map: map ?? pixels!,
            rawCams: r.kind === 'cam' ? [...r.perLayer.values()].map((c) => rowSlice(c, i)) : [],
            gradients: layerChecks.map((c) => c[i * samples]!),
            // Saturation explains a zero gradient only when the explained scalar is the probability.
            probability: row.kind === 'probability' ? info.probability : undefined,
            counterfactual: row.counterfactual,
            score: info.score,
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
            ...(row.detection ? { detection: detectionInfo(row) } : {}),
          });
        }
        a.progress(method.id);
      }
    } finally {
      await ctx.release();
    }
    return explanations;
  }

  private async layersFor(
    methods: readonly Method[],
    names: readonly string[] | undefined,
    layerLayout: ExplainOptions['layerLayout'],
  ): Promise<LayerInfo[]> {
    const needsLayers = methods.some((m) => m.output === 'cam' || m.needs.finalMapOf);
    if (!needsLayers) return [];
    // Every layer comes with its view (layer-view.ts); an ambiguous layout is refused here.
    const layout = typeof layerLayout === 'string' ? parseLayerLayout(layerLayout) : layerLayout;
    const g = this.model.model.graph;
    const shapes = await this.model.shapes();
    if (!names?.length) return [await this.model.defaultLayer(layout)];
    return resolveLayers(g, shapes, names, layout);
  }
}

/** top:K on a classifier of `classes` outputs: K above the class count is a typed error. */
function classIndexBound(k: number, classes: number): void {
  if (k > classes) {
    throw new GradsightError(
      'bad-argument',
      `top:${k} asks for more classes than the model has (${classes})`,
      {
        hint: `give K from 1 to ${classes}`,
      },
    );
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

interface TargetGroup {
  readonly reads: string;
  readonly head: Target['head'];
  readonly targets: Target[];
}

/** Targets grouped by the graph they need (read tensor and head), in order of first appearance. */
function groupTargets(targets: readonly Target[], model: ImageModel, defaultReads: string): TargetGroup[] {
  const groups = new Map<string, TargetGroup>();
  for (const t of targets) {
    const reads = explainedTensor(model.model.graph, t.output ?? defaultReads, t.beforeSoftmax ?? true);
    const key = `${reads}|${t.head?.key ?? ''}`;
    let g = groups.get(key);
    if (!g) {
      g = { reads, head: t.head, targets: [] };
      groups.set(key, g);
    }
    g.targets.push(t);
  }
  return [...groups.values()];
}

/** [height, width] of each decoded image, for targets given boxes in original pixels. */
function sizesOf(images: readonly RgbImage[] | undefined) {
  return images?.map((im) => [im.height, im.width] as const);
}

/** [height, width] of a batch in the model's layout. */
/** The CAM methods (asked for, or whose map a pixel method multiplies by) with an in-graph form. */
type InGraphMapSpec = Omit<InGraphMap, 'size'>;

function inGraphMaps(methods: readonly Method[], layers: readonly LayerInfo[]): InGraphMapSpec[] {
  const ids = new Set<MethodId>();
  for (const m of methods) {
    if (m.output === 'cam') ids.add(m.id);
    else if (m.needs.finalMapOf) ids.add(m.needs.finalMapOf);
  }
  return [...ids].flatMap((id) => {
    const camGraph = methodById(id)?.camGraph;
    return camGraph ? [{ key: id, camGraph, layers: layers.map((l) => l.name) }] : [];
  });
}

/** A counter calling options.onProgress (if any) after each of `total` steps. */
function progressOf(options: ExplainOptions, total: number): (step: ExplainProgress['step']) => void {
  let done = 0;
  return (step) => {
    done++;
    options.onProgress?.({ done, total, step });
  };
}

/** What a row explains; `probabilities` caches each image's softmax across its rows. */
function targetInfo(
  row: TargetRow,
  x: Float32Tensor,
  t: Float32Tensor,
  tensor: string,
  probabilities: Map<number, Float32Array>,
): TargetInfo {
  const n = x.dims[0]!;
  const xs = x.data.length / n;
  const ts = t.data.length / n;
  const xRow = x.data.subarray(row.image * xs, (row.image + 1) * xs);
  const classifier = x.dims.length === 2 && row.index !== undefined && row.kind !== 'detection';
  return {
    index: row.index,
    label: row.label,
    description: row.description,
    kind: row.kind,
    counterfactual: row.counterfactual,
    score: scoreOf(row.seed, t.data.subarray(row.image * ts, (row.image + 1) * ts)),
    probability: classifier ? probabilitiesOf(probabilities, row.image, xRow)[row.index!] : undefined,
    tensor,
    ...(row.detection ? { detection: row.detection } : {}),
    ...(row.word ? { word: row.word } : {}),
  };
}

function probabilitiesOf(
  cache: Map<number, Float32Array>,
  image: number,
  logits: Float32Array,
): Float32Array {
  let p = cache.get(image);
  if (!p) {
    p = softmax(logits);
    cache.set(image, p);
  }
  return p;
}

function detectionInfo(row: TargetRow): NonNullable<Explanation['detection']> {
  const d = row.detection!;
  return { box: d.box, classIndex: d.classIndex, label: row.label, score: d.score };
}

function rowSlice(t: Float32Tensor, row: number): Float32Array {
  const size = t.data.length / t.dims[0]!;
  return t.data.subarray(row * size, (row + 1) * size);
}

/** What the one-run path of a group hands on to the methods. */
interface OneRun {
  readonly graph: TargetGraph;
  readonly x: Float32Tensor;
  readonly t: Float32Tensor;
  readonly rows: TargetRow[];
  readonly prefilled: ReadonlyMap<string, GradientResult>;
}

/**
 * Row i of a batch's values as an array of its own: a copy, or, for a batch of one whose array is that
 * row, the array itself (ONNX Runtime made it for this call alone; a copy of a 224×224 map is 200 KB
 * more for the garbage collector on every call).
 */
function ownRow(data: Float32Array, i: number, size: number, rows: number): Float32Array {
  return rows === 1 && data.length === size && data.byteLength === data.buffer.byteLength
    ? data
    : data.slice(i * size, (i + 1) * size);
}
