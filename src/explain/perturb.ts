// The masked and ablated forwards of one explain() call (Score-CAM, Ablation-CAM), as perturbations
// (eval/perturbation.ts): the masked inputs are built in ONNX Runtime by the mask model, the ablated
// activations run through the tail model, and both run in the largest batches that fit the memory
// budget (or `batchSize` variants when the caller fixes it).

import { GradsightError } from '../errors.ts';
import { Masker } from '../eval/mask-model.ts';
import {
  batchWithin,
  DEFAULT_PERTURBATION_BUDGET,
  VariantScorer,
  variantBytes,
} from '../eval/perturbation.ts';
import type { ImageModel } from '../model/image-model.ts';
import type { LayerViews } from '../model/layer-view.ts';
import { tailModel } from '../model/tail-model.ts';
import type { TargetGraph } from '../model/target-graph.ts';
import type { Session } from '../runtime/runtime.ts';
import { scoreOf, type TargetRow } from '../targets/index.ts';
import { type Feeds, selectFeeds, sliceRows } from '../tensor/rows.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';

export interface PerturbOptions {
  readonly model: ImageModel;
  readonly graph: TargetGraph;
  readonly feeds: Feeds;
  readonly input: Float32Tensor;
  readonly rows: readonly TargetRow[];
  readonly views?: LayerViews;
  /** Variants per run; default: as many as fit `memoryBudget`. */
  readonly batchSize?: number;
  /** Bytes of inputs + activations one run may take (default DEFAULT_PERTURBATION_BUDGET). */
  readonly memoryBudget?: number;
  /** Checked before each forward batch (explain()'s signal). */
  readonly signal?: AbortSignal;
}

export class Perturbations {
  private readonly sessions = new Map<string, Promise<Session | Masker>>();

  constructor(private readonly o: PerturbOptions) {
    const { batchSize, memoryBudget } = o;
    if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0)) {
      throw new GradsightError('bad-argument', `batchSize must be a positive integer, got ${batchSize}`, {
        hint: 'give the number of masked or ablated copies per run (e.g. 32), or leave it out to fit memoryBudget',
      });
    }
    if (memoryBudget !== undefined && !(memoryBudget > 0 && Number.isFinite(memoryBudget))) {
      throw new GradsightError(
        'bad-argument',
        `memoryBudget must be a positive number of bytes, got ${memoryBudget}`,
        {
          hint: 'give bytes, e.g. 268435456 for 256 MiB, or leave it out for the default',
        },
      );
    }
  }

  private cached<T extends Session | Masker>(key: string, make: () => Promise<T>): Promise<T> {
    let s = this.sessions.get(key) as Promise<T> | undefined;
    if (!s) {
      s = make();
      this.sessions.set(key, s);
    }
    return s;
  }

  private get threads() {
    return this.o.model.sessionOptions();
  }

  /** Variants per run for variants whose run needs `rowBytes` each. */
  private batch(rowBytes: number, count: number): number {
    if (this.o.model.fixedBatch) return 1;
    if (this.o.batchSize !== undefined) return Math.min(this.o.batchSize, count);
    return batchWithin(this.o.memoryBudget ?? DEFAULT_PERTURBATION_BUDGET, rowBytes, count);
  }

  /** Bytes per variant of a run from `from`, with `held` bytes per variant held in JS. */
  private rowBytes(from: string, held: number): number {
    const g = this.o.graph;
    return variantBytes(g.model.graph, g.shapes, [from], held);
  }

  /** Target scores of `row`'s input masked by each map [n, h, w] (min-max normalised masks). */
  async masked(row: number, maps: Float32Tensor): Promise<Float32Array> {
    const [n, h, w] = maps.dims as [number, number, number];
    const rowDims = this.o.input.dims.slice(1);
    const masker = await this.cached(`mask:${h}x${w}`, () =>
      Masker.create(this.o.model.runtime, {
        from: [h, w],
        row: rowDims,
        layout: this.o.model.preprocess.layout,
        normalize: true,
      }),
    );
    const x = sliceRows(this.o.input, row, 1);
    const image = this.o.rows[row]!.image;
    const seed = this.o.rows[row]!.seed;
    const scorer = new VariantScorer(
      this.batch(this.rowBytes(this.o.model.input.name, x.data.length * 4), n),
      async (batch) => {
        this.o.signal?.throwIfAborted();
        const feeds = selectFeeds(this.o.feeds, Array(batch.dims[0]!).fill(image));
        return (await this.o.model.runTarget(this.o.graph, batch, feeds)).t;
      },
      (t) => scoreOf(seed, t),
    );
    return scorer.masked(masker, x, maps);
  }

  /** Target scores of `row` when `layer`'s activations `a` are replaced by `count` variants. */
  async activations(
    row: number,
    layer: string,
    a: Float32Tensor,
    count: number,
    variant: (k: number, out: Float32Array) => void,
  ): Promise<Float32Array> {
    const g = this.o.graph;
    const session = await this.cached(`tail:${layer}`, () =>
      this.o.model.runtime.createSession(
        tailModel(
          g.model,
          layer,
          g.explained,
          g.shapes.get(layer)?.shape,
          this.o.views?.[layer],
          undefined,
          Object.keys(this.o.feeds),
        ),
        this.threads,
      ),
    );
    const rowDims = a.dims.slice(1);
    const size = rowDims.reduce((p, q) => p * q, 1);
    const seed = this.o.rows[row]!.seed;
    const batch = this.batch(this.rowBytes(layer, size * 4), count);
    // One buffer for every batch: each run has returned before the next batch is written.
    const buffer = new Float32Array(batch * size);
    const scorer = new VariantScorer(
      batch,
      async (b) => {
        this.o.signal?.throwIfAborted();
        // The tail reads the row's extra inputs (its caption or question) beside the edited layer.
        const image = this.o.rows[row]!.image;
        const feeds = selectFeeds(this.o.feeds, Array(b.dims[0]!).fill(image));
        const used = Object.fromEntries(
          Object.entries(feeds).filter(([k]) => session.inputNames.includes(k)),
        );
        return (await session.run({ ...used, [layer]: b }, [g.explained]))[g.explained] as Float32Tensor;
      },
      (t) => scoreOf(seed, t),
    );
    return scorer.variants(count, (start, n) => {
      const data = buffer.subarray(0, n * size);
      for (let i = 0; i < n; i++) variant(start + i, data.subarray(i * size, (i + 1) * size));
      return { dtype: 'float32', dims: [n, ...rowDims], data };
    });
  }

  async release(): Promise<void> {
    for (const s of this.sessions.values()) await (await s.catch(() => undefined))?.release();
    this.sessions.clear();
  }
}
