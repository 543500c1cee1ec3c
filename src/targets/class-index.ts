// A class reference (an index, or a label or part of one) → the output index, with typed errors that
// list the closest labels.

import { closestNames, GradsightError } from '../errors.ts';
import type { ClassRef } from './types.ts';

export function classIndex(r: ClassRef, classes: number, labels: readonly string[] | undefined): number {
  if (typeof r === 'number') {
    if (!Number.isInteger(r) || r < 0 || r >= classes) {
      throw new GradsightError(
        'bad-argument',
        `class ${r} is out of range: the model has ${classes} outputs (0 to ${classes - 1})`,
        { hint: `give a class from 0 to ${classes - 1}, or a label` },
      );
    }
    return r;
  }
  if (!labels) {
    throw new GradsightError(
      'bad-labels',
      `cannot find the class ${JSON.stringify(r)}: the model has no labels`,
      { hint: 'give a class index, or a labels file with --labels' },
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
    { hint: `closest labels: ${close.join('; ')}`, details: { label: r } },
  );
}
