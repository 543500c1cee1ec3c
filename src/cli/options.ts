// Option parsers and shared option groups. Parsers throw GradsightError('bad-argument'), so a wrong
// flag value reads like every other error: what is wrong and what to type instead.

import type { Command } from 'commander';
import { DECODER_IDS, type DecoderId } from '../detect/decoders.ts';
import { GradsightError } from '../errors.ts';
import { DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS, type ImageFileOptions } from '../image/limits.ts';
import type { ChannelCount, PreprocessFlags } from '../image/preprocess.ts';
import { MIB, type ReadLimit } from '../io/read-file-node.ts';
import { type DescriptionFlags, TASKS, type TaskKind } from '../model/description.ts';
import { DEFAULT_MAX_INPUT_PIXELS } from '../model/input-pixels.ts';

export function positiveInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1) {
      throw new GradsightError(
        'bad-argument',
        `${flag} expects a positive whole number, got ${JSON.stringify(v)}`,
        { hint: `for example ${flag} 4` },
      );
    }
    return n;
  };
}

export function nonNegativeInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) {
      throw new GradsightError(
        'bad-argument',
        `${flag} expects a whole number ≥ 0, got ${JSON.stringify(v)}`,
        { hint: `for example ${flag} 0` },
      );
    }
    return n;
  };
}

/** One value per image channel: 1 (grayscale), 3 (RGB) or 4 (RGBA) comma-separated numbers. */
function channelValues(flag: string): (v: string) => number[] {
  return (v) => {
    const parts = v.split(',').map((s) => Number(s.trim()));
    if (![1, 3, 4].includes(parts.length) || parts.some((x) => !Number.isFinite(x))) {
      throw new GradsightError(
        'bad-argument',
        `${flag} expects 1, 3 or 4 comma-separated numbers (one per channel), got ${JSON.stringify(v)}`,
        { hint: `for example ${flag} 0.485,0.456,0.406 (RGB) or ${flag} 0.5 (grayscale)` },
      );
    }
    return parts;
  };
}

/** A number from 0 to 1 (score and IoU thresholds). */
export function unitInterval(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !(n >= 0 && n <= 1)) {
      throw new GradsightError(
        'bad-argument',
        `${flag} expects a number from 0 to 1, got ${JSON.stringify(v)}`,
        {
          hint: `for example ${flag} 0.5`,
        },
      );
    }
    return n;
  };
}

function sizeArg(v: string): [number, number] {
  const m = /^(\d+)(?:[x×,](\d+))?$/i.exec(v.trim());
  const h = m ? Number(m[1]) : Number.NaN;
  const w = m?.[2] !== undefined ? Number(m[2]) : h;
  if (!m || h < 1 || w < 1) {
    throw new GradsightError('bad-argument', `--size expects HxW or one number, got ${JSON.stringify(v)}`, {
      hint: 'for example --size 224 or --size 192x256 (height x width)',
    });
  }
  return [h, w];
}

export function oneOf<T extends string>(flag: string, choices: readonly T[]): (v: string) => T {
  return (v) => {
    const hit = choices.find((c) => c.toLowerCase() === v.toLowerCase());
    if (!hit) {
      throw new GradsightError(
        'bad-argument',
        `${flag} must be one of ${choices.join(', ')}; got ${JSON.stringify(v)}`,
        { hint: `for example ${flag} ${choices[0]}` },
      );
    }
    return hit;
  };
}

/** Adds the preprocessing flags shared by every command that reads images. */
export function addPreprocessOptions(cmd: Command): Command {
  return cmd
    .option(
      '--size <HxW>',
      'model input size (default: preprocess.json, else the model input shape)',
      sizeArg,
    )
    .option(
      '--channels <n>',
      'image channels: 1 (grayscale), 3 (RGB) or 4 (RGBA); default: the input shape',
      (v) => Number(oneOf('--channels', ['1', '3', '4'])(v)),
    )
    .option(
      '--mean <r,g,b>',
      'per-channel mean, on the --scale scale (1, 3 or 4 values)',
      channelValues('--mean'),
    )
    .option(
      '--std <r,g,b>',
      'per-channel std, on the --scale scale (1, 3 or 4 values)',
      channelValues('--std'),
    )
    .option(
      '--scale <range>',
      'pixel scale before normalisation: 0-1 or 0-255',
      oneOf('--scale', ['0-1', '0-255']),
    )
    .option('--layout <layout>', 'input layout: NCHW or NHWC', oneOf('--layout', ['NCHW', 'NHWC']))
    .option('--bgr', 'feed channels in BGR order')
    .option(
      '--task <task>',
      `what the output is: ${TASKS.join(', ')} (default: from its shape)`,
      oneOf('--task', TASKS),
    )
    .option(
      '--decoder <name>',
      `detection output layout: ${DECODER_IDS.join(', ')}`,
      oneOf('--decoder', DECODER_IDS),
    )
    .option(
      '--output-layout <layout>',
      'segmentation output layout: NCHW or NHWC',
      oneOf('--output-layout', ['NCHW', 'NHWC']),
    )
    .option(
      '--score-threshold <p>',
      'detection: drop detections scoring below this (default 0.25)',
      unitInterval('--score-threshold'),
    )
    .option(
      '--iou-threshold <p>',
      'detection: NMS IoU threshold (default 0.45)',
      unitInterval('--iou-threshold'),
    )
    .option('--labels <file>', 'labels file, one per line (default: labels.txt next to the model)')
    .option(
      '--max-input-pixels <n>',
      `largest model input height × width (default ${DEFAULT_MAX_INPUT_PIXELS}, 16 MP); memory grows with it`,
      positiveInt('--max-input-pixels'),
    );
}

/** The model limits among the flags (not preprocessing: ImageModelOptions besides `preprocess`). */
export function modelLimits(o: PreprocessOpts): { maxInputPixels?: number } {
  return o.maxInputPixels !== undefined ? { maxInputPixels: o.maxInputPixels } : {};
}

export interface PreprocessOpts extends InputLimitOpts {
  size?: [number, number];
  channels?: number;
  mean?: number[];
  std?: number[];
  scale?: '0-1' | '0-255';
  layout?: 'NCHW' | 'NHWC';
  bgr?: boolean;
  task?: TaskKind;
  decoder?: DecoderId;
  outputLayout?: 'NCHW' | 'NHWC';
  scoreThreshold?: number;
  iouThreshold?: number;
  maxInputPixels?: number;
}

type Flags = PreprocessFlags & DescriptionFlags;

/** The input limits (image/limits.ts) among the flags. */
export interface InputLimitOpts {
  maxPixels?: number;
  maxFileMb?: number;
}

/** Adds the input limits, for the commands that read images or tensors (explain, predict, layers, grad). */
export function addInputLimitOptions(cmd: Command): Command {
  return cmd
    .option(
      '--max-pixels <n>',
      `largest image to decode, in pixels, checked from its header (default ${DEFAULT_MAX_PIXELS}, 100 MP)`,
      positiveInt('--max-pixels'),
    )
    .option(
      '--max-file-mb <n>',
      `largest image, .npy or feed file to read, in MiB (default ${DEFAULT_MAX_IMAGE_BYTES / MIB})`,
      positiveInt('--max-file-mb'),
    );
}

/** The image decode limits the flags give, without the warning channel (it may cross to a worker). */
export function decodeLimits(o: InputLimitOpts): { maxPixels?: number; maxFileBytes?: number } {
  return {
    ...(o.maxPixels !== undefined ? { maxPixels: o.maxPixels } : {}),
    ...(o.maxFileMb !== undefined ? { maxFileBytes: o.maxFileMb * MIB } : {}),
  };
}

/** decodeImageFile's options from the flags; tolerated defects are printed as `warning: ...`. */
export function decodeOptions(o: InputLimitOpts, err: (s: string) => void): ImageFileOptions {
  return { ...decodeLimits(o), onWarning: (m) => err(`warning: ${m}\n`) };
}

/** The read limit for .npy and feed files (the same --max-file-mb as images). */
export function fileLimit(o: InputLimitOpts): ReadLimit {
  return { maxBytes: (o.maxFileMb ?? DEFAULT_MAX_IMAGE_BYTES / MIB) * MIB, flag: '--max-file-mb' };
}

/** The preprocessing and model-description flags given (validated again with the file's keys). */
export function preprocessFlags(o: PreprocessOpts): Flags {
  const f: { -readonly [K in keyof Flags]: Flags[K] } = {};
  if (o.size) f.size = o.size;
  if (o.channels !== undefined) f.channels = o.channels as ChannelCount;
  if (o.mean) f.mean = o.mean;
  if (o.std) f.std = o.std;
  if (o.scale) f.scale = o.scale;
  if (o.layout) f.layout = o.layout;
  if (o.bgr) f.channelOrder = 'BGR';
  if (o.task) f.task = o.task;
  if (o.decoder) f.decoder = o.decoder;
  if (o.outputLayout) f.outputLayout = o.outputLayout;
  if (o.scoreThreshold !== undefined) f.scoreThreshold = o.scoreThreshold;
  if (o.iouThreshold !== undefined) f.iouThreshold = o.iouThreshold;
  return f;
}
