// Class labels: one per line, line i names model output index i. `labelOffset` in preprocess.json does
// not shift this mapping; it only records that index 0 is a background class (the MobileNet label files
// start with a "background" line, so output 286 is line 286, "Egyptian cat").

import { GradsightError } from '../errors.ts';

export type Labels = readonly string[];

export function parseLabels(text: string, source = 'labels'): Labels {
  if (text.includes('\0')) {
    throw new GradsightError('bad-labels', `${source} is not a text file (it contains NUL bytes)`, {
      hint: 'A labels file is plain UTF-8 text with one class name per line.',
      details: { source },
    });
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  // A final newline ends the last line; it does not start an extra (empty) label.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) {
    throw new GradsightError('bad-labels', `${source} is empty`, {
      hint: 'Write one class name per line, line i for output index i, or omit the labels file.',
      details: { source },
    });
  }
  return lines.map((l) => l.trim());
}

/** The label of output index `i`, or `class <i>` when there are no labels or `i` is out of range. */
export function labelFor(labels: Labels | undefined, i: number): string {
  const l = labels?.[i];
  return l === undefined || l === '' ? `class ${i}` : l;
}
