// An image model ready to run: the decoded graph, a runtime session, its preprocessing and labels.
// Platform-neutral: the Node and browser entry points open files and pick the runtime.

import { closestNames, GradsightError } from '../errors.ts';
import {
  inputDimsOf,
  type PreprocessConfig,
  type PreprocessFlags,
  resolvePreprocess,
} from '../image/preprocess.ts';
import {
  appendGraphOutputs,
  inferShapes,
  inferShapesWithFallback,
  type Model,
  unresolved,
  type ValueInfo,
} from '../onnx/index.ts';
import type { ExternalDataFile, Runtime, Session } from '../runtime/runtime.ts';
import type { TargetHead } from '../targets/head.ts';
import { concatRows, type Feeds, sliceFeeds } from '../tensor/rows.ts';
import type { Float32Tensor, Tensor } from '../tensor/tensor.ts';
import {
  type DescriptionFlags,
  describeHint,
  formatDims,
  type ModelDescription,
  resolveDescription,
} from './description.ts';
import { detectorLayer } from './detector-layer.ts';
import { checkInputPixels, checkMaxInputPixels, DEFAULT_MAX_INPUT_PIXELS } from './input-pixels.ts';
import { checkFeeds, pickImageInput } from './inputs.ts';
import type { LayerLayout } from './layer-view.ts';
import { candidateLayers, defaultLayer, type LayerInfo, resolveLayers } from './layers.ts';
import { type Prediction, rankOutput } from './predict.ts';
import { type SelectionGraph, selectionGraph, type TargetGraph, targetGraph } from './target-graph.ts';

export interface ImageModelSource {
  readonly bytes: Uint8Array;
  readonly model: Model;
  readonly externalData?: readonly ExternalDataFile[];
  readonly preprocessFile?: unknown;
  readonly preprocessSource?: string;
  readonly labels?: readonly string[] | undefined;
  /** The lines of the vocabulary and answers files a captioning or VQA description names. */
  readonly vocabulary?: readonly string[] | undefined;
  readonly answers?: readonly string[] | undefined;
}

export interface ImageModelOptions {
  /**
   * Preprocessing and model-description overrides (command-line flags: channels, task, decoder, ...);
   * they win over preprocess.json and defaults.
   */
  readonly preprocess?: PreprocessFlags & DescriptionFlags;
  /** Which graph output to read; default: the first. */
  readonly output?: string;
  readonly threads?: number;
  /** Whether ONNX Runtime's idle threads spin (SessionOptions.spinning; default: they do). */
  readonly spinning?: boolean;
  /** Which graph input is the image (default: inferred from shapes, see model/inputs.ts). */
  readonly imageInput?: string;
  /** The largest input height × width accepted (default 16 MP, DEFAULT_MAX_INPUT_PIXELS). */
  readonly maxInputPixels?: number;
  /**
   * When the model's own session is made: at open ('eager', the default: ONNX Runtime checks the model
   * there), or at its first forward run ('lazy': an explanation that needs only the gradient model's
   * session, as `gradsight explain` with one run, never pays for it).
   */
  readonly session?: 'eager' | 'lazy';
}

export class ImageModel {
  /** The image input. */
  readonly input: ValueInfo;
  /** The model's other inputs (token ids, masks, ...): fed with every run. */
  readonly extraInputs: readonly ValueInfo[];
  readonly output: ValueInfo;
  readonly preprocess: PreprocessConfig;
  /**
   * True when the chosen output is already probabilities: produced by Softmax (classification) or by
   * Sigmoid (multi-label).
   */
  readonly outputIsProbability: boolean;
  /** What the image input and the chosen output are (channels, task, classes): model/description.ts. */
  readonly description: ModelDescription;
  /** Shapes per input size ('HxW'), computed once each. */
  private readonly shapeCache = new Map<string, Promise<ReadonlyMap<string, ValueInfo>>>();
  private readonly alignedLabels: readonly string[] | undefined;
  private readonly tensorSessions = new Map<string, Promise<Session>>();
  private readonly targetGraphs = new Map<string, Promise<TargetGraph>>();
  private readonly selectionGraphs = new Map<string, SelectionGraph>();
  private readonly defaultLayers = new Map<string, Promise<LayerInfo>>();
  /** Intra-op threads for sessions this model creates (undefined: the runtime's default). */
  readonly threads: number | undefined;
  /** Whether the idle threads of sessions this model creates spin (undefined: the runtime's default). */
  readonly spinning: boolean | undefined;
  /** The largest input height × width this model runs at (ImageModelOptions.maxInputPixels). */
  readonly maxInputPixels: number;
  private released = false;

  private constructor(
    readonly source: ImageModelSource,
    readonly runtime: Runtime,
    input: ValueInfo,
    output: ValueInfo,
    preprocess: PreprocessConfig,
    description: ModelDescription,
    threads: number | undefined,
    maxInputPixels: number,
    spinning: boolean | undefined,
  ) {
    this.threads = threads;
    this.spinning = spinning;
    this.maxInputPixels = maxInputPixels;
    const g = source.model.graph;
    this.input = input;
    this.extraInputs = g.inputs.filter((i) => i.name !== input.name);
    this.output = output;
    this.preprocess = preprocess;
    this.description = description;
    const producer = g.producers.get(output.name)?.opType;
    this.outputIsProbability = producer === (description.task.kind === 'multi-label' ? 'Sigmoid' : 'Softmax');
    // A language model's classes are its words (captioning) or answers (VQA), unless labels.txt says.
    const labels = source.labels ?? description.language?.answers ?? description.language?.vocabulary;
    this.alignedLabels = alignLabels(labels, preprocess.labelOffset, description.classes, {
      ...description,
      output,
    });
  }

  static async create(
    runtime: Runtime,
    source: ImageModelSource,
    opts: ImageModelOptions = {},
  ): Promise<ImageModel> {
    const g = source.model.graph;
    const maxInputPixels =
      opts.maxInputPixels === undefined ? DEFAULT_MAX_INPUT_PIXELS : checkMaxInputPixels(opts.maxInputPixels);
    checkModelOptions(opts);
    const input = pickImageInput(g.inputs, opts.imageInput);
    if (input.dtype !== undefined && input.dtype !== 'float32') {
      throw new GradsightError(
        'unsupported-dtype',
        `input ${input.name} is ${input.dtype}; gradsight feeds float32`,
        {
          hint: 'use a float32 model (quantized/uint8-input models are not supported yet)',
        },
      );
    }
    const output = pickOutput(g.outputs, opts.output);
    const preprocess = resolvePreprocess({
      ...(opts.preprocess ? { flags: opts.preprocess } : {}),
      ...(source.preprocessFile !== undefined ? { file: source.preprocessFile } : {}),
      ...(source.preprocessSource !== undefined ? { fileSource: source.preprocessSource } : {}),
      ...(input.shape ? { inputShape: input.shape } : {}),
    });
    const sizeFrom = opts.preprocess?.size
      ? 'options'
      : (source.preprocessFile as { size?: unknown } | undefined)?.size
        ? 'file'
        : 'model';
    checkInputPixels(preprocess.size, maxInputPixels, sizeFrom, source.preprocessSource);
    // The output's task, checked against the output shape before a session is made.
    const description = resolveDescription({
      ...(opts.preprocess ? { flags: opts.preprocess } : {}),
      ...(source.preprocessFile !== undefined ? { file: source.preprocessFile } : {}),
      ...(source.preprocessSource !== undefined ? { fileSource: source.preprocessSource } : {}),
      preprocess,
      output,
      extraInputs: g.inputs.filter((i) => i.name !== input.name),
      ...(source.vocabulary ? { vocabulary: source.vocabulary } : {}),
      ...(source.answers ? { answers: source.answers } : {}),
    });
    if (description.layer !== undefined) checkDescribedLayer(g, description.layer, source.preprocessSource);
    const model = new ImageModel(
      source,
      runtime,
      input,
      output,
      preprocess,
      description,
      opts.threads,
      maxInputPixels,
      opts.spinning,
    );
    if (opts.session !== 'lazy') await model.forwardSession();
    return model;
  }

  /** The model's own session (made once, on first use unless the model was opened eagerly). */
  private forwardSession(): Promise<Session> {
    return this.sessionFor('forward', () => this.source.bytes);
  }

  get model(): Model {
    return this.source.model;
  }

  /** Labels aligned with output indices (see alignLabels). */
  get labels(): readonly string[] | undefined {
    return this.alignedLabels;
  }

  /** True when the model declares batch size 1: batches then run one row at a time. */
  get fixedBatch(): boolean {
    return this.input.shape?.[0] === 1;
  }

  /** Input shape for a batch of n images under the resolved preprocessing (or at `size`, [H, W]). */
  inputDims(n: number, size: readonly [number, number] = this.preprocess.size): number[] {
    return inputDimsOf(this.preprocess, n, size);
  }

  /** The height and width entries of an input shape [N, C, H, W] or [N, H, W, C] (the preprocessing's layout). */
  spatialOf<T>(dims: readonly T[]): [T, T] {
    return this.preprocess.layout === 'NHWC' ? [dims[1]!, dims[2]!] : [dims[2]!, dims[3]!];
  }

  /**
   * Static shapes of every tensor for batch 1 at the preprocessing size (or at `size`, [H, W], for a
   * model with symbolic H and W run at another size); ORT fills the gaps.
   */
  shapes(size: readonly [number, number] = this.preprocess.size): Promise<ReadonlyMap<string, ValueInfo>> {
    const key = size.join('x');
    let shapes = this.shapeCache.get(key);
    if (!shapes) {
      shapes = this.computeShapes(size);
      this.shapeCache.set(key, shapes);
    }
    return shapes;
  }

  private async computeShapes(size: readonly [number, number]): Promise<ReadonlyMap<string, ValueInfo>> {
    // A language model's token input at its described length: a recurrent decoder is differentiated
    // unrolled over a fixed number of steps (model/language-description.ts).
    const language = this.description.language;
    const tokens =
      language?.tokenLength !== undefined
        ? { [language.tokenInput]: [1, language.tokenLength] as (number | string)[] }
        : {};
    const fixed = { [this.input.name]: this.inputDims(1, size), ...tokens } as Record<string, number[]>;
    const fixedSpatial = {
      ...withSymbolicBatch(this.input, this.inputDims(1, size)),
      ...(language && tokens[language.tokenInput]
        ? {
            [language.tokenInput]: [
              this.extraInputs.find((i) => i.name === language.tokenInput)?.shape?.[0] ?? 1,
              language.tokenLength!,
            ],
          }
        : {}),
    } as Record<string, (number | string)[]>;
    // Keep the batch symbolic for display; fall back to a probe run only for tensors static inference
    // cannot resolve.
    const symbolic = inferShapes(this.model, fixedSpatial);
    if (unresolved(this.model, symbolic).length === 0) return symbolic;
    return inferShapesWithFallback(this.runtime, this.model, fixed);
  }

  async layers(): Promise<LayerInfo[]> {
    return candidateLayers(this.model.graph, await this.shapes());
  }

  /** The default CAM layer (cached per stated layout: explain() asks on every call). */
  defaultLayer(layout?: LayerLayout): Promise<LayerInfo> {
    const key = JSON.stringify(layout ?? null);
    let layer = this.defaultLayers.get(key);
    if (!layer) {
      layer = this.findDefaultLayer(layout);
      layer.catch(() => this.defaultLayers.delete(key));
      this.defaultLayers.set(key, layer);
    }
    return layer;
  }

  private async findDefaultLayer(layout?: LayerLayout): Promise<LayerInfo> {
    const shapes = await this.shapes();
    // The description names it ("layer"): a map the search would pass over (one the tokens reach).
    const named = this.description.layer;
    if (named !== undefined) return resolveLayers(this.model.graph, shapes, [named], layout)[0]!;
    // A detector's head branches and merges again: its default layer is the map every branch reads.
    if (this.description.task.kind === 'detection')
      return detectorLayer(this.model.graph, shapes, this.output.name, layout);
    // A captioner's or VQA model's map is the image's: never a tensor the tokens reach (an LSTM output).
    const language = this.description.language;
    const exclude = language ? reachedFrom(this.model.graph, language.tokenInput) : undefined;
    return defaultLayer(this.model.graph, shapes, this.output.name, layout, exclude);
  }

  /** The image batch and the extra feeds, checked, as one feed dict. */
  feedsFor(batch: Float32Tensor, extra?: Feeds): Feeds {
    if (this.released) {
      throw new GradsightError('bad-argument', 'this model is released: its sessions are closed', {
        hint: 'open the model again (openImageModel or loadExplainer in Node) to run it',
      });
    }
    return { ...checkFeeds(this.extraInputs, extra, batch.dims[0]!), [this.input.name]: batch };
  }

  /** Runs a preprocessed batch and returns the chosen output as float32. */
  async run(batch: Float32Tensor, extra?: Feeds): Promise<Float32Tensor> {
    return this.runTensor(batch, this.output.name, extra);
  }

  /** Runs a batch and returns any tensor of the graph (a session exposing it is made once). */
  async runTensor(batch: Float32Tensor, name: string, extra?: Feeds): Promise<Float32Tensor> {
    const session = this.model.graph.outputs.some((o) => o.name === name)
      ? await this.forwardSession()
      : await this.sessionFor(name, () => appendGraphOutputs(this.source.bytes, [name]));
    const out = await perRow(this.fixedBatch, this.feedsFor(batch, extra), async (f) =>
      session.run(f, [name]),
    );
    return float32Of(out[name]!, name);
  }

  /** The model with a target's head appended (cached by the read tensor and the head). */
  targetGraph(reads: string, head: TargetHead | undefined): Promise<TargetGraph> {
    const key = `${reads}|${head?.key ?? ''}`;
    let g = this.targetGraphs.get(key);
    if (!g) {
      g = this.shapes().then((shapes) =>
        targetGraph({ bytes: this.source.bytes, model: this.model, shapes }, reads, head),
      );
      this.targetGraphs.set(key, g);
      g.catch(() => this.targetGraphs.delete(key));
    }
    return g;
  }

  /** A target graph whose seeds are its k best classes, chosen in the graph (cached). */
  selectionGraph(graph: TargetGraph, k: number, sign: 1 | -1): SelectionGraph {
    const key = `${graph.key}|top:${k}:${sign}`;
    let g = this.selectionGraphs.get(key);
    if (!g) {
      g = selectionGraph(graph, k, sign);
      this.selectionGraphs.set(key, g);
    }
    return g;
  }

  /** X (the read tensor) and T (the head's output) of a target graph for a batch. */
  async runTarget(
    graph: TargetGraph,
    batch: Float32Tensor,
    extra?: Feeds,
  ): Promise<{ x: Float32Tensor; t: Float32Tensor }> {
    const session =
      graph.forwardBytes === this.source.bytes
        ? await this.forwardSession()
        : await this.sessionFor(`target:${graph.key}`, () => graph.forwardBytes);
    const fetch = [...new Set([graph.reads, graph.explained])];
    const out = await perRow(this.fixedBatch, this.feedsFor(batch, extra), (f) => session.run(f, fetch));
    return {
      x: float32Of(out[graph.reads]!, graph.reads),
      t: float32Of(out[graph.explained]!, graph.explained),
    };
  }

  /** Threads and spinning for every session made for this model (its own, gradient models, tails). */
  sessionOptions(): { threads?: number; spinning?: boolean } {
    return {
      ...(this.threads !== undefined ? { threads: this.threads } : {}),
      ...(this.spinning !== undefined ? { spinning: this.spinning } : {}),
    };
  }

  private sessionFor(key: string, bytes: () => Uint8Array): Promise<Session> {
    let session = this.tensorSessions.get(key);
    if (!session) {
      session = this.runtime.createSession(bytes(), {
        ...this.sessionOptions(),
        ...(this.source.externalData ? { externalData: this.source.externalData } : {}),
      });
      this.tensorSessions.set(key, session);
      session.catch(() => this.tensorSessions.delete(key));
    }
    return session;
  }

  async predict(batch: Float32Tensor, top = 5, extra?: Feeds): Promise<Prediction[]> {
    const out = await this.run(batch, extra);
    return rankOutput(out, {
      top,
      labels: this.labels,
      outputIsProbability: this.outputIsProbability,
      task: this.description.task,
    });
  }

  /** Closes the sessions; a second call does nothing. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const s of this.tensorSessions.values()) await (await s.catch(() => undefined))?.release();
    this.tensorSessions.clear();
  }
}

/** The options besides preprocessing and the pixel bound, checked as the CLI checks its flags. */
function checkModelOptions(opts: ImageModelOptions): void {
  const { threads, output, imageInput, session, spinning } = opts;
  if (spinning !== undefined && typeof spinning !== 'boolean') {
    throw new GradsightError('bad-argument', `spinning must be true or false, got ${String(spinning)}`, {
      hint: 'false lets idle ONNX Runtime threads sleep (leave it out for the default, spinning)',
    });
  }
  if (session !== undefined && session !== 'eager' && session !== 'lazy') {
    throw new GradsightError('bad-argument', `session must be 'eager' or 'lazy', got ${String(session)}`, {
      hint: "leave it out (eager: the session is made at open), or 'lazy' to make it at the first forward run",
    });
  }
  if (threads !== undefined && !(Number.isSafeInteger(threads) && threads > 0)) {
    throw new GradsightError(
      'bad-argument',
      `threads must be a positive whole number, got ${String(threads)}`,
      {
        hint: 'the intra-op threads of ONNX Runtime, e.g. threads: 4 (leave it out for the default)',
      },
    );
  }
  for (const [key, v] of [
    ['output', output],
    ['imageInput', imageInput],
  ] as const) {
    if (v !== undefined && typeof v !== 'string') {
      throw new GradsightError('bad-argument', `${key} must be a tensor name, got ${String(v)}`, {
        hint: 'gradsight inspect lists the inputs and outputs',
      });
    }
  }
}

function pickOutput(outputs: readonly ValueInfo[], name: string | undefined): ValueInfo {
  if (name === undefined) {
    const first = outputs[0];
    if (!first) throw new GradsightError('model-invalid', 'the model has no outputs');
    return first;
  }
  const hit = outputs.find((o) => o.name === name);
  if (!hit) {
    throw new GradsightError('bad-argument', `the model has no output named ${JSON.stringify(name)}`, {
      hint: `outputs: ${outputs.map((o) => o.name).join(', ')}`,
    });
  }
  return hit;
}

/** A "layer" the description names must be a tensor some node of the graph computes. */
function checkDescribedLayer(graph: Model['graph'], layer: string, source = 'preprocess.json'): void {
  if (graph.producers.has(layer)) return;
  const names = graph.nodes.flatMap((n) => n.outputs.filter((o) => o !== ''));
  throw new GradsightError(
    'bad-description',
    `${source}: "layer" names ${JSON.stringify(layer)}, which no node of the model computes`,
    {
      hint: `name a tensor of the graph (\`gradsight inspect\` lists the candidate layers); closest: ${closestNames(layer, names).join(', ')}`,
      details: { source, key: 'layer', layer },
    },
  );
}

/** Every tensor computed from `input`, walking forward through the nodes that read it. */
function reachedFrom(graph: Model['graph'], input: string): Set<string> {
  const reached = new Set<string>([input]);
  const stack = [input];
  while (stack.length) {
    for (const node of graph.consumers.get(stack.pop()!) ?? []) {
      for (const o of node.outputs) {
        if (o !== '' && !reached.has(o)) {
          reached.add(o);
          stack.push(o);
        }
      }
    }
  }
  return reached;
}

/** The input dims with axis 0 left symbolic when the model declares it so. */
function withSymbolicBatch(input: ValueInfo, dims: number[]): Record<string, (number | string)[]> {
  const batch = input.shape?.[0];
  const first = typeof batch === 'string' ? batch : 1;
  return { [input.name]: [first, ...dims.slice(1)] };
}

/**
 * Line i of labels.txt names class i when the file has one line per class (the output's classes, or a
 * detection decoder's: 80 for FastestDet's 85 = 5 + 80 channels). When it has `labelOffset` fewer lines
 * (an ImageNet list without the background class, for a 1001-way model), class i is line
 * i − labelOffset and the first classes are called "background". `description` names the classes'
 * origin in the error.
 */
export function alignLabels(
  labels: readonly string[] | undefined,
  labelOffset: number,
  classes: number | undefined,
  description?: Pick<ModelDescription, 'task' | 'stated'> & { readonly output: ValueInfo },
): readonly string[] | undefined {
  if (!labels) return undefined;
  if (classes === undefined || labels.length === classes) return labels;
  if (labelOffset > 0 && labels.length + labelOffset === classes) {
    const pad = Array.from({ length: labelOffset }, (_, i) => (i === 0 ? 'background' : `background ${i}`));
    return [...pad, ...labels];
  }
  // A labels file that does not fit the output would shift every name: refuse rather than mislabel.
  const task = description?.task;
  const what =
    task?.kind === 'detection'
      ? `the "${task.decoder}" decoder reads ${classes} classes from ${description!.output.name} ${formatDims(description!.output.shape)}`
      : `the model has ${classes} outputs`;
  const fix =
    description && !description.stated ? describeHint(description.output, labels.length) : undefined;
  throw new GradsightError('bad-labels', `the labels file has ${labels.length} lines but ${what}`, {
    hint:
      fix ??
      (labelOffset > 0
        ? `expected ${classes} lines, or ${classes - labelOffset} without the background class (labelOffset ${labelOffset})`
        : `expected ${classes} lines (one per class); set "labelOffset" in preprocess.json if the model has extra leading classes`),
  });
}

function float32Of(t: Tensor, name: string): Float32Tensor {
  if (t.dtype !== 'float32')
    throw new GradsightError('unsupported-dtype', `tensor ${name} is ${t.dtype}, expected float32`, {
      hint: 'gradsight explains float32 outputs; cast the output to float32 when exporting',
    });
  return t as Float32Tensor;
}

/**
 * Runs `f` on the whole batch, or, for a model exported with a fixed batch of 1, row by row (every
 * feed sliced alike), and concatenates each output along axis 0.
 */
export async function perRow(
  fixed: boolean,
  feeds: Feeds,
  f: (feeds: Feeds) => Promise<Record<string, Tensor>>,
): Promise<Record<string, Tensor>> {
  const n = Object.values(feeds)[0]?.dims[0] ?? 1;
  if (!fixed || n === 1) return f(feeds);
  const parts: Record<string, Tensor>[] = [];
  for (let i = 0; i < n; i++) parts.push(await f(sliceFeeds(feeds, i, 1)));
  return Object.fromEntries(Object.keys(parts[0]!).map((k) => [k, concatRows(parts.map((p) => p[k]!))]));
}
