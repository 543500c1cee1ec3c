// Compiles a model's gradient graph once and runs it: one ONNX Runtime run gives the target scores,
// the requested activations and their gradients for a batch, each row with its own seed.

import type { CompileOptions } from '../autodiff/index.ts';
import { GradsightError, isGradsightError } from '../errors.ts';
import { inferShapes } from '../onnx/index.ts';
import type { Session } from '../runtime/runtime.ts';
import { concatRows, type Feeds, sliceFeeds, sliceRows } from '../tensor/rows.ts';
import type { Float32Tensor, Tensor } from '../tensor/tensor.ts';
import type { ImageModel } from './image-model.ts';
import type { LayerViews } from './layer-view.ts';
import {
  type AlsoPart,
  compileWithViews,
  type InGraphMap,
  type ViewedGradientModel,
} from './layer-view-compile.ts';
import type { OneHotSeed } from './one-hot-head.ts';
import type { GraphSource } from './target-graph.ts';

export interface GradientResult {
  /** The explained (differentiated) tensor's value: pre-softmax logits by default, [N, ...]. */
  readonly explained: Float32Tensor;
  readonly values: Readonly<Record<string, Float32Tensor>>;
  readonly grads: Readonly<Record<string, Float32Tensor>>;
  /** Every graph output by name (the scores a head reads, an in-graph selection's indices, ...). */
  readonly outputs: Readonly<Record<string, Tensor>>;
  /** In-graph maps by method id (GradientRunnerOptions.maps): the final [rows, H, W] and raw [rows, h, w] CAMs. */
  readonly maps: Readonly<Record<string, InGraphResult>>;
  /** With in-graph maps: Σ|gradient| per row of each map layer (layer-view-compile.ts's GradientSumOutput). */
  readonly gradientSums: Readonly<Record<string, Float64Array>>;
}

export interface RunFetch {
  /**
   * Tensors whose values and gradients the caller does not read (layers whose maps the graph makes):
   * they are not copied out of ONNX Runtime, and are absent from `values` and `grads`.
   */
  readonly skip?: readonly string[];
}

export interface InGraphResult {
  readonly final: Float32Tensor;
  readonly perLayer: ReadonlyMap<string, Float32Tensor>;
}

export type GradientRunnerOptions = Omit<CompileOptions, 'shapes'> & {
  /** Tensors read through a layer view: their values and gradients come out N×C×H×W. */
  readonly views?: LayerViews;
  /** Further backward graphs (other tensors, other rule sets) from the same forward pass and seed. */
  readonly also?: readonly AlsoPart[];
  /** Methods whose final map the graph computes (at the input's height and width). */
  readonly maps?: readonly Omit<InGraphMap, 'size'>[];
  /** The seed is one-hot rows made in the graph: the classifier head's backward gathers its weight rows. */
  readonly oneHot?: OneHotSeed;
};

/** A gradient model compiled for one input size, and its session. */
interface Sized {
  readonly compiled: ViewedGradientModel;
  readonly session: Session;
}

export class GradientRunner {
  /**
   * Gradient models for other input sizes ('HxW'), compiled on first use: a model with symbolic H, W
   * runs at any size, and rules whose geometry depends on it (pooling windows, Resize) get static
   * shapes for the size actually fed.
   */
  private readonly sized = new Map<string, Promise<Sized>>();

  private constructor(
    readonly compiled: ViewedGradientModel,
    private readonly session: Session,
    private readonly model: ImageModel,
    private readonly repeatRows: boolean,
    private readonly fixedBatch: boolean,
    private readonly recompile: (size: readonly [number, number]) => Promise<Sized>,
    /** The seed is computed in the graph (CompileOptions.seed names a tensor): runs take none. */
    private readonly inGraphSeed: boolean,
  ) {}

  /** Compiles gradients of `graph` (default: the model itself; a target graph adds a head). */
  static async create(
    model: ImageModel,
    options: GradientRunnerOptions,
    threads?: number,
    graph?: GraphSource,
  ): Promise<GradientRunner> {
    const source = graph ?? { bytes: model.source.bytes, model: model.model, shapes: await model.shapes() };
    // Layer views (layer-view.ts): values and gradients of non-NCHW layers come out N×C×H×W.
    const { views, also, maps, oneHot, ...compile } = options;
    const compileFor = async (shapes: GraphSource['shapes']): Promise<Sized> => {
      const size = maps?.length ? inputSize(model, shapes) : undefined;
      const sizedMaps = size ? maps!.map((m) => ({ ...m, size })) : [];
      const build = (gradientShapes: boolean) =>
        compileWithViews(
          source.bytes,
          source.model,
          { ...compile, shapes, gradientShapes },
          views,
          also,
          sizedMaps,
          oneHot,
        );
      const open = (compiled: ViewedGradientModel) =>
        model.runtime.createSession(compiled.bytes, {
          ...model.sessionOptions(),
          ...(threads !== undefined ? { threads } : {}),
          ...(model.source.externalData ? { externalData: model.source.externalData } : {}),
        });
      // The gradients' shapes are a hint for ONNX Runtime's optimizer: a model it then cannot load
      // (an optimizer fault on an unusual graph) is compiled and loaded again without them.
      const hinted = build(true);
      try {
        return { compiled: hinted, session: await open(hinted) };
      } catch (e) {
        if (!isGradsightError(e, 'model-invalid')) throw e;
        const plain = build(false);
        return { compiled: plain, session: await open(plain) };
      }
    };
    // Another size: the base model's shapes there (probed if need be), then a head's on top.
    const recompile = async (size: readonly [number, number]) => {
      const base = await model.shapes(size);
      const dims = model.inputDims(1, size);
      const batch = model.input.shape?.[0];
      const inputShape = [typeof batch === 'string' ? batch : 1, ...dims.slice(1)];
      return compileFor(graph ? inferShapes(source.model, { [model.input.name]: inputShape }, base) : base);
    };
    const { compiled, session } = await compileFor(source.shapes);
    checkBatchAxis(model, compiled);
    return new GradientRunner(
      compiled,
      session,
      model,
      options.repeatRows === true,
      model.fixedBatch,
      recompile,
      options.seed !== undefined,
    );
  }

  /** The gradient model for the input's size: the one compiled at create, or one for its H×W. */
  private sizedFor(input: Float32Tensor): Promise<Sized> {
    const size = this.model.preprocess.size;
    const dims = input.dims;
    const hw = this.model.spatialOf(dims);
    if (dims.length !== 4 || (hw[0] === size[0] && hw[1] === size[1]))
      return Promise.resolve({ compiled: this.compiled, session: this.session });
    const declared = this.model.spatialOf(this.model.input.shape ?? []);
    if (declared.some((d) => typeof d === 'number')) {
      throw new GradsightError(
        'bad-argument',
        `the input has shape [${dims.join(', ')}]; the model takes [N, ${this.model.inputDims(1).slice(1).join(', ')}]`,
        { hint: 'resize the input to the model size (its height and width are static)' },
      );
    }
    const key = hw.join('x');
    let sized = this.sized.get(key);
    if (!sized) {
      sized = this.recompile(hw);
      this.sized.set(key, sized);
      sized.catch(() => this.sized.delete(key));
    }
    return sized;
  }

  /**
   * The seed shape for n rows: the target's shape with the batch axis set, and its symbolic axes (a
   * caption's length) from `rowDims`, the run-time dims of one row of the target.
   */
  seedDims(n: number, rowDims?: readonly number[]): number[] {
    return this.compiled.seed.shape.map((d, i) => {
      if (i === 0) return n;
      if (typeof d !== 'number' && rowDims?.[i - 1] !== undefined) return rowDims[i - 1]!;
      if (typeof d !== 'number')
        throw new GradsightError('shape-inference', `the target's axis ${i} has no static size`);
      return d;
    });
  }

  /**
   * One run: `input` [n, ...] with its extra feeds (n rows each), and the seed rows — or no seed when
   * the model computes it in-graph (compiled with `seed` naming a tensor, e.g. a TopK selection).
   */
  async run(
    input: Float32Tensor,
    seed: Tensor | undefined,
    extra?: Feeds,
    fetch: RunFetch = {},
  ): Promise<GradientResult> {
    const n = input.dims[0]!;
    const s = seed === undefined ? this.noSeed() : this.checkSeed(seed, n);
    const feeds = this.model.feedsFor(input, extra);
    const sized = await this.sizedFor(input);
    if (!this.fixedBatch || n === 1) return this.runOnce(sized, feeds, s, fetch);
    // A model exported with batch 1: one image (and its seed rows) at a time.
    const r = s ? s.dims[0]! / n : 0;
    const parts: GradientResult[] = [];
    for (let i = 0; i < n; i++)
      parts.push(await this.runOnce(sized, sliceFeeds(feeds, i, 1), s && sliceRows(s, i * r, r), fetch));
    return concatResults(parts, this.compiled);
  }

  /** No seed is fed: only for a model that computes its seed in the graph. */
  private noSeed(): undefined {
    if (!this.inGraphSeed) {
      throw new GradsightError('internal-error', 'internal: this gradient model needs a seed input', {
        hint: 'this is a bug in gradsight; please report it',
      });
    }
    return undefined;
  }

  /** The seed rows for n input rows, as float32: n rows, or with repeatRows the same number per row. */
  private checkSeed(seed: Tensor, n: number): Float32Tensor {
    const rows = this.repeatRows && seed.dims[0]! % n === 0 ? seed.dims[0]! : n;
    const want = this.seedDims(rows, seed.dims.slice(1));
    if (seed.dims.length !== want.length || seed.dims.some((d, i) => d !== want[i])) {
      throw new GradsightError(
        'bad-argument',
        `the seed has shape [${seed.dims.join(', ')}], expected [${want.join(', ')}]`,
        {
          hint: `one row per image${this.repeatRows ? ' (or the same number of rows for every image)' : ''} with one value per output of ${this.compiled.explained}`,
        },
      );
    }
    return asFloat32(seed);
  }

  private async runOnce(
    { compiled, session }: Sized,
    feeds: Feeds,
    seed: Float32Tensor | undefined,
    fetch: RunFetch,
  ): Promise<GradientResult> {
    // Outputs of the model itself (a layer that is also a graph output) are fetched all the same.
    const own = new Set([compiled.explainedOutput, ...this.model.model.graph.outputs.map((o) => o.name)]);
    const skipped = compiled.outputs.filter((o) => fetch.skip?.includes(o.tensor));
    const unread = new Set(skipped.flatMap((o) => [o.value, o.grad]).filter((name) => !own.has(name)));
    const fetches = unread.size ? session.outputNames.filter((name) => !unread.has(name)) : undefined;
    const run = seed ? { ...feeds, [compiled.seed.name]: seed } : feeds;
    const out = await session.run(run, fetches);
    checkRunShape(compiled, out[compiled.explainedOutput]!, feeds[this.model.input.name]!.dims[0]!);
    const values: Record<string, Float32Tensor> = {};
    const grads: Record<string, Float32Tensor> = {};
    for (const o of compiled.outputs) {
      if (out[o.value]) values[o.tensor] = out[o.value] as Float32Tensor;
      if (out[o.grad]) grads[o.tensor] = out[o.grad] as Float32Tensor;
    }
    const gradientSums: Record<string, Float64Array> = {};
    for (const g of compiled.gradientSums) gradientSums[g.layer] = out[g.sum]!.data as Float64Array;
    const maps: Record<string, InGraphResult> = {};
    for (const m of compiled.maps) {
      maps[m.key] = {
        final: dropUnitAxis(out[m.final] as Float32Tensor),
        perLayer: new Map(m.perLayer.map((c) => [c.layer, dropUnitAxis(out[c.cam] as Float32Tensor)])),
      };
    }
    return {
      explained: out[compiled.explainedOutput] as Float32Tensor,
      values,
      grads,
      outputs: out,
      maps,
      gradientSums,
    };
  }

  async release(): Promise<void> {
    const others = [...this.sized.values()];
    this.sized.clear();
    for (const s of await Promise.allSettled(others))
      if (s.status === 'fulfilled') await s.value.session.release();
    await this.session.release();
  }
}

/** Row-wise concatenation of per-image results (fixed-batch models). */
function concatResults(parts: readonly GradientResult[], compiled: ViewedGradientModel): GradientResult {
  const cat = (pick: (p: GradientResult) => Float32Tensor) => concatRows(parts.map(pick));
  const names = Object.keys(parts[0]!.outputs);
  const first = parts[0]!;
  const sums = (k: string) => Float64Array.from(parts.flatMap((p) => [...p.gradientSums[k]!]));
  return {
    explained: cat((p) => p.explained),
    values: Object.fromEntries(Object.keys(first.values).map((k) => [k, cat((p) => p.values[k]!)])),
    grads: Object.fromEntries(Object.keys(first.grads).map((k) => [k, cat((p) => p.grads[k]!)])),
    gradientSums: Object.fromEntries(Object.keys(first.gradientSums).map((k) => [k, sums(k)])),
    outputs: Object.fromEntries(names.map((k) => [k, concatRows(parts.map((p) => p.outputs[k]!))])),
    maps: Object.fromEntries(
      compiled.maps.map((m) => [
        m.key,
        {
          final: cat((p) => p.maps[m.key]!.final),
          perLayer: new Map(
            m.perLayer.map((c) => [c.layer, cat((p) => p.maps[m.key]!.perLayer.get(c.layer)!)]),
          ),
        },
      ]),
    ),
  };
}

/**
 * The explained tensor has one row per image: a first axis that is the input's batch. A static first
 * size that cannot be the batch (the input's batch is 1 or free, the output's a number above 1) means
 * the model reduced or moved the batch axis, and every seed row would be misread.
 */
function checkBatchAxis(model: ImageModel, compiled: ViewedGradientModel): void {
  const batch = model.input.shape?.[0];
  const first = compiled.seed.shape[0];
  if (typeof first !== 'number' || first === 1 || first === batch) return;
  throw new GradsightError(
    'shape-mismatch',
    `the explained tensor ${compiled.explained} has shape [${compiled.seed.shape.join(', ')}]: its first axis is not the batch of the input ${model.input.name} [${(model.input.shape ?? []).join(', ')}]`,
    {
      hint: 'explain a tensor with one row per image (--target-output), or export the model with the batch axis first on its output',
      details: { tensor: compiled.explained, shape: compiled.seed.shape },
    },
  );
}

/** The run gave the explained tensor the shape it was compiled for ([rows, ...static sizes]). */
function checkRunShape(compiled: ViewedGradientModel, t: Tensor, rows: number): void {
  const want = compiled.seed.shape;
  const ok =
    t.dims.length === want.length &&
    t.dims[0] === rows &&
    want.every((d, i) => i === 0 || typeof d !== 'number' || d === t.dims[i]);
  if (ok) return;
  throw new GradsightError(
    'shape-mismatch',
    `the model's ${compiled.explained} has shape [${t.dims.join(', ')}] when run on ${rows} image(s), but the model declares [${want.join(', ')}]`,
    {
      hint: 'the declared output shape is wrong: re-export the model (or fix the output value_info) so that it says what the graph computes',
      details: { tensor: compiled.explained, shape: t.dims, declared: want },
    },
  );
}

/** [rows, 1, h, w] → [rows, h, w] (the same data). */
function dropUnitAxis(t: Float32Tensor): Float32Tensor {
  return { dtype: 'float32', dims: [t.dims[0]!, ...t.dims.slice(2)], data: t.data };
}

/** The image input's static height and width in `shapes` (what an in-graph map is resized to). */
function inputSize(model: ImageModel, shapes: GraphSource['shapes']): readonly [number, number] {
  const hw = model.spatialOf(shapes.get(model.input.name)?.shape ?? []);
  if (typeof hw[0] !== 'number' || typeof hw[1] !== 'number') {
    throw new GradsightError(
      'shape-inference',
      `the input ${model.input.name} has no static height and width`,
      {
        hint: 'give the input size (--size HxW) for a model with free height and width',
      },
    );
  }
  return [hw[0], hw[1]];
}

function asFloat32(t: Tensor): Float32Tensor {
  if (t.dtype === 'float32') return t as Float32Tensor;
  if (t.dtype === 'float64')
    return { dtype: 'float32', dims: t.dims, data: Float32Array.from(t.data as Float64Array) };
  throw new GradsightError('bad-argument', `the seed must be float32 or float64, got ${t.dtype}`);
}
