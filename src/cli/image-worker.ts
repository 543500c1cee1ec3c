// The image side of `gradsight explain`, on a worker thread so that it runs while ONNX Runtime does:
// onnxruntime-node's `run` is synchronous under its Promise and holds the main thread for the whole
// run, so work left on the main thread waits for the model. Two jobs, answered in any order:
//  - prepare: decode a batch's files and build each one's input row (the library's preprocessing,
//    bit for bit); decoded images stay here until their outputs are rendered, up to KEPT_PIXELS in
//    all and KEPT_MAX_IMAGE each: beyond that an image is dropped once its row is made and decoded
//    again to be drawn;
//  - render: draw, encode and write an image's files (explain-outputs.ts) and its report card.
// Memory does not grow with the folder or the photos' size: decodes and renders share a pixel
// budget (BUSY_PIXELS: a 12 MP photo is decoded or drawn alone, small ones overlap), renders run one
// image at a time, and the kept images have their own budget.
// The protocol lives in image-worker-client.ts, the only module that talks to this one.

import { parentPort } from 'node:worker_threads';
import { GradsightError } from '../errors.ts';
import { decodeImage, decodeImageFile, headerImageSize, readImageFile } from '../image/decode-node.ts';
import { imagesToBatch } from '../image/preprocess.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import sharp from '../image/sharp-node.ts';
import { sniffImageFormat } from '../image/sniff.ts';
import { renderImageCard } from '../report/html.ts';
import { type ImageJob, renderImage, reportThumbnail } from './commands/explain-outputs.ts';
import type {
  PreparedReply,
  PrepareRequest,
  RenderedImage,
  RenderJob,
  SerializedError,
  WorkerReply,
  WorkerRequest,
} from './image-worker-client.ts';

const port = parentPort!;
// Every image is decoded and encoded once: libvips' operation cache would only hold memory.
sharp.cache(false);
// One libvips thread per operation: the worker already runs several decodes and encodes at once, and
// each operation's own threads only cost synchronisation (a 512-pixel JPEG: 1.7 against 2.2 ms of
// CPU; the 56-photo CLI run 6.15 against 6.40 core-s, 6 alternating runs).
sharp.concurrency(1);
/**
 * Decoded images kept for their outputs: up to 13 MP in all (about 40 MB of RGB, a batch of photos),
 * each at most 4 MP; a larger photo is decoded again to draw. One 12 MP photo kept held 36 MB beside
 * every render of the others: 40 such photos peaked at 1.36× the memory of 4 (1.29× without), in the
 * same time; the 56-photo folder keeps every image (a 4 MP total had 10 of them decoded twice).
 */
const KEPT_PIXELS = 13_000_000;
const KEPT_MAX_IMAGE = 4_000_000;
/** Decodes in flight at once, budget permitting. */
const DECODE_AT_ONCE = 2;
/**
 * Pixels being decoded or drawn at once, weighted by what each holds: a decode about its RGB image
 * twice (libvips' buffers and the result), so it counts twice its pixels; a render at the original
 * size three times (the upsampled map's indices, the overlay, the heatmap and their encodes). Three
 * 12 MP decodes at once (each counted once) made the peak of 40 such photos 1.5× that of 4.
 */
const BUSY_PIXELS = 40_000_000;
/** Decoded images waiting for their outputs, by key (or, for images dropped, how to decode them again). */
const decoded = new Map<number, RgbImage | Redecode>();
/**
 * Report thumbnails made at decoding, by key: a prepare mostly runs while the model compiles or runs
 * (cores the render, after the model, would otherwise have to share).
 */
const thumbnails = new Map<number, Promise<string>>();
let keptPixels = 0;

interface Redecode {
  readonly file: string;
  readonly decode: DecodeOptions;
  readonly width: number;
  readonly height: number;
}
type DecodeOptions = NonNullable<PrepareRequest['decode']>;

/** Renders one at a time, in the order asked (a render holds full-size overlays, heatmaps and maps). */
let renderQueue: Promise<unknown> = Promise.resolve();

/** A counting semaphore over pixels; a request above the whole budget waits until nothing else runs. */
class PixelBudget {
  private used = 0;
  private readonly waiting: { readonly n: number; readonly go: () => void }[] = [];

  constructor(private readonly total: number) {}

  async run<T>(pixels: number, f: () => Promise<T>): Promise<T> {
    const n = Math.min(Math.max(pixels, 1), this.total);
    if (this.waiting.length === 0 && this.used + n <= this.total) this.used += n;
    else await new Promise<void>((go) => this.waiting.push({ n, go }));
    try {
      return await f();
    } finally {
      this.used -= n;
      while (this.waiting.length && this.used + this.waiting[0]!.n <= this.total) {
        const w = this.waiting.shift()!;
        this.used += w.n;
        w.go();
      }
    }
  }
}
const busy = new PixelBudget(BUSY_PIXELS);

/** An image's pixel count from its header (headerImageSize), or a guess when it has none. */
async function headerPixels(bytes: Uint8Array): Promise<number> {
  const format = sniffImageFormat(bytes);
  try {
    const m = format ? await headerImageSize(bytes, format) : {};
    return (m.width ?? 1000) * (m.height ?? 1000);
  } catch {
    return 1_000_000; // BMP (gradsight's own decoder) or a broken file: decodeImage reports it
  }
}

port.on('message', (m: WorkerRequest) => {
  handle(m).then(
    ({ value, transfer }) => reply({ id: m.id, value }, transfer),
    (e: unknown) => reply({ id: m.id, error: serializeError(e) }),
  );
});

function reply(r: WorkerReply, transfer: ArrayBuffer[] = []): void {
  try {
    port.postMessage(r, transfer);
  } catch (e) {
    // A value that cannot be cloned (an error's details, say) still answers the request.
    port.postMessage({ id: r.id, error: serializeError(e) } satisfies WorkerReply);
  }
}

async function handle(m: WorkerRequest): Promise<{ value: unknown; transfer: ArrayBuffer[] }> {
  if (m.kind === 'prepare') {
    const transfer: ArrayBuffer[] = [];
    const decode = m.decode ?? {};
    const value = await mapPool(m.items, DECODE_AT_ONCE, async ({ key, file }): Promise<PreparedReply> => {
      let image: RgbImage;
      const warnings: string[] = [];
      try {
        const bytes = await readImageFile(file, decode);
        image = await busy.run(2 * (await headerPixels(bytes)), () =>
          decodeImage(bytes, file, { ...decode, onWarning: (w) => warnings.push(w) }),
        );
      } catch (e) {
        if (!(e instanceof GradsightError)) throw e;
        return { key, error: serializeError(e) };
      }
      const pixels = image.width * image.height;
      const kept = pixels <= KEPT_MAX_IMAGE && keptPixels + pixels <= KEPT_PIXELS;
      if (kept) {
        decoded.set(key, image);
        keptPixels += pixels;
      } else decoded.set(key, { file, decode, width: image.width, height: image.height });
      if (m.thumbnails) {
        const t = reportThumbnail(image, m.preprocess);
        t.catch(() => {}); // a failed thumbnail is made again at render
        thumbnails.set(key, t);
      }
      const row = imagesToBatch([image], m.preprocess).data;
      transfer.push(row.buffer as ArrayBuffer);
      return {
        key,
        width: image.width,
        height: image.height,
        row,
        kept,
        ...(m.sendImages ? { image } : {}),
        ...(warnings.length ? { warnings } : {}),
      };
    });
    return { value, transfer };
  }
  if (m.kind === 'render') {
    // One image at a time, across requests too: its files are encoded concurrently inside renderImage.
    const done = renderQueue.then(async () => {
      const value: RenderedImage[] = [];
      for (const job of m.jobs) value.push(await renderJob(job));
      return value;
    });
    renderQueue = done.catch(() => {});
    return { value: await done, transfer: [] };
  }
  throw new Error(`unknown image worker request ${JSON.stringify((m as { kind: unknown }).kind)}`);
}

async function renderJob(job: RenderJob): Promise<RenderedImage> {
  const { key, index, ...rest } = job;
  const kept = job.source ? undefined : decoded.get(key!);
  if (!job.source && !kept) throw new Error(`image worker: no decoded image for key ${key}`);
  const pixels = kept ? kept.width * kept.height : 0;
  const thumbnail = key === undefined ? undefined : await thumbnails.get(key)?.catch(() => undefined);
  // A render holds about three times its pixels; an image decoded again for it one more for the whole
  // render (twice that while it decodes), so that decode counts with the render: no other decode
  // starts beside it, and a large photo is drawn alone.
  const weight = kept && !('data' in kept) ? 4 : 3;
  try {
    return await busy.run(weight * pixels, async () => {
      // Before a large picture's buffers (~100 MB for 12 MP), a turn of the event loop lets V8 finish
      // the collection the previous one's garbage started: 40 photos of 12 MP peaked ~15 MB higher
      // without it once drawing got faster (bench/cli.ts c).
      if (pixels > KEPT_MAX_IMAGE) await new Promise((go) => setTimeout(go, 1));
      const source: ImageJob['source'] = job.source ?? {
        image: 'data' in kept! ? (kept as RgbImage) : await decodeAgain(kept as Redecode),
      };
      const { json, report } = await renderImage({
        ...rest,
        source,
        ...(thumbnail ? { thumbnail } : {}),
      } as ImageJob);
      return { json, card: renderImageCard(report, index), maps: job.explanations.length };
    });
  } finally {
    const k = key === undefined ? undefined : decoded.get(key);
    if (k && 'data' in k) keptPixels -= k.width * k.height;
    if (key !== undefined) {
      decoded.delete(key);
      thumbnails.delete(key);
    }
  }
}

/** A dropped image decoded again for its outputs: the same file must give the same picture size. */
async function decodeAgain(r: Redecode): Promise<RgbImage> {
  const image = await decodeImageFile(r.file, r.decode);
  if (image.width !== r.width || image.height !== r.height) {
    throw new GradsightError(
      'bad-image',
      `${r.file} changed while it was explained (${r.width}×${r.height}, now ${image.width}×${image.height})`,
      { hint: 'do not modify images while gradsight explains them', details: { source: r.file } },
    );
  }
  return image;
}

/** f over items with at most `limit` running at once; results in input order. */
async function mapPool<T, R>(items: readonly T[], limit: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

function serializeError(e: unknown): SerializedError {
  if (e instanceof GradsightError)
    return { gradsight: true, code: e.code, message: e.message, hint: e.hint, details: e.details };
  const err = e instanceof Error ? e : new Error(String(e));
  return { gradsight: false, message: err.message, stack: err.stack };
}
