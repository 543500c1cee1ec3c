// How an image becomes a model input. The config (layout, size, normalization, channel order) is
// resolved per key with precedence CLI flags > preprocess.json beside the model > defaults read off the
// model's input shape. Conversion is a Pillow-exact bilinear resize (no crop), then
// `(pixel / 255 - mean) / std` per channel, rounded to float32 after each operation as NumPy does on a
// float32 array, so tensors equal the PIL/NumPy reference inputs bit for bit.

import { GradsightError } from '../errors.ts';
import { type Float32Tensor, float32 } from '../tensor/tensor.ts';
import { validatePreprocess } from './preprocess-validate.ts';
import { resizeBilinear } from './resize.ts';
import type { RgbImage } from './rgb-image.ts';

export type Layout = 'NCHW' | 'NHWC';
export type PixelScale = '0-1' | '0-255';
export type ChannelOrder = 'RGB' | 'BGR';
export type Triple = readonly [number, number, number];

export interface PreprocessConfig {
  readonly layout: Layout;
  /** [height, width] of the model input. */
  readonly size: readonly [number, number];
  /** Per channel, on the pixel scale given by `scale`, in RGB order (even when channelOrder is BGR). */
  readonly mean: Triple;
  readonly std: Triple;
  /** '0-1': pixels divided by 255 before `(x - mean) / std`; '0-255': used as is. */
  readonly scale: PixelScale;
  readonly channelOrder: ChannelOrder;
  /** Informational: 1 means output index 0 is a background class. Labels still map index i → line i. */
  readonly labelOffset: number;
}

export type InputShape = readonly (number | string | null | undefined)[];

export const IMAGENET_MEAN: Triple = [0.485, 0.456, 0.406];
export const IMAGENET_STD: Triple = [0.229, 0.224, 0.225];
export const DEFAULT_SIZE = 224;

/** Settings given explicitly (CLI flags or library options); each one overrides the file and defaults. */
export type PreprocessFlags = Partial<PreprocessConfig>;

export interface ResolveOptions {
  readonly flags?: PreprocessFlags;
  /** Parsed preprocess.json (unvalidated). */
  readonly file?: unknown;
  /** Path of preprocess.json, for error messages. */
  readonly fileSource?: string;
  /** The model's image input shape, e.g. [-1, 3, 224, 224] or ['batch', 3, 'h', 'w']. */
  readonly inputShape?: InputShape;
}

export function resolvePreprocess(opts: ResolveOptions = {}): PreprocessConfig {
  const flags = validatePreprocess(opts.flags ?? {}, 'command-line options', 'bad-argument');
  const file =
    opts.file === undefined
      ? {}
      : validatePreprocess(opts.file, opts.fileSource ?? 'preprocess.json', 'bad-preprocess');
  const fromShape = opts.inputShape === undefined ? {} : shapeDefaults(opts.inputShape);
  const pick = <K extends keyof PreprocessConfig>(k: K): PreprocessConfig[K] | undefined =>
    flags[k] ?? file[k] ?? fromShape[k];

  const layout = pick('layout') ?? 'NCHW';
  const size = pick('size') ?? [DEFAULT_SIZE, DEFAULT_SIZE];
  const scale = pick('scale') ?? '0-1';
  // ImageNet statistics are on the 0-1 scale; for '0-255' inputs they are scaled to match.
  const k = scale === '0-255' ? 255 : 1;
  const cfg: PreprocessConfig = {
    layout,
    size,
    mean: pick('mean') ?? (IMAGENET_MEAN.map((m) => m * k) as unknown as Triple),
    std: pick('std') ?? (IMAGENET_STD.map((s) => s * k) as unknown as Triple),
    scale,
    channelOrder: pick('channelOrder') ?? 'RGB',
    labelOffset: pick('labelOffset') ?? 0,
  };
  if (opts.inputShape !== undefined) checkAgainstShape(cfg, opts.inputShape);
  return cfg;
}

const isKnown = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0;

/** Layout and size implied by a 4-D image input; unknown (symbolic) H/W are left to the defaults. */
function shapeDefaults(shape: InputShape): Partial<PreprocessConfig> {
  if (shape.length !== 4) return {};
  const [, d1, d2, d3] = shape;
  const nhwc = d3 === 3 && d1 !== 3;
  const [h, w] = nhwc ? [d1, d2] : [d2, d3];
  return {
    layout: nhwc ? 'NHWC' : 'NCHW',
    size: [isKnown(h) ? h : DEFAULT_SIZE, isKnown(w) ? w : DEFAULT_SIZE],
  };
}

/** A fixed model input that disagrees with the resolved config fails here, not deep in the runtime. */
function checkAgainstShape(cfg: PreprocessConfig, shape: InputShape): void {
  const fail = (why: string) =>
    new GradsightError('bad-preprocess', `preprocessing does not fit the model input: ${why}`, {
      hint: 'Fix preprocess.json or the --size/--layout options to match the model input shape.',
      details: { inputShape: shape, layout: cfg.layout, size: cfg.size },
    });
  const dims = `[${shape.map((d) => d ?? '?').join(', ')}]`;
  if (shape.length !== 4) throw fail(`the input ${dims} is not a 4-D image batch`);
  const [c, h, w] = cfg.layout === 'NCHW' ? [shape[1], shape[2], shape[3]] : [shape[3], shape[1], shape[2]];
  if (isKnown(c) && c !== 3) throw fail(`${cfg.layout} input ${dims} has ${c} channels, not 3`);
  if ((isKnown(h) && h !== cfg.size[0]) || (isKnown(w) && w !== cfg.size[1])) {
    throw fail(`size ${cfg.size[0]}x${cfg.size[1]} but the ${cfg.layout} input is ${dims}`);
  }
}

// ---- image → tensor ----

const f = Math.fround;

/** Per output channel, the normalized float32 value of each of the 256 byte values. */
function lookupTables(cfg: PreprocessConfig): Float32Array[] {
  return [0, 1, 2].map((c) => {
    // mean/std are in RGB order; the source component for output channel c depends on the order.
    const rgb = cfg.channelOrder === 'BGR' ? 2 - c : c;
    const mean = f(cfg.mean[rgb]!);
    const std = f(cfg.std[rgb]!);
    const lut = new Float32Array(256);
    for (let p = 0; p < 256; p++) {
      const x = cfg.scale === '0-1' ? f(p / 255) : p;
      lut[p] = f(f(x - mean) / std);
    }
    return lut;
  });
}

/** Writes one image into `out` at `offset` (a [3,H,W] or [H,W,3] slot). */
function fill(img: RgbImage, cfg: PreprocessConfig, luts: Float32Array[], out: Float32Array, offset: number) {
  const [h, w] = cfg.size;
  const src = img.width === w && img.height === h ? img : resizeBilinear(img, w, h);
  const plane = h * w;
  for (let c = 0; c < 3; c++) {
    const lut = luts[c]!;
    const comp = cfg.channelOrder === 'BGR' ? 2 - c : c;
    for (let i = 0; i < plane; i++) {
      const v = lut[src.data[i * 3 + comp]!]!;
      if (cfg.layout === 'NCHW') out[offset + c * plane + i] = v;
      else out[offset + i * 3 + c] = v;
    }
  }
}

export function imageToTensor(img: RgbImage, cfg: PreprocessConfig): Float32Tensor {
  return imagesToBatch([img], cfg);
}

/** Stacks images into one [N,3,H,W] (or [N,H,W,3]) batch; each is resized to the config size. */
export function imagesToBatch(imgs: readonly RgbImage[], cfg: PreprocessConfig): Float32Tensor {
  if (imgs.length === 0) throw new RangeError('imagesToBatch needs at least one image');
  const [h, w] = cfg.size;
  const per = 3 * h * w;
  const out = new Float32Array(imgs.length * per);
  const luts = lookupTables(cfg);
  imgs.forEach((img, n) => {
    fill(img, cfg, luts, out, n * per);
  });
  return float32(out, cfg.layout === 'NCHW' ? [imgs.length, 3, h, w] : [imgs.length, h, w, 3]);
}
