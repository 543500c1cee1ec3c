// Strict checking of preprocess settings from preprocess.json or CLI flags: known keys must have the right
// type, length and range (a typo in `std` would silently ruin every map); unknown keys are ignored.

import { GradsightError } from '../errors.ts';
import type { PreprocessConfig } from './preprocess.ts';

/** The preprocessing keys, then the model-description keys (model/description.ts) that share the object. */
const KNOWN_KEYS: readonly string[] = [
  ...([
    'layout',
    'channels',
    'size',
    'mean',
    'std',
    'scale',
    'channelOrder',
    'labelOffset',
  ] satisfies (keyof PreprocessConfig)[]),
  ...['task', 'outputLayout', 'decoder', 'scoreThreshold', 'iouThreshold', 'classes'],
];

/**
 * Checks the known preprocessing keys of a preprocess object (other keys are ignored here: the model
 * description's `task` keys are checked by model/description.ts) and returns them typed. `code` is 'bad-preprocess' for files and 'bad-argument' for CLI flags and library options,
 * where an unknown key is a typo and refused.
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
          'Expected e.g. {"layout":"NCHW","channels":3,"size":[224,224],"mean":[0.485,0.456,0.406],' +
          '"std":[0.229,0.224,0.225],"scale":"0-1","channelOrder":"RGB","labelOffset":0} ' +
          '(mean/std: one value per channel, e.g. {"channels":1,"mean":[0],"std":[1]})',
        details: { source, key },
      },
    );
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw bad('(root)', 'must be a JSON object', Array.isArray(raw) ? 'an array' : raw);
  }
  const o = raw as Record<string, unknown>;
  // Other keys are ignored (model cards carry notes), but this one reads as a setting and would be
  // silently dropped: the normalisation is mean, std and scale.
  for (const key of ['normalize', 'normalization', 'normalise']) {
    if (o[key] !== undefined) {
      throw bad(
        key,
        'is not a preprocessing key: give the normalisation as "mean", "std" and "scale"',
        o[key],
      );
    }
  }
  if (code === 'bad-argument') {
    const unknown = Object.keys(o).filter((k) => !KNOWN_KEYS.includes(k));
    if (unknown.length)
      throw bad(unknown[0]!, `is not a preprocessing or model-description option (${KNOWN_KEYS.join(', ')})`);
  }
  const out: { -readonly [K in keyof PreprocessConfig]?: PreprocessConfig[K] } = {};
  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (!allowed.includes(v as T)) throw bad(key, `must be one of ${allowed.join(', ')}`, v);
    return v as T;
  };
  const numbers = (key: string, n: readonly number[], ok: (x: number) => boolean, what: string) => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !n.includes(v.length) || !v.every((x) => typeof x === 'number' && ok(x))) {
      throw bad(key, `must be an array of ${n.join(' or ')} ${what}`, v);
    }
    return v as number[];
  };
  out.layout = oneOf('layout', ['NCHW', 'NHWC'] as const);
  out.scale = oneOf('scale', ['0-1', '0-255'] as const);
  out.channelOrder = oneOf('channelOrder', ['RGB', 'BGR'] as const);
  if (o.channels !== undefined) {
    if (!(o.channels === 1 || o.channels === 3 || o.channels === 4)) {
      throw bad('channels', 'must be 1 (grayscale), 3 (RGB) or 4 (RGBA)', o.channels);
    }
    out.channels = o.channels;
  }
  const size = numbers('size', [2], (x) => Number.isInteger(x) && x > 0, 'positive integers [height, width]');
  if (size) out.size = [size[0]!, size[1]!];
  // One value per channel; the count is checked against the resolved channels in resolvePreprocess.
  const perChannel = out.channels === undefined ? [1, 3, 4] : [out.channels];
  const what = (kind: string) =>
    `${kind} (${out.channels === undefined ? 'one per channel: L, R G B or R G B A' : `one per channel, "channels" is ${out.channels}`})`;
  const mean = numbers('mean', perChannel, Number.isFinite, what('finite numbers'));
  if (mean) out.mean = [...mean];
  const std = numbers('std', perChannel, (x) => Number.isFinite(x) && x > 0, what('positive numbers'));
  if (std) out.std = [...std];
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
