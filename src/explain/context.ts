// The MethodContext of one explain() call and one target graph: everything a method may ask for,
// computed lazily and once. Rows are (image, target) pairs; gradient runs use one seed per row, so k
// targets of an image are explained by one batched run, not k runs. The explained scalar of a row is
// ⟨seed, T_row⟩, T the target graph's explained tensor (a head's output, or the scores themselves).

import { type CompileOptions, RULE_SETS, type RuleSet, type RuleSetName } from '../autodiff/index.ts';
import { GradsightError } from '../errors.ts';
import type { MethodContext, MethodId } from '../methods/types.ts';
import { gapHeadWeights } from '../model/gap-head.ts';
import type { GradientResult, GradientRunner } from '../model/gradient-runner.ts';
import type { ImageModel } from '../model/image-model.ts';
import type { LayerViews } from '../model/layer-view.ts';
import type { TargetGraph } from '../model/target-graph.ts';
import type { Session } from '../runtime/runtime.ts';
import { scoreOf, type TargetRow } from '../targets/index.ts';
import { type Feeds, repeatRows, selectFeeds } from '../tensor/rows.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';
import { Perturbations } from './perturb.ts';

export interface ContextOptions {
  readonly model: ImageModel;
  /** The model with the target's head: its `explained` tensor T is differentiated. */
  readonly graph: TargetGraph;
  /** Extra feeds (non-image inputs), one row per image of the batch. */
  readonly feeds: Feeds;
  readonly layers: readonly string[];
  /** Input rows [M, ...]: each image repeated once per target row (made when first read). */
  readonly input: () => Float32Tensor;
  /**
   * What gradient runs are fed: `input` itself (repeat 1), or the images once each with `repeat` rows
   * per image (the forward runs once per image; only the backward runs per row).
   */
  readonly forward: { readonly input: () => Float32Tensor; readonly repeat: number };
  readonly rows: readonly TargetRow[];
  /** T's value per row. */
  readonly targetValues: Float32Tensor;
  /** Variants per forward batch for Score-CAM and Ablation-CAM (default: as many as fit the budget). */
  readonly batchSize?: number;
  /** Bytes of inputs + activations per such batch (default: eval/perturbation.ts). */
  readonly memoryBudget?: number;
  /** explain()'s signal: Score-CAM's and Ablation-CAM's forward batches stop between runs. */
  readonly signal?: AbortSignal;
  readonly finalMap: (method: MethodId) => Promise<Float32Tensor>;
  /** Rule set of the layer gradients. */
  readonly rule: RuleSetName;
  /**
   * Gradient runs already made ('layers', or 'input:<rule>'), e.g. the one run whose seeds the graph
   * chose (TopK): the context uses them instead of running again.
   */
  readonly prefilled?: ReadonlyMap<string, GradientResult>;
  /** Layers read through a view (layer-view.ts); Ablation-CAM's tail model inverts it. */
  readonly views?: LayerViews;
  /** Compiled gradient runners, shared across explain() calls by the Explainer. */
  readonly runner: (options: RunnerOptions) => Promise<GradientRunner>;
}

export type RunnerOptions = Omit<CompileOptions, 'shapes'> & { readonly graph: TargetGraph };

/**
 * The options of a gradient run of the context: `wrt` under `ruleSet`, k rows per image when repeat
 * is k (the forward once per image), the seed fed or (`seed`) computed in the graph. The explainer's
 * one-run path uses the same options, so the compiled model is shared.
 */
export function runOptions(
  graph: TargetGraph,
  wrt: readonly string[],
  ruleSet: RuleSet,
  repeat: number,
  seed?: string,
): RunnerOptions {
  return {
    graph,
    wrt,
    explained: graph.explained,
    beforeSoftmax: false,
    ruleSet,
    repeatRows: repeat > 1,
    ...(seed ? { seed } : {}),
  };
}

export class ExplainContext implements MethodContext {
  private readonly memo = new Map<string, Promise<unknown>>();
  private readonly sessions: Session[] = [];

  constructor(private readonly o: ContextOptions) {}

  get rows(): number {
    return this.o.rows.length;
  }
  get layers(): readonly string[] {
    return this.o.layers;
  }
  get input(): Float32Tensor {
    return this.o.input();
  }
  get seeds(): Float32Tensor {
    const k = this.o.rows[0]?.seed.length ?? 0;
    const data = new Float32Array(this.rows * k);
    this.o.rows.forEach((r, i) => {
      data.set(r.seed, i * k);
    });
    return { dtype: 'float32', dims: [this.rows, k], data };
  }

  private once<T>(key: string, f: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = f();
      this.memo.set(key, p);
    }
    return p;
  }

  /**
   * One standard-rule run over all rows, for every layer's activations and gradients: the explainer's
   * own when it fetched them (a run whose maps were made in the graph skips them), else a new one.
   */
  private layerRun() {
    return this.once('layers', () => {
      const done = this.o.prefilled?.get('layers');
      const complete = done && this.o.layers.every((l) => done.values[l] && done.grads[l]);
      return complete ? Promise.resolve(done) : this.gradientRun('layers:all', this.o.layers, this.o.rule);
    });
  }

  /** The gradient run `key` ('input:<rule>'): the one the explainer already made, or a new one. */
  private async gradientRun(key: string, wrt: readonly string[], rule: RuleSetName): Promise<GradientResult> {
    const done = this.o.prefilled?.get(key);
    if (done) return done;
    const runner = await this.o.runner(runOptions(this.o.graph, wrt, RULE_SETS[rule], this.o.forward.repeat));
    return runner.run(this.o.forward.input(), this.seedTensor(runner), this.forwardFeeds());
  }

  /** Extra feeds for the gradient runs' rows: per image when repeating, else per row. */
  private forwardFeeds(): Feeds {
    if (this.o.forward.repeat > 1) return this.o.feeds;
    return selectFeeds(
      this.o.feeds,
      this.o.rows.map((r) => r.image),
    );
  }

  private seedTensor(runner: GradientRunner): Float32Tensor {
    const dims = runner.seedDims(this.rows, this.o.targetValues.dims.slice(1));
    return { dtype: 'float32', dims, data: this.seeds.data };
  }

  /** A layer's activations per target row (the run gives them per forward row: repeated on first use). */
  activations(layer: string): Promise<Float32Tensor> {
    return this.once(`activations:${layer}`, async () =>
      repeatRows((await this.layerRun()).values[layer]!, this.o.forward.repeat),
    );
  }

  async gradients(layer: string): Promise<Float32Tensor> {
    return (await this.layerRun()).grads[layer]!;
  }

  inputGradient(rule: RuleSetName): Promise<Float32Tensor> {
    return this.once(`input:${rule}`, async () => {
      const name = this.o.model.input.name;
      return (await this.gradientRun(`input:${rule}`, [name], rule)).grads[name]!;
    });
  }

  async scores(): Promise<Float32Array> {
    const k = this.o.targetValues.data.length / this.rows;
    return Float32Array.from(this.o.rows, (r, i) =>
      scoreOf(r.seed, this.o.targetValues.data.subarray(i * k, (i + 1) * k)),
    );
  }

  private perturbations: Perturbations | undefined;
  private get perturb(): Perturbations {
    this.perturbations ??= new Perturbations({ ...this.o, input: this.o.input() });
    return this.perturbations;
  }

  scoreMasked(row: number, maps: Float32Tensor): Promise<Float32Array> {
    return this.perturb.masked(row, maps);
  }

  async scoreActivations(
    row: number,
    layer: string,
    count: number,
    variant: (k: number, out: Float32Array) => void,
  ): Promise<Float32Array> {
    return this.perturb.activations(row, layer, await this.activations(layer), count, variant);
  }

  gapHeadWeights(layer: string) {
    const g = this.o.graph;
    const head = gapHeadWeights(this.o.model.model.graph, this.shapesNow(), layer, g.reads);
    // CAM weighs the class scores it reads with the head's weights: a nonlinear target (a probability,
    // a detection score) is not a weighted sum of them, and a map that ignored the target would lie.
    if (g.explained !== g.reads || (this.o.rows[0]?.seed.length ?? head.classes) !== head.classes) {
      throw new GradsightError(
        'method-not-applicable',
        `CAM maps the class scores of ${g.reads}; this target explains another quantity (${g.explained})`,
        { hint: 'explain the class itself with CAM (-t CLASS), or use gradcam for this target' },
      );
    }
    return head;
  }

  private shapeCache: Awaited<ReturnType<ImageModel['shapes']>> | undefined;
  /** Shapes resolved before methods run (see prepare). */
  private shapesNow() {
    if (!this.shapeCache) throw new GradsightError('shape-inference', 'internal: shapes not prepared');
    return this.shapeCache;
  }

  async prepare(): Promise<void> {
    this.shapeCache = await this.o.model.shapes();
  }

  finalMap(method: MethodId): Promise<Float32Tensor> {
    return this.o.finalMap(method);
  }

  async release(): Promise<void> {
    await this.perturbations?.release();
    for (const s of this.sessions) await s.release();
  }
}
