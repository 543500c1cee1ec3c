// Option parsers and shared option groups. Parsers throw GradsightError('bad-argument'), so a wrong
// flag value reads like every other error: what is wrong and what to type instead.

import type { Command } from 'commander';
import { GradsightError } from '../errors.ts';
import type { PreprocessFlags } from '../image/preprocess.ts';

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

function numberList(flag: string, count: number): (v: string) => number[] {
  return (v) => {
    const parts = v.split(',').map((s) => Number(s.trim()));
    if (parts.length !== count || parts.some((x) => !Number.isFinite(x))) {
      throw new GradsightError(
        'bad-argument',
        `${flag} expects ${count} comma-separated numbers, got ${JSON.stringify(v)}`,
        {
          hint: `for example ${flag} ${count === 3 ? '0.485,0.456,0.406' : '224,224'}`,
        },
      );
    }
    return parts;
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
    .option('--mean <r,g,b>', 'per-channel mean, on the --scale scale', numberList('--mean', 3))
    .option('--std <r,g,b>', 'per-channel std, on the --scale scale', numberList('--std', 3))
    .option(
      '--scale <range>',
      'pixel scale before normalisation: 0-1 or 0-255',
      oneOf('--scale', ['0-1', '0-255']),
    )
    .option('--layout <layout>', 'input layout: NCHW or NHWC', oneOf('--layout', ['NCHW', 'NHWC']))
    .option('--bgr', 'feed channels in BGR order')
    .option('--labels <file>', 'labels file, one per line (default: labels.txt next to the model)');
}

export interface PreprocessOpts {
  size?: [number, number];
  mean?: number[];
  std?: number[];
  scale?: '0-1' | '0-255';
  layout?: 'NCHW' | 'NHWC';
  bgr?: boolean;
}

export function preprocessFlags(o: PreprocessOpts): PreprocessFlags {
  const f: { -readonly [K in keyof PreprocessFlags]: PreprocessFlags[K] } = {};
  if (o.size) f.size = o.size;
  if (o.mean) f.mean = o.mean as [number, number, number];
  if (o.std) f.std = o.std as [number, number, number];
  if (o.scale) f.scale = o.scale;
  if (o.layout) f.layout = o.layout;
  if (o.bgr) f.channelOrder = 'BGR';
  return f;
}
