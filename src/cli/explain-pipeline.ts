// The batch loop of `gradsight explain`, arranged so the model never waits for images: while ONNX
// Runtime explains batch k on the main thread, the image worker (image-worker.ts) decodes and
// preprocesses the batches after k and renders, encodes and writes the outputs of batch k − 1; the
// last batches halve (batchSizes) so that little is left to draw after the last run. Queues
// are bounded (ROWS_AHEAD_BYTES of rows prepared ahead, at most RENDER_AHEAD batches rendering; decoded
// images kept for their outputs have the worker's own budget), so memory does not grow
// with the folder; each image's small record is handed to `onImage` in input order as soon as its
// files are on disk, failed images included.

import type { GradsightError } from '../errors.ts';
import type { Explainer, ExplainOptions, ExplainResult } from '../explain/explainer.ts';
import { inputDimsOf, type PreprocessConfig } from '../image/preprocess.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import type { ColormapId } from '../render/colormaps.ts';
import type { OverlaySize } from '../render/explanation-images.ts';
import { type Float32Tensor, float32 } from '../tensor/tensor.ts';
import { uniqueFolder } from './commands/explain-records.ts';
import type {
  ImageWorker,
  PreparedImage,
  PreparedRow,
  PrepareRequest,
  RenderedImage,
  RenderJob,
} from './image-worker-client.ts';

/** Batches whose outputs may be rendering while the model runs. */
const RENDER_AHEAD = 2;
/** Input rows prepared ahead of the model, in bytes (at least one batch; 224×224 RGB rows: 3 batches of 8). */
const ROWS_AHEAD_BYTES = 16 * 2 ** 20;

/** How many batches the worker prepares ahead: a fixed memory bound, whatever the folder's size. */
function prepareAhead(p: PreprocessConfig, batch: number): number {
  const [h, w] = p.size;
  return Math.max(1, Math.floor(ROWS_AHEAD_BYTES / (batch * p.channels * h * w * 4)));
}

export interface PipelineOptions {
  /** The image worker (ImageWorker.start(), begun early: it loads while the model opens); closed at the end. */
  readonly worker: ImageWorker;
  readonly explainer: Explainer;
  readonly preprocess: PreprocessConfig;
  readonly explain: ExplainOptions;
  /** Images per explain() call. */
  readonly batch: number;
  /** Give explain() the decoded images instead of their input rows (targets in original-image pixels). */
  readonly sendImages: boolean;
  /** The pixel budget and file-size limit for decoding (image/limits.ts); defaults when absent. */
  readonly decode?: PrepareRequest['decode'];
  /** Each tolerated decoding defect (a JPEG without its end marker), as a message. */
  readonly onWarning?: (message: string) => void;
  readonly out: string;
  readonly colormap: ColormapId;
  readonly alpha: number;
  readonly overlaySize: OverlaySize;
  readonly saveRaw: boolean;
  /** Each explain() result, as it comes (the layers and the tensor read). */
  readonly onResult: (r: ExplainResult) => void;
  /** Each image, in input order, once its files are written. */
  readonly onImage: (img: PipelineImage) => Promise<void>;
}

export type PipelineImage =
  | ({ readonly file: string; readonly index: number; readonly error?: undefined } & RenderedImage)
  | { readonly file: string; readonly index: number; readonly error: GradsightError };

/** The inputs: image files, or one ready tensor whose rows are named (--input). */
export type PipelineInput =
  | { readonly files: readonly string[] }
  | { readonly tensor: Float32Tensor; readonly names: readonly string[] };

interface Batch {
  readonly items: readonly { readonly key: number; readonly file: string }[];
  readonly tensor?: Float32Tensor;
}

export async function runExplainPipeline(input: PipelineInput, o: PipelineOptions): Promise<void> {
  const batches: Batch[] = [];
  if ('tensor' in input) {
    batches.push({ items: input.names.map((file, key) => ({ key, file })), tensor: input.tensor });
  } else {
    let i = 0;
    for (const size of batchSizes(input.files.length, o.batch)) {
      batches.push({ items: input.files.slice(i, i + size).map((file, k) => ({ key: i + k, file })) });
      i += size;
    }
  }
  const { worker } = o;
  const taken = new Set<string>();
  const ahead = prefetch(worker, batches, o);
  // Emission is one chain, so records reach onImage in input order whatever finishes first.
  let emitted: Promise<void> = Promise.resolve();
  const inFlight: Promise<void>[] = [];
  try {
    for (const [k, batch] of batches.entries()) {
      const taking = ahead.take(k);
      // The gradient model compiles on this thread while the worker decodes the first images (its
      // errors are explain()'s, raised by the call below).
      if (k === 0) await o.explainer.prepare(batchDims(batch, o.preprocess), o.explain).catch(() => {});
      const prepared = await taking;
      for (const p of prepared ?? []) for (const w of p.error ? [] : (p.warnings ?? [])) o.onWarning?.(w);
      const ok = batch.tensor ? batch.items : batch.items.filter((_, i) => !prepared![i]!.error);
      let rendering: Promise<RenderedImage[]> = Promise.resolve([]);
      if (ok.length > 0) {
        const okRows = (prepared ?? []).filter((p): p is PreparedRow => !p.error);
        const explainInput = batch.tensor
          ? batch.tensor
          : o.sendImages
            ? okRows.map((p) => p.image as RgbImage)
            : stackRows(okRows, o.preprocess);
        // A bad target or layer fails every image the same way: it propagates as one typed error.
        const result = await o.explainer.explain(explainInput, o.explain);
        o.onResult(result);
        const jobs: RenderJob[] = ok.map((item, i) => ({
          index: item.key,
          ...(batch.tensor ? { source: { tensor: rowOf(batch.tensor, i), row: 0 } } : { key: item.key }),
          out: o.out,
          folder: uniqueFolder(taken, item.file),
          file: item.file,
          preprocess: o.preprocess,
          overlaySize: o.overlaySize,
          explanations: result.explanations.filter((e) => e.image === i),
          prediction: result.predictions[i]!,
          colormap: o.colormap,
          alpha: o.alpha,
          saveRaw: o.saveRaw,
        }));
        rendering = worker.render(jobs);
        rendering.catch(() => {});
      }
      emitted = emitted.then(async () => {
        const rendered = await rendering;
        let j = 0;
        for (const [i, item] of batch.items.entries()) {
          const failure = prepared?.[i]?.error;
          if (failure) await o.onImage({ file: item.file, index: item.key, error: failure });
          else await o.onImage({ file: item.file, index: item.key, ...rendered[j++]! });
        }
      });
      emitted.catch(() => {});
      inFlight.push(emitted);
      while (inFlight.length > RENDER_AHEAD) await inFlight.shift();
    }
    await emitted;
  } finally {
    // Closed here, also on failure: its writes stop before the caller cleans the run up.
    await worker.close();
  }
}

/**
 * The batches' preparation, ahead of the model: while it compiles (the first batch waits for that)
 * the worker decodes and preprocesses several, so later it has mostly their outputs to render. Two
 * requests at a time, up to prepareAhead batches ahead of the one taken; once the worker can no
 * longer keep the decoded images for their outputs (large photos: it would decode them again to
 * draw), only the next batch. `take(k)` is batch k's prepared images (undefined for a tensor batch).
 * Batches are taken in order.
 */
function prefetch(worker: ImageWorker, batches: readonly Batch[], o: PipelineOptions) {
  let limit = o.sendImages ? 1 : prepareAhead(o.preprocess, o.batch);
  let current = 0;
  let issued = 0;
  let running = 0;
  const pending = new Map<number, Promise<PreparedImage[]> | undefined>();
  const pump = () => {
    while (running < 2 && issued < batches.length && issued < current + limit) {
      const b = batches[issued]!;
      if (b.tensor) {
        pending.set(issued++, undefined);
        continue;
      }
      running++;
      const p = worker.prepare({
        items: b.items,
        preprocess: o.preprocess,
        sendImages: o.sendImages,
        thumbnails: o.overlaySize === 'original',
        ...(o.decode ? { decode: o.decode } : {}),
      });
      pending.set(issued++, p);
      p.then(
        (rows) => {
          if (rows.some((r) => !r.error && !r.kept)) limit = 1;
        },
        () => {}, // awaited in turn; a failure surfaces there
      ).finally(() => {
        running--;
        pump();
      });
    }
  };
  return {
    async take(k: number): Promise<PreparedImage[] | undefined> {
      current = k;
      pump();
      const p = pending.get(k);
      pending.delete(k);
      const rows = await p;
      current = k + 1; // the window moves on once batch k is in hand
      pump();
      return rows;
    },
  };
}

/**
 * Batch sizes for n images of at most `batch` each: full batches, then the last `batch` images (or
 * all n) in halving batches (8 → 4, 2, 1, 1), so that while the model runs the later ones the worker
 * already renders the earlier ones: only one image's outputs are left after the last run, not a
 * whole batch's (the model's cost per image hardly depends on the batch size).
 */
export function batchSizes(n: number, batch: number): number[] {
  const sizes: number[] = [];
  let rest = n;
  while (rest > batch) {
    sizes.push(batch);
    rest -= batch;
  }
  while (rest > 1) {
    const half = Math.ceil(rest / 2);
    sizes.push(half);
    rest -= half;
  }
  if (rest === 1) sizes.push(1);
  return sizes;
}

/** The input dims of a batch: its tensor's, or its images' in the model's layout. */
function batchDims(b: Batch, p: PreprocessConfig): readonly number[] {
  return b.tensor ? b.tensor.dims : inputDimsOf(p, b.items.length);
}

/** One [N, ...] batch from prepared rows (each the data of a [1, ...] input). */
function stackRows(rows: readonly { readonly row: Float32Array }[], p: PreprocessConfig): Float32Tensor {
  const per = rows[0]!.row.length;
  const data = new Float32Array(rows.length * per);
  for (const [i, r] of rows.entries()) data.set(r.row, i * per);
  return float32(data, inputDimsOf(p, rows.length));
}

/** Row i of a tensor, as a [1, ...] tensor of its own (it crosses to the worker). */
function rowOf(t: Float32Tensor, i: number): Float32Tensor {
  const per = t.data.length / t.dims[0]!;
  return float32(t.data.slice(i * per, (i + 1) * per), [1, ...t.dims.slice(1)]);
}
