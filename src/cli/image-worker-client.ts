// The main thread's handle on the image worker (image-worker.ts): requests are Promises, answered by
// id; a worker that dies rejects every open request. Under tsx (source checkouts, tests) the worker is
// started through tsx's loader, from dist/ it is plain JavaScript.

import { Worker } from 'node:worker_threads';
import { type ErrorCode, GradsightError } from '../errors.ts';
import type { PreprocessConfig } from '../image/preprocess.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import type { ImageJob } from './commands/explain-outputs.ts';

export type SerializedError =
  | {
      readonly gradsight: true;
      readonly code: ErrorCode;
      readonly message: string;
      readonly hint: string | undefined;
      readonly details: Readonly<Record<string, unknown>>;
    }
  | { readonly gradsight: false; readonly message: string; readonly stack: string | undefined };

/** A decoded file's input row ([C, H, W] or [H, W, C] data). */
export interface PreparedRow {
  readonly key: number;
  readonly width: number;
  readonly height: number;
  readonly row: Float32Array;
  /** The decoded image, when asked for (targets given in original-image pixels need it). */
  readonly image?: RgbImage;
  /** Defects tolerated while decoding (a JPEG without its end marker), for the user to see. */
  readonly warnings?: readonly string[];
  /** Whether the worker kept the decoded image for its outputs (false: it decodes it again to draw). */
  readonly kept: boolean;
  readonly error?: undefined;
}

/** What the worker answers per file: its row, or the typed error that made it fail. */
export type PreparedReply = PreparedRow | { readonly key: number; readonly error: SerializedError };

/** The same on the main thread, the error rebuilt. */
export type PreparedImage = PreparedRow | { readonly key: number; readonly error: GradsightError };

/**
 * The worker's young generation, in MB. Left to V8 (which grows it for a thread that allocates as
 * fast as this one), it made a 1,000-image run's peak memory 10% above a 100-image run's (418 vs 380
 * MiB, with the same live objects: the worker's committed heap grew from 26 to 43 MB); at 12 MB both
 * peak alike (372 vs 370 MiB), in the same time.
 */
const YOUNG_GENERATION_MB = 12;

/** An ImageJob whose source is a prepared image (`key`) or given (`source`: a tensor row). */
export type RenderJob = Omit<ImageJob, 'source'> & {
  readonly key?: number;
  readonly source?: ImageJob['source'];
  /** Position of the image's card in the report. */
  readonly index: number;
};

export interface RenderedImage {
  readonly json: unknown;
  /** The image's report card (renderImageCard). */
  readonly card: string;
  readonly maps: number;
}

export interface PrepareRequest {
  readonly kind: 'prepare';
  readonly items: readonly { readonly key: number; readonly file: string }[];
  readonly preprocess: PreprocessConfig;
  readonly sendImages: boolean;
  /** Make each image's report thumbnail now (overlays at the original size), for its render. */
  readonly thumbnails?: boolean;
  /** The pixel budget and file-size limit for decoding (image/limits.ts); defaults when absent. */
  readonly decode?: { readonly maxPixels?: number; readonly maxFileBytes?: number };
}

export interface RenderRequest {
  readonly kind: 'render';
  readonly jobs: readonly RenderJob[];
}

export type WorkerRequest = { readonly id: number } & (PrepareRequest | RenderRequest);

export type WorkerReply = { readonly id: number } & (
  | { readonly value: unknown; readonly error?: undefined }
  | { readonly error: SerializedError }
);

export class ImageWorker {
  private nextId = 0;
  private readonly open = new Map<number, { ok: (v: unknown) => void; fail: (e: unknown) => void }>();
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (r: WorkerReply) => {
      const p = this.open.get(r.id);
      if (!p) return;
      this.open.delete(r.id);
      if (r.error) p.fail(deserializeError(r.error));
      else p.ok(r.value);
    });
    const fail = (e: Error) => {
      this.failure = e;
      for (const p of this.open.values()) p.fail(e);
      this.open.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the image worker exited (code ${code})`)));
    // An idle worker does not keep the process alive; open requests do (their Promises are awaited).
    worker.unref();
  }

  static start(): ImageWorker {
    const source = import.meta.url.endsWith('.ts');
    const url = new URL(source ? './image-worker.ts' : './image-worker.js', import.meta.url);
    const resourceLimits = { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
    const worker = source
      ? new Worker(
          `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`,
          { eval: true, resourceLimits },
        )
      : new Worker(url, { resourceLimits });
    return new ImageWorker(worker);
  }

  prepare(r: Omit<PrepareRequest, 'kind'>): Promise<PreparedImage[]> {
    return (this.request({ ...r, kind: 'prepare' }) as Promise<PreparedReply[]>).then((rows) =>
      rows.map((p) => (p.error ? { key: p.key, error: deserializeError(p.error) as GradsightError } : p)),
    );
  }

  render(jobs: readonly RenderJob[]): Promise<RenderedImage[]> {
    return this.request({ kind: 'render', jobs }) as Promise<RenderedImage[]>;
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the image worker was closed');
    // terminate() of a worker busy in native code holds nothing referenced until it resolves, so the
    // process could run out of work and exit (code 0) mid-cleanup, e.g. after Ctrl-C: a timer holds it.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await this.worker.terminate();
    } finally {
      clearInterval(keepAlive);
    }
  }

  private request(r: PrepareRequest | RenderRequest): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((ok, fail) => {
      this.open.set(id, { ok, fail });
      this.worker.ref();
      this.worker.postMessage({ id, ...r });
    }).finally(() => {
      if (this.open.size === 0) this.worker.unref();
    });
  }
}

function deserializeError(e: SerializedError): Error {
  if (e.gradsight) {
    return new GradsightError(e.code, e.message, {
      ...(e.hint !== undefined ? { hint: e.hint } : {}),
      details: { ...e.details },
    });
  }
  const err = new Error(e.message);
  if (e.stack) err.stack = e.stack;
  return err;
}
