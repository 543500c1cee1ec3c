// Dataset class names -> model output indices. A class equal to a model label, or to one of its
// comma-separated synonyms ("tabby, tabby cat"), maps to it directly (case-insensitive; spaces and
// underscores alike). Other classes go through a class map JSON file
//   { "datasetClass": ["model label" | output index, ...], ... }
// whose entries override direct matches; an empty list maps a class to nothing on purpose (it is
// then skipped by class-specific metrics). A label in a map is its full text or a synonym that only
// one label has; labels are matched by name, so a model whose output 0 is "background" needs no
// index shift. Shipped maps live in data/class-maps/ (voc-imagenet: the 20 VOC classes).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { closestNames, GradsightError } from '../../errors.ts';
import { VOC_CLASSES } from './voc.ts';

export interface ClassMap {
  /** Where the map came from (a file path, or the name of a shipped map), for messages. */
  readonly source: string;
  /** dataset class -> model labels (a full label or one of its synonyms) or output indices. */
  readonly entries: Readonly<Record<string, readonly (string | number)[]>>;
}

const SHIPPED = fileURLToPath(new URL('../../../data/class-maps/', import.meta.url));
const MAX_MAP_BYTES = 16 * 2 ** 20;

const VOC_NAMES: ReadonlySet<string> = new Set(VOC_CLASSES);

const norm = (s: string) =>
  s
    .toLowerCase()
    .replace(/[\s_]+/g, ' ')
    .trim();

/** Reads a class map JSON file, or a shipped map by name ('voc-imagenet'). */
export function loadClassMap(pathOrName: string): ClassMap {
  const shipped = `${SHIPPED}${pathOrName}.json`;
  const path = /^[a-z0-9-]+$/.test(pathOrName) && existsSync(shipped) ? shipped : pathOrName;
  const bad = (why: string, cause?: unknown) =>
    new GradsightError('dataset-invalid', `the class map ${pathOrName} ${why}`, {
      hint: 'A class map is a JSON object { "dataset class": ["model label" or output index, …] }; shipped maps: voc-imagenet.',
      details: { source: path },
      cause,
    });
  if (!existsSync(path) || !statSync(path).isFile()) throw bad('does not exist');
  if (statSync(path).size > MAX_MAP_BYTES) throw bad(`is larger than ${MAX_MAP_BYTES >> 20} MiB`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw bad(`is not valid JSON (${e instanceof Error ? e.message : String(e)})`, e);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('is not a JSON object');
  for (const [k, v] of Object.entries(json)) {
    const ok = Array.isArray(v) && v.every((x) => typeof x === 'string' || Number.isSafeInteger(x));
    if (!ok) throw bad(`maps "${k}" to ${JSON.stringify(v).slice(0, 60)}, not a list of labels or indices`);
  }
  return { source: path === shipped ? pathOrName : path, entries: json as ClassMap['entries'] };
}

/**
 * dataset class -> model output indices (ascending), for every class of `classes`. Throws
 * 'label-unknown' for a class neither a label nor the map gives, and for a map entry naming a label
 * the model lacks (or one that several labels share).
 */
export function mapClasses(
  classes: readonly string[],
  labels: readonly string[],
  classMap?: string | ClassMap,
): Map<string, number[]> {
  const map = typeof classMap === 'string' ? loadClassMap(classMap) : classMap;
  const full = labels.map(norm);
  const synonyms = labels.map((l) =>
    l
      .split(',')
      .map(norm)
      .filter((s) => s !== ''),
  );
  const entries = new Map(
    Object.entries(map?.entries ?? {}).map(([k, v]) => [norm(k), { key: k, values: v }]),
  );
  const out = new Map<string, number[]>();
  const unknown: string[] = [];
  for (const c of classes) {
    const entry = entries.get(norm(c));
    if (entry) {
      out.set(
        c,
        [
          ...new Set(
            entry.values.map((v) => resolveEntry(v, entry.key, labels, full, synonyms, map!.source)),
          ),
        ].sort((a, b) => a - b),
      );
      continue;
    }
    const direct = labels.flatMap((_, i) =>
      full[i] === norm(c) || synonyms[i]!.includes(norm(c)) ? [i] : [],
    );
    if (direct.length > 0) out.set(c, direct);
    else unknown.push(c);
  }
  if (unknown.length > 0) {
    const [first] = unknown;
    const more =
      unknown.length > 1
        ? ` (and ${unknown.length - 1} more: ${unknown.slice(1, 6).join(', ')}${unknown.length > 6 ? ', …' : ''})`
        : '';
    throw new GradsightError(
      'label-unknown',
      `the dataset class "${first}" is not a label of the model${map ? ` and the class map ${map.source} does not map it` : ''}${more}; closest model labels: ${closestNames(
        first!,
        labels,
      )
        .map((l) => `"${l}"`)
        .join(', ')}`,
      {
        hint: `Map it in a class map JSON file: { "${first}": ["<model label>", …] } (or [] to skip the class)${!map && unknown.some((c) => VOC_NAMES.has(norm(c))) ? '; for VOC classes on an ImageNet model use the shipped map voc-imagenet' : ''}.`,
        details: { unknown, classMap: map?.source },
      },
    );
  }
  return out;
}

function resolveEntry(
  v: string | number,
  key: string,
  labels: readonly string[],
  full: readonly string[],
  synonyms: readonly string[][],
  source: string,
): number {
  const fail = (why: string, hint: string) =>
    new GradsightError(
      'label-unknown',
      `the class map ${source} maps "${key}" to ${JSON.stringify(v)}, ${why}`,
      { hint, details: { classMap: source, datasetClass: key, entry: v } },
    );
  if (typeof v === 'number') {
    if (v >= 0 && v < labels.length) return v;
    throw fail(
      `but the model has outputs 0..${labels.length - 1}`,
      'Use an output index of the model, or its label.',
    );
  }
  const byFull = full.flatMap((f, i) => (f === norm(v) ? [i] : []));
  const found = byFull.length > 0 ? byFull : synonyms.flatMap((s, i) => (s.includes(norm(v)) ? [i] : []));
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    throw fail(
      `which is not a label of the model; closest: ${closestNames(v, labels)
        .map((l) => `"${l}"`)
        .join(', ')}`,
      'Use a model label (its full text or one of its synonyms) or an output index.',
    );
  }
  throw fail(
    `which several labels match (${found.map((i) => `${i}: "${labels[i]}"`).join(', ')})`,
    'Give the output index instead of the ambiguous name.',
  );
}
