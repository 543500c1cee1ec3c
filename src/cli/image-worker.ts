// The image side of `gradsight explain`, on a worker thread so that it runs while ONNX Runtime does:
// onnxruntime-node's `run` is synchronous under its Promise and holds the main thread for the whole
// run, so work left on the main thread waits for the model. Two jobs, answered in any order:
//  - prepare: decode a batch's files and build each one's input row (the library's preprocessing,
//    bit for bit); the decoded images stay here until their outputs are rendered;
//  - render: draw, encode and write an image's files (explain-outputs.ts) and its report card.
// The protocol lives in image-worker-client.ts, the only module that talks to this one.

import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { GradsightError } from '../errors.ts';
import { decodeImageFile } from '../image/decode-node.ts';
import { imagesToBatch } from '../image/preprocess.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { renderImageCard } from '../report/html.ts';
import { type ImageJob, renderImage } from './commands/explain-outputs.ts';
import type {
  PreparedReply,
  RenderedImage,
  RenderJob,
  SerializedError,
  WorkerReply,
  WorkerRequest,
} from './image-worker-client.ts';

const port = parentPort!;
// Every image is decoded and encoded once: libvips' operation cache would only hold memory.
sharp.cache(false);
/** Decoded images waiting for their outputs, by key. */
const decoded = new Map<number, RgbImage>();

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
    const value = await Promise.all(
      m.items.map(async ({ key, file }): Promise<PreparedReply> => {
        let image: RgbImage;
        const warnings: string[] = [];
        try {
          image = await decodeImageFile(file, { ...m.decode, onWarning: (w) => warnings.push(w) });
        } catch (e) {
          if (!(e instanceof GradsightError)) throw e;
          return { key, error: serializeError(e) };
        }
        decoded.set(key, image);
        const row = imagesToBatch([image], m.preprocess).data;
        transfer.push(row.buffer as ArrayBuffer);
        return {
          key,
          width: image.width,
          height: image.height,
          row,
          ...(m.sendImages ? { image } : {}),
          ...(warnings.length ? { warnings } : {}),
        };
      }),
    );
    return { value, transfer };
  }
  if (m.kind === 'render') {
    // One image at a time: its files are encoded concurrently inside renderImage.
    const value: RenderedImage[] = [];
    for (const job of m.jobs) value.push(await renderJob(job));
    return { value, transfer: [] };
  }
  throw new Error(`unknown image worker request ${JSON.stringify((m as { kind: unknown }).kind)}`);
}

async function renderJob(job: RenderJob): Promise<RenderedImage> {
  const { key, index, ...rest } = job;
  let source: ImageJob['source'];
  if (job.source) source = job.source;
  else {
    const image = decoded.get(key!);
    if (!image) throw new Error(`image worker: no decoded image for key ${key}`);
    source = { image };
  }
  try {
    const { json, report } = await renderImage({ ...rest, source } as ImageJob);
    return { json, card: renderImageCard(report, index), maps: job.explanations.length };
  } finally {
    if (key !== undefined) decoded.delete(key);
  }
}

function serializeError(e: unknown): SerializedError {
  if (e instanceof GradsightError)
    return { gradsight: true, code: e.code, message: e.message, hint: e.hint, details: e.details };
  const err = e instanceof Error ? e : new Error(String(e));
  return { gradsight: false, message: err.message, stack: err.stack };
}
