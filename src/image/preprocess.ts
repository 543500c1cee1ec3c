// How an image becomes a model input. The config (layout, channels, size, normalization, channel order)
// is resolved per key with precedence CLI flags > preprocess.json beside the model > defaults read off
// the model's input shape. Conversion is the channel form the model reads (L like Pillow's
// `convert('L')`, RGB, or RGBA with alpha), a Pillow-exact bilinear resize (no crop), then
// `(pixel / 255 - mean) / std` per channel, rounded to float32 after each operation as NumPy does on a
// float32 array, so tensors equal the PIL/NumPy reference inputs bit for bit.

import { GradsightError } from '../errors.ts';
import { type Float32Tensor, float32 } from '../tensor/tensor.ts';
import { type Bands, bandsToRgb, type ChannelCount, resizeToBands, toBands } from './bands.ts';
import { validatePreprocess } from './preprocess-validate.ts';
import { type RgbImage, rgbImage } from './rgb-image.ts';

export type Layout = 'NCHW' | 'NHWC';
export type PixelScale = '0-1' | '0-255';
export type ChannelOrder = 'RGB' | 'BGR';
export type Triple = readonly [number, number, number];
export type { ChannelCount } from './bands.ts';

export interface PreprocessConfig {
  readonly layout: Layout;
  /** Image channels the model reads: 1 (grayscale, Pillow's `L`), 3 (RGB) or 4 (RGBA, alpha kept). */
  readonly channels: ChannelCount;
  /** [height, width] of the model input. */
  readonly size: readonly [number, number];
  /**
   * One value per channel, on the pixel scale given by `scale`, in RGB(A) order (even when channelOrder
   * is BGR): 1 value for grayscale, 3 for RGB, 4 for RGBA.
   */
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** '0-1': pixels divided by 255 before `(x - mean) / std`; '0-255': used as is. */
  readonly scale: PixelScale;
  /** BGR swaps the colour channels fed to the model (BGRA for 4 channels); meaningless for 1 channel. */
  readonly channelOrder: ChannelOrder;
  /** Informational: 1 means output index 0 is a background class. Labels still map index i → line i. */
  readonly labelOffset: number;
}

export type InputShape = readonly (number | string | null | undefined)[];

export const IMAGENET_MEAN: Triple = [0.485, 0.456, 0.406];
export const IMAGENET_STD: Triple = [0.229, 0.224, 0.225];
export const DEFAULT_SIZE = 224;

/**
 * Default statistics on the 0-1 scale per channel count. RGB: ImageNet's. RGBA: ImageNet's for the
 * colour and none for alpha. Grayscale: none (mean 0, std 1): ImageNet's colour statistics describe
 * photos, not the digits, scans or X-rays grayscale models are trained on, and a guessed normalisation
 * would shift every input silently; state a grayscale model's own statistics in preprocess.json.
 */
export function defaultStats(channels: ChannelCount): { mean: number[]; std: number[] } {
  if (channels === 1) return { mean: [0], std: [1] };
  if (channels === 3) return { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
  return { mean: [...IMAGENET_MEAN, 0], std: [...IMAGENET_STD, 1] };
}

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
  const fileSource = opts.fileSource ?? 'preprocess.json';
  const file = opts.file === undefined ? {} : validatePreprocess(opts.file, fileSource, 'bad-preprocess');
  const fromShape = opts.inputShape === undefined ? {} : shapeDefaults(opts.inputShape);
  const pick = <K extends keyof PreprocessConfig>(k: K): PreprocessConfig[K] | undefined =>
    flags[k] ?? file[k] ?? fromShape[k];

  const layout = pick('layout') ?? 'NCHW';
  // The channel count comes from the shape for the layout actually used (a --layout flag may change it).
  const channels = pick('channels') ?? channelsOf(opts.inputShape, layout) ?? 3;
  const size = pick('size') ?? [DEFAULT_SIZE, DEFAULT_SIZE];
  const scale = pick('scale') ?? '0-1';
  // Default statistics are on the 0-1 scale; for '0-255' inputs they are scaled to match.
  const k = scale === '0-255' ? 255 : 1;
  const stats = defaultStats(channels);
  const cfg: PreprocessConfig = {
    layout,
    channels,
    size,
    mean: pick('mean') ?? stats.mean.map((m) => m * k),
    std: pick('std') ?? stats.std.map((s) => s * k),
    scale,
    channelOrder: pick('channelOrder') ?? 'RGB',
    labelOffset: pick('labelOffset') ?? 0,
  };
  checkChannels(cfg, (key) =>
    key in flags ? 'command-line options' : key in file ? fileSource : 'defaults',
  );
  if (opts.inputShape !== undefined) checkAgainstShape(cfg, opts.inputShape);
  return cfg;
}

const isKnown = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0;
const isChannels = (d: unknown): d is ChannelCount => d === 1 || d === 3 || d === 4;

/**
 * Layout and size implied by a 4-D image input; unknown (symbolic) H/W are left to the defaults. A
 * channel axis has 1, 3 or 4 entries: NCHW unless only the last axis looks like one (3 is checked
 * first, so [N, 3, 4, 4] is NCHW and [N, 4, 4, 3] is NHWC).
 */
function shapeDefaults(shape: InputShape): Partial<PreprocessConfig> {
  if (shape.length !== 4) return {};
  const [, d1, d2, d3] = shape;
  const nhwc = d1 !== 3 && (d3 === 3 || (!isChannels(d1) && isChannels(d3)));
  const [h, w] = nhwc ? [d1, d2] : [d2, d3];
  return {
    layout: nhwc ? 'NHWC' : 'NCHW',
    size: [isKnown(h) ? h : DEFAULT_SIZE, isKnown(w) ? w : DEFAULT_SIZE],
  };
}

/** The static channel count of a 4-D input under `layout`, when it is 1, 3 or 4. */
function channelsOf(shape: InputShape | undefined, layout: Layout): ChannelCount | undefined {
  if (shape?.length !== 4) return undefined;
  const c = layout === 'NCHW' ? shape[1] : shape[3];
  return isChannels(c) ? c : undefined;
}

/** mean/std must give one value per channel; BGR needs colour channels. */
function checkChannels(cfg: PreprocessConfig, sourceOf: (key: keyof PreprocessConfig) => string): void {
  for (const key of ['mean', 'std'] as const) {
    const n = cfg[key].length;
    if (n === cfg.channels) continue;
    const from = sourceOf(key);
    throw new GradsightError(
      from === 'command-line options' ? 'bad-argument' : 'bad-preprocess',
      `${from}: "${key}" has ${n} value${n === 1 ? '' : 's'} but the input has ${cfg.channels} channel${cfg.channels === 1 ? '' : 's'} (from ${sourceOf('channels')})`,
      {
        hint: `give one ${key} value per channel (e.g. "${key}": [${
          cfg.channels === 1
            ? '0'
            : Array(cfg.channels)
                .fill(key === 'std' ? 1 : 0)
                .join(', ')
        }]), or set "channels" to ${n}`,
        details: { key, values: cfg[key], channels: cfg.channels },
      },
    );
  }
  if (cfg.channels === 1 && cfg.channelOrder === 'BGR') {
    const from = sourceOf('channelOrder');
    throw new GradsightError(
      from === 'command-line options' ? 'bad-argument' : 'bad-preprocess',
      `${from}: channel order BGR has no meaning for a 1-channel (grayscale) input`,
      { hint: 'drop "channelOrder" (or --bgr) for a grayscale model', details: { channels: 1 } },
    );
  }
}

/** A fixed model input that disagrees with the resolved config fails here, not deep in the runtime. */
function checkAgainstShape(cfg: PreprocessConfig, shape: InputShape): void {
  const fail = (why: string, hint: string) =>
    new GradsightError('bad-preprocess', `preprocessing does not fit the model input: ${why}`, {
      hint,
      details: { inputShape: shape, layout: cfg.layout, size: cfg.size, channels: cfg.channels },
    });
  const dims = `[${shape.map((d) => d ?? '?').join(', ')}]`;
  if (shape.length !== 4) {
    throw fail(`the input ${dims} is not a 4-D image batch`, 'gradsight reads NCHW or NHWC image inputs.');
  }
  const [c, h, w] = cfg.layout === 'NCHW' ? [shape[1], shape[2], shape[3]] : [shape[3], shape[1], shape[2]];
  if (isKnown(c) && c !== cfg.channels) {
    throw fail(
      `${cfg.layout} input ${dims} has ${c} channel${c === 1 ? '' : 's'}, but the preprocessing says ${cfg.channels}`,
      isChannels(c)
        ? `set "channels": ${c} in preprocess.json (or --channels ${c}), or drop it: it is read off the input shape`
        : `a ${c}-channel input is not an image gradsight can build (1, 3 or 4 channels); check "layout" (--layout)`,
    );
  }
  if ((isKnown(h) && h !== cfg.size[0]) || (isKnown(w) && w !== cfg.size[1])) {
    throw fail(
      `size ${cfg.size[0]}x${cfg.size[1]} but the ${cfg.layout} input is ${dims}`,
      'Fix preprocess.json or the --size/--layout options to match the model input shape.',
    );
  }
}

// ---- image → tensor ----

const f = Math.fround;

/** The source band (in the decoded RGB(A) image) of model channel c under the channel order. */
const sourceBand = (cfg: PreprocessConfig, c: number) => (cfg.channelOrder === 'BGR' && c < 3 ? 2 - c : c);

/** Per model channel, the normalized float32 value of each of the 256 byte values. */
function lookupTables(cfg: PreprocessConfig): Float32Array[] {
  return Array.from({ length: cfg.channels }, (_, c) => {
    // mean/std are in RGB(A) order; the source component for model channel c depends on the order.
    const src = sourceBand(cfg, c);
    const mean = f(cfg.mean[src]!);
    const std = f(cfg.std[src]!);
    const lut = new Float32Array(256);
    for (let p = 0; p < 256; p++) {
      const x = cfg.scale === '0-1' ? f(p / 255) : p;
      lut[p] = f(f(x - mean) / std);
    }
    return lut;
  });
}

/**
 * The image as the model sees it before normalisation: converted to the config's channels (L, RGB or
 * RGBA) at full size, then resized to the config size, as `Image.convert(mode).resize(size)` does.
 */
export function modelBands(img: RgbImage, cfg: Pick<PreprocessConfig, 'size' | 'channels'>): Bands {
  const [h, w] = cfg.size;
  const bands = toBands(img, cfg.channels);
  return img.width === w && img.height === h ? bands : resizeToBands(bands, w, h);
}

/**
 * What the model sees, drawn as RGB (a grayscale model's view repeated on R, G, B; RGBA without its
 * alpha), for overlays: at the model's size, or with `resize` false at the image's own size.
 */
export function modelView(
  img: RgbImage,
  cfg: Pick<PreprocessConfig, 'size' | 'channels'>,
  resize = true,
): RgbImage {
  if (!resize)
    return cfg.channels === 1 ? bandsToRgb(toBands(img, 1)) : rgbImage(img.width, img.height, img.data);
  // RGBA is shown by its colour, resized as RGB: no premultiplied (alpha-weighted) colours on screen.
  return bandsToRgb(modelBands(img, cfg.channels === 4 ? { ...cfg, channels: 3 } : cfg));
}

/** Writes one image into `out` at `offset` (a [C,H,W] or [H,W,C] slot). */
function fill(img: RgbImage, cfg: PreprocessConfig, luts: Float32Array[], out: Float32Array, offset: number) {
  const bytes = modelBands(img, cfg).data;
  const plane = cfg.size[0] * cfg.size[1];
  const nc = cfg.channels;
  const nchw = cfg.layout === 'NCHW';
  for (let c = 0; c < nc; c++) {
    // Channel c: at o + i (NCHW) or o + i·nc (NHWC) for pixel i.
    const o = nchw ? offset + c * plane : offset + c;
    fillChannel(bytes, nc, sourceBand(cfg, c), luts[c]!, out, o, nchw ? 1 : nc, plane);
  }
}

/** out[o + i·step] = lut[bytes[i·nc + comp]] for the `plane` pixels i (arrays and numbers only). */
function fillChannel(
  bytes: Uint8Array,
  nc: number,
  comp: number,
  lut: Float32Array,
  out: Float32Array,
  o: number,
  step: number,
  plane: number,
): void {
  for (let i = 0; i < plane; i++) out[o + i * step] = lut[bytes[i * nc + comp]!]!;
}

export function imageToTensor(img: RgbImage, cfg: PreprocessConfig): Float32Tensor {
  return imagesToBatch([img], cfg);
}

/** The input shape of n images under `cfg` (at `size`, [H, W], if given): [n, C, H, W] or [n, H, W, C]. */
export function inputDimsOf(
  cfg: Pick<PreprocessConfig, 'size' | 'channels' | 'layout'>,
  n: number,
  size: readonly [number, number] = cfg.size,
): number[] {
  const [h, w] = size;
  return cfg.layout === 'NCHW' ? [n, cfg.channels, h, w] : [n, h, w, cfg.channels];
}

/** Stacks images into one [N,C,H,W] (or [N,H,W,C]) batch; each is resized to the config size. */
export function imagesToBatch(imgs: readonly RgbImage[], cfg: PreprocessConfig): Float32Tensor {
  if (imgs.length === 0) throw new RangeError('imagesToBatch needs at least one image');
  const [h, w] = cfg.size;
  const nc = cfg.channels;
  const per = nc * h * w;
  const out = new Float32Array(imgs.length * per);
  const luts = lookupTables(cfg);
  imgs.forEach((img, n) => {
    fill(img, cfg, luts, out, n * per);
  });
  return float32(out, inputDimsOf(cfg, imgs.length));
}
