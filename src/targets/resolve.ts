// Turning target specs and a batch of model outputs into rows (one per explained scalar), with seeds.

import { closestNames, GradsightError } from '../errors.ts';
import { labelFor } from '../image/labels.ts';
import { softmax, topK } from '../tensor/tensor.ts';
import type { ClassRef, TargetRow, TargetSpec } from './types.ts';

export interface ResolveInput {
  /** Model output [N, ...]; row size K = product of the other dims. */
  readonly output: Float32Array;
  readonly images: number;
  /** Output dims without the batch axis ([K] for classifiers, [C, H, W] for dense outputs). */
  readonly rowDims: readonly number[];
  readonly labels: readonly string[] | undefined;
  readonly counterfactual?: boolean;
}

export function resolveTargets(specs: readonly TargetSpec[], input: ResolveInput): TargetRow[] {
  const rowSize = input.rowDims.reduce((a, b) => a * b, 1);
  const rows: TargetRow[] = [];
  for (let image = 0; image < input.images; image++) {
    const out = input.output.subarray(image * rowSize, (image + 1) * rowSize);
    for (const spec of specs) rows.push(...rowsFor(spec, image, out, input));
  }
  if (input.counterfactual) return rows.map(negate);
  return rows;
}

function rowsFor(spec: TargetSpec, image: number, out: Float32Array, input: ResolveInput): TargetRow[] {
  const dense = input.rowDims.length === 3;
  const classes = dense ? input.rowDims[0]! : out.length;
  const name = (i: number) => `${labelFor(input.labels, i)} (${i})`;
  const cls = (r: ClassRef) => classIndex(r, classes, input.labels);
  switch (spec.kind) {
    case 'predicted':
    case 'top': {
      const k = spec.kind === 'top' ? spec.k : 1;
      if (dense)
        return topK(classShares(out, input.rowDims), k).map((c) =>
          regionRow(image, c, undefined, input, name),
        );
      return topK(out, k).map((c) => linearRow(image, spec.kind, c, name(c), oneHot(out.length, c), input));
    }
    case 'class':
    case 'label': {
      const c = cls(spec.kind === 'class' ? spec.index : spec.text);
      if (dense) return [regionRow(image, c, undefined, input, name)];
      return [linearRow(image, spec.kind, c, name(c), oneHot(out.length, c), input)];
    }
    case 'contrast': {
      if (dense) throw new GradsightError('bad-argument', 'A-vs-B targets need a classifier output [N, K]');
      const a = cls(spec.a);
      const b = cls(spec.b);
      const seed = oneHot(out.length, a);
      seed[b]! -= 1;
      return [linearRow(image, 'contrast', a, `${name(a)} vs ${name(b)}`, seed, input)];
    }
    case 'probability': {
      if (dense)
        throw new GradsightError('bad-argument', 'probability targets need a classifier output [N, K]');
      const c = spec.of === undefined ? topK(out, 1)[0]! : cls(spec.of);
      // d softmax_c / d logits = p_c (e_c − p): exact at this input; score is the probability itself.
      const p = softmax(out);
      const seed = new Float32Array(out.length);
      for (let j = 0; j < seed.length; j++) seed[j] = p[c]! * ((j === c ? 1 : 0) - p[j]!);
      return [
        {
          image,
          index: c,
          label: labelFor(input.labels, c),
          description: `p(${name(c)})`,
          kind: 'probability',
          counterfactual: false,
          seed,
          score: (o) => softmax(o)[c]!,
        },
      ];
    }
    case 'region': {
      if (!dense) throw new GradsightError('bad-argument', 'region targets need a dense output [N, C, H, W]');
      return [regionRow(image, cls(spec.of), spec.mask, input, name)];
    }
    case 'seed': {
      if (spec.seed.length !== out.length) {
        throw new GradsightError(
          'bad-argument',
          `the seed has ${spec.seed.length} values; one output row has ${out.length}`,
        );
      }
      return [linearRow(image, 'seed', undefined, spec.description ?? 'custom seed', spec.seed, input)];
    }
  }
}

function linearRow(
  image: number,
  kind: TargetSpec['kind'],
  index: number | undefined,
  description: string,
  seed: Float32Array,
  input: ResolveInput,
): TargetRow {
  return {
    image,
    index,
    label: index === undefined ? description : labelFor(input.labels, index),
    description,
    kind,
    counterfactual: false,
    seed,
    score: (o) => dot(seed, o),
  };
}

/** Σ over a region of class c's scores; the default region is where c wins the argmax. */
function regionRow(
  image: number,
  c: number,
  mask: Float32Array | undefined,
  input: ResolveInput,
  name: (i: number) => string,
): TargetRow {
  const [classes, h, w] = input.rowDims as [number, number, number];
  const plane = h * w;
  const out = input.output.subarray(image * classes * plane, (image + 1) * classes * plane);
  if (mask && mask.length !== plane) {
    throw new GradsightError(
      'bad-argument',
      `the region mask has ${mask.length} values; the output is ${h}×${w}`,
    );
  }
  const seed = new Float32Array(classes * plane);
  let count = 0;
  for (let p = 0; p < plane; p++) {
    let m = mask ? mask[p]! : 0;
    if (!mask) {
      let best = 0;
      for (let k = 1; k < classes; k++) if (out[k * plane + p]! > out[best * plane + p]!) best = k;
      m = best === c ? 1 : 0;
    }
    seed[c * plane + p] = m;
    if (m !== 0) count++;
  }
  return {
    image,
    index: c,
    label: labelFor(input.labels, c),
    description: `${name(c)} over ${mask ? 'the given region' : `its ${count} pixels`}`,
    kind: 'region',
    counterfactual: false,
    seed,
    score: (o) => dot(seed, o),
  };
}

function negate(row: TargetRow): TargetRow {
  return {
    ...row,
    description: `counterfactual: ${row.description}`,
    counterfactual: true,
    seed: row.seed.map((v) => -v),
    score: (o) => -row.score(o),
  };
}

function classShares(out: Float32Array, rowDims: readonly number[]): Float64Array {
  const [classes, h, w] = rowDims as [number, number, number];
  const plane = h * w;
  const counts = new Float64Array(classes);
  for (let p = 0; p < plane; p++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (out[k * plane + p]! > out[best * plane + p]!) best = k;
    counts[best]! += 1;
  }
  return counts;
}

function classIndex(r: ClassRef, classes: number, labels: readonly string[] | undefined): number {
  if (typeof r === 'number') {
    if (!Number.isInteger(r) || r < 0 || r >= classes) {
      throw new GradsightError(
        'bad-argument',
        `class ${r} is out of range: the model has ${classes} outputs (0 to ${classes - 1})`,
      );
    }
    return r;
  }
  if (!labels) {
    throw new GradsightError(
      'bad-labels',
      `cannot find the class ${JSON.stringify(r)}: the model has no labels`,
      {
        hint: 'give a class index, or a labels file with --labels',
      },
    );
  }
  const want = r.toLowerCase();
  const exact = labels.findIndex((l) => l.toLowerCase() === want);
  if (exact >= 0) return exact;
  // A label line often lists synonyms ("tabby, tabby cat"): match a whole comma-separated name.
  const part = labels.findIndex((l) =>
    l
      .toLowerCase()
      .split(',')
      .some((s) => s.trim() === want),
  );
  if (part >= 0) return part;
  const contains = labels.map((l, i) => [l, i] as const).filter(([l]) => l.toLowerCase().includes(want));
  if (contains.length === 1) return contains[0]![1];
  const close =
    contains.length > 1
      ? contains.slice(0, 5).map(([l, i]) => `${l} (${i})`)
      : closestNames(r, labels).map((l) => `${l} (${labels.indexOf(l)})`);
  throw new GradsightError(
    'bad-argument',
    `no class is labelled ${JSON.stringify(r)}${contains.length > 1 ? ' unambiguously' : ''}`,
    {
      hint: `closest labels: ${close.join('; ')}`,
      details: { label: r },
    },
  );
}

function oneHot(n: number, c: number): Float32Array {
  const s = new Float32Array(n);
  s[c] = 1;
  return s;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) s += a[i]! * b[i]!;
  return s;
}
