// Targets given to the library as data (specs) or objects (Targets), checked before they are used: a
// field of the wrong type is a 'bad-argument' error naming it, not a TypeError or RangeError later
// (a BigInt of 1.5 in the in-graph TopK, `reference is not iterable`).

import { GradsightError } from '../errors.ts';
import type { Target, TargetRowInit, TargetSpec } from './types.ts';

export const SPEC_KINDS: readonly TargetSpec['kind'][] = [
  'predicted',
  'top',
  'class',
  'label',
  'contrast',
  'probability',
  'log-probability',
  'sigmoid',
  'region',
  'detection',
  'cosine',
  'direction',
  'seed',
  'caption',
  'custom',
];

export const badTarget = (message: string) =>
  new GradsightError('bad-argument', message, {
    hint: `give a class index, a target string ('pred', 'top:3', 'tabby'), a spec { kind: ${SPEC_KINDS.map((k) => `'${k}'`).join(' | ')}, ... } or a Target`,
  });

const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1;
const isRef = (v: unknown) => typeof v === 'string' || typeof v === 'number';
const isNumbers = (v: unknown) =>
  v instanceof Float32Array || (Array.isArray(v) && v.every((x) => typeof x === 'number'));

/** The spec with its fields checked (number arrays given for Float32Arrays are converted). */
export function checkSpec(spec: TargetSpec): TargetSpec {
  const s = spec as unknown as Record<string, unknown>;
  if (!SPEC_KINDS.includes(spec.kind)) throw badTarget(`unknown target kind ${JSON.stringify(s.kind)}`);
  const field = (key: string, ok: (v: unknown) => boolean, what: string, optional = true) => {
    const v = s[key];
    if ((v === undefined && !optional) || (v !== undefined && !ok(v))) {
      throw badTarget(
        `a '${spec.kind}' target needs ${key} as ${what}, got ${v === undefined ? 'none' : JSON.stringify(v)}`,
      );
    }
  };
  if (s.counterfactual !== undefined && typeof s.counterfactual !== 'boolean')
    throw badTarget(`counterfactual must be true or false, got ${JSON.stringify(s.counterfactual)}`);
  switch (spec.kind) {
    case 'top':
      field('k', isCount, 'a whole number ≥ 1', false);
      break;
    case 'class':
      field('index', (v) => typeof v === 'number', 'a class index', false);
      break;
    case 'label':
      field('text', (v) => typeof v === 'string', 'a string', false);
      break;
    case 'contrast':
      field('a', isRef, 'a class index or label', false);
      field('b', isRef, 'a class index or label', false);
      break;
    case 'probability':
    case 'log-probability':
    case 'sigmoid':
      field('of', isRef, 'a class index or label');
      break;
    case 'region':
      field('of', isRef, 'a class index or label', false);
      field('mask', isNumbers, 'a Float32Array');
      break;
    case 'detection':
      field('count', isCount, 'a whole number ≥ 1');
      field('of', isRef, 'a class index or label');
      field('box', (v) => Array.isArray(v) && v.length === 4 && v.every(Number.isFinite), '[x0, y0, x1, y1]');
      break;
    case 'cosine':
      field('reference', isNumbers, 'a Float32Array (the reference embedding)', false);
      break;
    case 'direction':
      field('sign', (v) => v === 1 || v === -1, '1 or -1', false);
      field('index', (v) => Number.isSafeInteger(v), 'an output index');
      break;
    case 'seed':
      field('seed', isNumbers, 'a Float32Array', false);
      break;
    case 'caption':
      field(
        'word',
        (v) => isRef(v) && (typeof v === 'string' || isCount(v)),
        'a word position ≥ 1 or a word',
      );
      break;
    case 'custom':
      field(
        'target',
        (v) => typeof v === 'object' && v !== null && typeof (v as Target).rows === 'function',
        'a Target',
        false,
      );
      break;
  }
  // Arrays of numbers are accepted where a Float32Array is expected.
  for (const key of ['mask', 'reference', 'seed'] as const) {
    if (Array.isArray(s[key])) return { ...spec, [key]: Float32Array.from(s[key] as number[]) } as TargetSpec;
  }
  return spec;
}

/** A user's Target: its rows(values) must return a list of rows with a Float32Array seed each. */
export function checkRows(rows: unknown): readonly TargetRowInit[] {
  if (!Array.isArray(rows))
    throw badTarget(`a Target's rows(values) must return a list of rows, got ${String(rows)}`);
  for (const r of rows) {
    if (typeof r !== 'object' || r === null || !((r as TargetRowInit).seed instanceof Float32Array)) {
      throw badTarget(
        "each row a Target returns needs a seed (a Float32Array, one value per element of T's row)",
      );
    }
  }
  return rows;
}
