// An image model ready to run: the decoded graph, a runtime session, its preprocessing and labels.
// Platform-neutral: the Node and browser entry points open files and pick the runtime.

import { GradsightError } from '../errors.ts';
import { type PreprocessConfig, type PreprocessFlags, resolvePreprocess } from '../image/preprocess.ts';
import {
  appendGraphOutputs,
  inferShapes,
  inferShapesWithFallback,
  type Model,
  unresolved,
  type ValueInfo,
} from '../onnx/index.ts';
import type { ExternalDataFile, Runtime, Session } from '../runtime/runtime.ts';
import type { Float32Tensor, Tensor } from '../tensor/tensor.ts';
import {
  type DescriptionFlags,
  describeHint,
  formatDims,
  type ModelDescription,
  resolveDescription,
} from './description.ts';
import { candidateLayers, defaultLayer, type LayerInfo } from './layers.ts';
import { type Prediction, rankOutput } from './predict.ts';

export interface ImageModelSource {
  readonly bytes: Uint8Array;
  readonly model: Model;
  readonly externalData?: readonly ExternalDataFile[];
  readonly preprocessFile?: unknown;
  readonly preprocessSource?: string;
  readonly labels?: readonly string[] | undefined;
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
}

export class ImageModel {
  readonly input: ValueInfo;
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
  /** Intra-op threads for sessions this model creates (undefined: the runtime's default). */
  readonly threads: number | undefined;

  private constructor(
    readonly source: ImageModelSource,
    readonly runtime: Runtime,
    private readonly session: Session,
    output: ValueInfo,
    preprocess: PreprocessConfig,
    description: ModelDescription,
    threads: number | undefined,
  ) {
    this.threads = threads;
    const g = source.model.graph;
    this.input = g.inputs[0]!;
    this.output = output;
    this.preprocess = preprocess;
    this.description = description;
    const producer = g.producers.get(output.name)?.opType;
    this.outputIsProbability = producer === (description.task.kind === 'multi-label' ? 'Sigmoid' : 'Softmax');
    this.alignedLabels = alignLabels(source.labels, preprocess.labelOffset, description.classes, {
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
    if (g.inputs.length !== 1) {
      throw new GradsightError(
        'model-invalid',
        `the model has ${g.inputs.length} inputs (${g.inputs.map((i) => i.name).join(', ')}); gradsight needs exactly one image input`,
        { hint: 'export the model with a single NCHW or NHWC image input' },
      );
    }
    const input = g.inputs[0]!;
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
    // The output's task, checked against the output shape before a session is made.
    const description = resolveDescription({
      ...(opts.preprocess ? { flags: opts.preprocess } : {}),
      ...(source.preprocessFile !== undefined ? { file: source.preprocessFile } : {}),
      ...(source.preprocessSource !== undefined ? { fileSource: source.preprocessSource } : {}),
      preprocess,
      output,
    });
    const session = await runtime.createSession(source.bytes, {
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      ...(source.externalData ? { externalData: source.externalData } : {}),
    });
    return new ImageModel(source, runtime, session, output, preprocess, description, opts.threads);
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
    const [h, w] = size;
    const c = this.preprocess.channels;
    return this.preprocess.layout === 'NCHW' ? [n, c, h, w] : [n, h, w, c];
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
    const fixed = { [this.input.name]: this.inputDims(1, size) };
    const fixedSpatial = withSymbolicBatch(this.input, this.inputDims(1, size));
    // Keep the batch symbolic for display; fall back to a probe run only for tensors static inference
    // cannot resolve.
    const symbolic = inferShapes(this.model, fixedSpatial);
    if (unresolved(this.model, symbolic).length === 0) return symbolic;
    return inferShapesWithFallback(this.runtime, this.model, fixed);
  }

  async layers(): Promise<LayerInfo[]> {
    return candidateLayers(this.model.graph, await this.shapes());
  }

  async defaultLayer(): Promise<LayerInfo> {
    return defaultLayer(this.model.graph, await this.shapes(), this.output.name);
  }

  /** Runs a preprocessed batch and returns the chosen output as float32. */
  async run(batch: Float32Tensor): Promise<Float32Tensor> {
    const t = await perRow(
      this.fixedBatch,
      batch,
      async (b) => (await this.session.run({ [this.input.name]: b }, [this.output.name]))[this.output.name]!,
    );
    if (t.dtype !== 'float32') {
      throw new GradsightError(
        'unsupported-dtype',
        `output ${this.output.name} is ${t.dtype}, expected float32`,
      );
    }
    return t as Float32Tensor;
  }

  /** Runs a batch and returns any tensor of the graph (a session exposing it is made once). */
  async runTensor(batch: Float32Tensor, name: string): Promise<Float32Tensor> {
    if (this.model.graph.outputs.some((o) => o.name === name)) {
      return (await perRow(
        this.fixedBatch,
        batch,
        async (b) => (await this.session.run({ [this.input.name]: b }, [name]))[name]!,
      )) as Float32Tensor;
    }
    let session = this.tensorSessions.get(name);
    if (!session) {
      session = this.runtime.createSession(appendGraphOutputs(this.source.bytes, [name]), {
        ...(this.threads !== undefined ? { threads: this.threads } : {}),
        ...(this.source.externalData ? { externalData: this.source.externalData } : {}),
      });
      this.tensorSessions.set(name, session);
    }
    const s = await session;
    const t = await perRow(
      this.fixedBatch,
      batch,
      async (b) => (await s.run({ [this.input.name]: b }, [name]))[name]!,
    );
    if (t.dtype !== 'float32')
      throw new GradsightError('unsupported-dtype', `tensor ${name} is ${t.dtype}, expected float32`);
    return t as Float32Tensor;
  }

  async predict(batch: Float32Tensor, top = 5): Promise<Prediction[]> {
    const out = await this.run(batch);
    return rankOutput(out, {
      top,
      labels: this.labels,
      outputIsProbability: this.outputIsProbability,
      task: this.description.task,
    });
  }

  async release(): Promise<void> {
    for (const s of this.tensorSessions.values()) await (await s).release();
    this.tensorSessions.clear();
    await this.session.release();
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

/**
 * Runs `f` on the whole batch, or, for a model exported with a fixed batch of 1, row by row, and
 * concatenates the results along axis 0.
 */
export async function perRow(
  fixed: boolean,
  batch: Float32Tensor,
  f: (b: Float32Tensor) => Promise<Tensor>,
): Promise<Tensor> {
  const n = batch.dims[0]!;
  if (!fixed || n === 1) return f(batch);
  const size = batch.data.length / n;
  const parts: Tensor[] = [];
  for (let i = 0; i < n; i++) {
    parts.push(
      await f({
        dtype: 'float32',
        dims: [1, ...batch.dims.slice(1)],
        data: batch.data.subarray(i * size, (i + 1) * size),
      }),
    );
  }
  const first = parts[0]!;
  const rowSize = first.data.length;
  const data = new Float32Array(n * rowSize);
  parts.forEach((p, i) => {
    data.set(p.data as Float32Array, i * rowSize);
  });
  return { dtype: first.dtype, dims: [n, ...first.dims.slice(1)], data };
}
