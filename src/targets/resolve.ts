// Target specs → Targets, and Targets × the values at the clean input → rows. The built-in targets are
// ordinary Targets (a user-defined one plugs in the same way); counterfactual is one modifier that
// negates any target's seeds.

import type { Decoder } from '../detect/types.ts';
import { GradsightError } from '../errors.ts';
import { labelFor } from '../image/labels.ts';
import type { LanguageDescription } from '../model/language-description.ts';
import { topK } from '../tensor/tensor.ts';
import { captionTarget } from './caption.ts';
import { badTarget, checkRows, checkSpec } from './check-spec.ts';
import { classIndex } from './class-index.ts';
import { detectionTarget } from './detection.ts';
import { cosineHead, logSoftmaxHead, sigmoidHead, softmaxHead } from './heads.ts';
import { parseTarget } from './parse.ts';
import type { Target, TargetInput, TargetRow, TargetRowInit, TargetSpec, TargetValues } from './types.ts';

/** What targets need to know of the model. */
export interface TargetEnv {
  /** The model's task (from its description); dense outputs are segmentation either way. */
  readonly task?: 'classification' | 'multi-label' | 'segmentation' | 'detection' | 'captioning' | 'vqa';
  /** Class axis of a dense segmentation output row: NCHW → 0 ([C, H, W]), NHWC → 2 ([H, W, C]). */
  readonly denseLayout?: 'NCHW' | 'NHWC';
  readonly detection?: {
    readonly decoder: Decoder;
    readonly scoreThreshold: number;
    readonly iouThreshold: number;
  };
  /** Captioning and VQA models: the token input and the vocabulary. */
  readonly language?: LanguageDescription;
}

/** A class index, a CLI string, a spec or a user's Target, as a Target. */
export function targetFrom(input: TargetInput, env: TargetEnv = {}): Target {
  if (typeof input === 'number') return targetOf({ kind: 'class', index: input }, env);
  if (typeof input === 'string') return targetOf(parseTarget(input), env);
  if (typeof input !== 'object' || input === null) throw badTarget(`a target cannot be ${String(input)}`);
  if ('rows' in input) {
    if (typeof input.rows !== 'function') throw badTarget('a Target needs rows(values) as a function');
    return input;
  }
  return targetOf(checkSpec(input), env);
}

export function targetOf(spec: TargetSpec, env: TargetEnv = {}): Target {
  const t = baseTarget(spec, env);
  return spec.counterfactual ? counterfactual(t) : t;
}

/**
 * −y: the seeds negated (Selvaraju et al., §3.2 "counterfactual explanations"). Applied to a target
 * that is already counterfactual (`cf:pred` with the global option) it gives the plain target back,
 * as `cf:cf:pred` does, so a row's flag always matches its seed's sign.
 */
export function counterfactual(t: Target): Target {
  return {
    ...t,
    ...(t.select ? { select: { k: t.select.k, sign: t.select.sign > 0 ? -1 : 1 } } : {}),
    rows: (v) =>
      t.rows(v).map((r) => {
        const was = (r as Partial<TargetRow>).counterfactual === true;
        const prefix = 'counterfactual: ';
        return {
          ...r,
          description: was ? r.description.replace(prefix, '') : `${prefix}${r.description}`,
          seed: r.seed.map((s) => -s),
          counterfactual: !was,
        };
      }),
  };
}

/** The rows of `targets` for every image, images outer. */
export function resolveRows(
  targets: readonly Target[],
  perImage: readonly Omit<TargetValues, 'image'>[][],
): TargetRow[] {
  const rows: TargetRow[] = [];
  perImage.forEach((values, image) => {
    targets.forEach((t, k) => {
      const v = { ...values[k]!, image };
      for (const r of checkRows(t.rows(v))) {
        if (r.seed.length !== v.t.length) {
          throw new GradsightError(
            'bad-argument',
            `the target's seed has ${r.seed.length} values; one row of what it explains has ${v.t.length} ([${v.tDims.join(', ')}])`,
            { hint: 'a seed has one value per element of one output row' },
          );
        }
        rows.push({ counterfactual: false, ...r, image });
      }
    });
  });
  return rows;
}

/** The explained scalar of a row: ⟨seed, T_row⟩. */
export function scoreOf(seed: Float32Array, t: Float32Array): number {
  let s = 0;
  for (let i = 0; i < seed.length; i++) if (seed[i] !== 0) s += seed[i]! * t[i]!;
  return s;
}

function baseTarget(spec: TargetSpec, env: TargetEnv): Target {
  switch (spec.kind) {
    case 'custom':
      return spec.target;
    case 'predicted':
    case 'top':
      if (env.task === 'detection') return detectionTarget(spec.kind === 'top' ? { count: spec.k } : {}, env);
      return ranked(spec.kind === 'top' ? spec.k : 1, (v) => {
        const k = spec.kind === 'top' ? spec.k : 1;
        const classes = classCount(v, env);
        if (k > classes) {
          throw new GradsightError(
            'bad-argument',
            `top:${k} asks for more classes than the model has (${classes})`,
            {
              hint: `give K from 1 to ${classes}`,
            },
          );
        }
        if (isDense(v)) return topK(classShares(v, env), k).map((c) => regionRow(v, c, undefined, env));
        return topK(v.x, k).map((c) => classRow(v, spec.kind, c));
      });
    case 'class':
    case 'label':
      return fixed((v) => {
        const c = classIndex(spec.kind === 'class' ? spec.index : spec.text, classCount(v, env), v.labels);
        return [isDense(v) ? regionRow(v, c, undefined, env) : classRow(v, spec.kind, c)];
      });
    case 'contrast':
      return fixed((v) => {
        needsClassifier(v, 'A-vs-B');
        const a = classIndex(spec.a, v.x.length, v.labels);
        const b = classIndex(spec.b, v.x.length, v.labels);
        const seed = oneHot(v.x.length, a);
        seed[b]! -= 1;
        return [{ ...classRow(v, 'contrast', a), description: `${name(v, a)} vs ${name(v, b)}`, seed }];
      });
    case 'probability':
    case 'log-probability':
    case 'sigmoid': {
      const sigmoid = spec.kind === 'sigmoid' || (spec.kind === 'probability' && env.task === 'multi-label');
      const head = sigmoid ? sigmoidHead : spec.kind === 'log-probability' ? logSoftmaxHead : softmaxHead;
      return {
        head,
        ...(spec.of === undefined ? { select: { k: 1, sign: 1 } as const } : { fixed: true }),
        rows: (v) => {
          needsClassifier(v, spec.kind);
          const c = spec.of === undefined ? topK(v.x, 1)[0]! : classIndex(spec.of, v.x.length, v.labels);
          const what = sigmoid ? 'σ' : spec.kind === 'log-probability' ? 'log p' : 'p';
          return [{ ...classRow(v, spec.kind, c), description: `${what}(${name(v, c)})` }];
        },
      };
    }
    case 'region':
      return linear((v) => {
        if (!isDense(v))
          throw new GradsightError('bad-argument', 'region targets need a dense output [N, C, H, W]', {
            hint: 'use a class, top:K or a probability for a classifier',
          });
        return [regionRow(v, classIndex(spec.of, classCount(v, env), v.labels), spec.mask, env)];
      });
    case 'detection':
      return detectionTarget(spec, env);
    case 'caption':
      return captionTarget(spec.word === undefined ? {} : { word: spec.word }, env);
    case 'cosine':
      return {
        head: cosineHead(spec.reference),
        fixed: true,
        rows: (v) => {
          if (spec.reference.length !== v.x.length) {
            throw new GradsightError(
              'bad-argument',
              `the reference embedding has ${spec.reference.length} values; one output row has ${v.x.length}`,
              { hint: 'save the reference as the model’s output for a reference image (one row)' },
            );
          }
          const description = spec.description ?? 'cosine similarity to the reference';
          return [
            { index: undefined, label: description, description, kind: 'cosine', seed: Float32Array.of(1) },
          ];
        },
      };
    case 'direction':
      return fixed((v) => {
        const seed = new Float32Array(v.x.length);
        if (spec.index === undefined) seed.fill(spec.sign);
        else seed[checkIndex(spec.index, v.x.length)] = spec.sign;
        const which = spec.index === undefined ? 'the outputs' : `output ${spec.index}`;
        const description = `${which} ${spec.sign > 0 ? 'up' : 'down'}`;
        return [{ index: spec.index, label: description, description, kind: 'direction', seed }];
      });
    case 'seed':
      return fixed((v) => {
        const description = spec.description ?? 'custom seed';
        if (spec.seed.length !== v.t.length) {
          throw new GradsightError(
            'bad-argument',
            `the seed has ${spec.seed.length} values; one output row has ${v.t.length}`,
            { hint: `give one value per output ([${v.tDims.join(', ')}])` },
          );
        }
        return [{ index: undefined, label: description, description, kind: 'seed', seed: spec.seed }];
      });
  }
}

const linear = (rows: Target['rows']): Target => ({ rows });
/** Rows that do not depend on the values of a classifier output. */
const fixed = (rows: Target['rows']): Target => ({ rows, fixed: true });
/** The k best classes of a classifier output: the graph can choose them. */
const ranked = (k: number, rows: Target['rows']): Target => ({ rows, select: { k, sign: 1 } });

const name = (v: TargetValues, i: number) => `${labelFor(v.labels, i)} (${i})`;

function classRow(v: TargetValues, kind: string, c: number): TargetRowInit {
  return {
    index: c,
    label: labelFor(v.labels, c),
    description: name(v, c),
    kind,
    seed: oneHot(v.t.length, c),
  };
}

const isDense = (v: TargetValues) => v.xDims.length === 3;

function needsClassifier(v: TargetValues, what: string): void {
  if (isDense(v))
    throw new GradsightError('bad-argument', `${what} targets need a classifier output [N, K]`, {
      hint: 'for a segmentation output use region:CLASS or a class',
    });
}

function checkIndex(i: number, n: number): number {
  if (!Number.isInteger(i) || i < 0 || i >= n)
    throw new GradsightError('bad-argument', `output ${i} is out of range: the row has ${n} values`, {
      hint: `give an index from 0 to ${n - 1}`,
    });
  return i;
}

/** Strides of a dense row: class k at pixel p is x[k·ck + p·cp]. */
function denseAxes(v: TargetValues, env: TargetEnv) {
  const [d0, d1, d2] = v.xDims as [number, number, number];
  if (env.denseLayout === 'NHWC') return { classes: d2, plane: d0 * d1, ck: 1, cp: d2, h: d0, w: d1 };
  return { classes: d0, plane: d1 * d2, ck: d1 * d2, cp: 1, h: d1, w: d2 };
}

function classCount(v: TargetValues, env: TargetEnv): number {
  return isDense(v) ? denseAxes(v, env).classes : v.x.length;
}

function argmaxAt(v: TargetValues, a: ReturnType<typeof denseAxes>, p: number): number {
  let best = 0;
  for (let k = 1; k < a.classes; k++) if (v.x[k * a.ck + p * a.cp]! > v.x[best * a.ck + p * a.cp]!) best = k;
  return best;
}

function classShares(v: TargetValues, env: TargetEnv): Float64Array {
  const a = denseAxes(v, env);
  const counts = new Float64Array(a.classes);
  for (let p = 0; p < a.plane; p++) counts[argmaxAt(v, a, p)]! += 1;
  return counts;
}

/** Σ over a region of class c's scores; the default region is where c wins the argmax. */
function regionRow(
  v: TargetValues,
  c: number,
  mask: Float32Array | undefined,
  env: TargetEnv,
): TargetRowInit {
  const a = denseAxes(v, env);
  if (mask && mask.length !== a.plane) {
    throw new GradsightError(
      'bad-argument',
      `the region mask has ${mask.length} values; the output is ${a.h}×${a.w}`,
      { hint: `give one value per output pixel (${a.h}×${a.w})` },
    );
  }
  const seed = new Float32Array(v.x.length);
  let count = 0;
  for (let p = 0; p < a.plane; p++) {
    const m = mask ? mask[p]! : argmaxAt(v, a, p) === c ? 1 : 0;
    seed[c * a.ck + p * a.cp] = m;
    if (m !== 0) count++;
  }
  return {
    index: c,
    label: labelFor(v.labels, c),
    description: `${name(v, c)} over ${mask ? 'the given region' : `its ${count} pixels`}`,
    kind: 'region',
    seed,
  };
}

function oneHot(n: number, c: number): Float32Array {
  const s = new Float32Array(n);
  s[c] = 1;
  return s;
}
