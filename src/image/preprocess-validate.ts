// Strict checking of preprocess settings from preprocess.json or CLI flags: known keys must have the right
// type, length and range (a typo in `std` would silently ruin every map); unknown keys are ignored.

import { GradsightError } from '../errors.ts';
import type { PreprocessConfig } from './preprocess.ts';

/**
 * Checks the known keys of a preprocess object (other keys, e.g. `resize` or `task`, are ignored) and
 * returns them typed. `code` is 'bad-preprocess' for files and 'bad-argument' for CLI flags.
 */
export function validatePreprocess(
  raw: unknown,
  source: string,
  code: 'bad-preprocess' | 'bad-argument' = 'bad-preprocess',
): Partial<PreprocessConfig> {
  const bad = (key: string, why: string, value?: unknown) =>
    new GradsightError(
      code,
      `${source}: "${key}" ${why}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`,
      {
        hint:
          'Expected e.g. {"layout":"NCHW","size":[224,224],"mean":[0.485,0.456,0.406],' +
          '"std":[0.229,0.224,0.225],"scale":"0-1","channelOrder":"RGB","labelOffset":0}',
        details: { source, key },
      },
    );
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw bad('(root)', 'must be a JSON object', Array.isArray(raw) ? 'an array' : raw);
  }
  const o = raw as Record<string, unknown>;
  const out: { -readonly [K in keyof PreprocessConfig]?: PreprocessConfig[K] } = {};
  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (!allowed.includes(v as T)) throw bad(key, `must be one of ${allowed.join(', ')}`, v);
    return v as T;
  };
  const numbers = (key: string, n: number, ok: (x: number) => boolean, what: string) => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === 'number' && ok(x))) {
      throw bad(key, `must be an array of ${n} ${what}`, v);
    }
    return v as number[];
  };
  out.layout = oneOf('layout', ['NCHW', 'NHWC'] as const);
  out.scale = oneOf('scale', ['0-1', '0-255'] as const);
  out.channelOrder = oneOf('channelOrder', ['RGB', 'BGR'] as const);
  const size = numbers('size', 2, (x) => Number.isInteger(x) && x > 0, 'positive integers [height, width]');
  if (size) out.size = [size[0]!, size[1]!];
  const mean = numbers('mean', 3, Number.isFinite, 'finite numbers (R, G, B)');
  if (mean) out.mean = [mean[0]!, mean[1]!, mean[2]!];
  const std = numbers('std', 3, (x) => Number.isFinite(x) && x > 0, 'positive numbers (R, G, B)');
  if (std) out.std = [std[0]!, std[1]!, std[2]!];
  if (o.labelOffset !== undefined) {
    const v = o.labelOffset;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw bad('labelOffset', 'must be a non-negative integer', v);
    }
    out.labelOffset = v;
  }
  for (const k of Object.keys(out) as (keyof PreprocessConfig)[]) if (out[k] === undefined) delete out[k];
  return out;
}
