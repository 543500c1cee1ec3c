// A manifest listing the samples, one per CSV row or JSONL line; paths are relative to the manifest.
//   image         the image file (required)
//   labels        classes present: `;`-separated in CSV, an array in JSONL
//   boxes         JSON list of { label, x0, y0, x1, y1 }, inclusive pixel coordinates (their labels
//                 count as present too)
//   mask          a class-index PNG; its class list (index 0 'background') in `mask_classes`
//                 (`;`-separated in CSV, an array in JSONL), or in JSONL as mask: { path, classes }
//   id            optional; defaults to the image path as written
// Rows are parsed when the manifest opens (no pixels); a box is checked against its image's size (from
// the image header) when its sample is reached.

import { readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import {
  annotationInvalid,
  checkBox,
  checkImageExists,
  collectClasses,
  datasetInvalid,
  uniqueLabels,
} from './common.ts';
import { readImageSize } from './image-size.ts';
import { decodeMaskFile } from './mask.ts';
import type { EvalDataset, EvalSample, LabelledBox } from './types.ts';

interface Row {
  readonly where: string;
  readonly id: string;
  readonly image: string;
  readonly labels: readonly string[];
  readonly boxes: readonly LabelledBox[];
  readonly mask?: { readonly path: string; readonly classes: readonly string[] };
}

type Fields = Readonly<Record<string, unknown>>;

export function openManifest(path: string): EvalDataset {
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  const jsonl = path.toLowerCase().endsWith('.jsonl');
  const root = dirname(path);
  const rows = (jsonl ? jsonlRecords(text, path) : csvRecords(text, path)).map(({ where, fields }) =>
    toRow(fields, where, root, jsonl),
  );
  if (rows.length === 0)
    throw datasetInvalid(
      `${path} lists no samples`,
      'Add one row per image (a CSV needs a header row naming an "image" column).',
    );
  const ids = new Map<string, string>();
  for (const r of rows) {
    const first = ids.get(r.id);
    if (first)
      throw datasetInvalid(
        `${r.where} repeats the id "${r.id}" of ${first}`,
        'Each sample needs its own id (or image).',
      );
    ids.set(r.id, r.where);
  }
  return {
    name: basename(path, extname(path)),
    format: jsonl ? 'manifest-jsonl' : 'manifest-csv',
    root,
    classes: collectClasses(rows.map((r) => r.labels)),
    size: rows.length,
    *samples(): Iterable<EvalSample> {
      for (const r of rows) {
        let size: { width: number; height: number } | undefined;
        if (r.boxes.length > 0) {
          size = readImageSize(r.image);
          for (const b of r.boxes) checkBox(b.box, `${r.where} (box of ${b.label})`, size);
        }
        const m = r.mask;
        yield {
          id: r.id,
          image: r.image,
          labels: r.labels,
          boxes: r.boxes,
          ...(m && {
            mask: () => decodeMaskFile({ path: m.path, classes: m.classes, ...(size && { size }) }),
          }),
        };
      }
    },
  };
}

function toRow(f: Fields, where: string, root: string, jsonl: boolean): Row {
  const imageName = f.image;
  if (typeof imageName !== 'string' || imageName === '')
    throw annotationInvalid(
      where,
      'has no image path',
      'Every row names its image (the "image" column or field).',
    );
  const image = resolve(root, imageName);
  checkImageExists(image, where);
  const list = (v: unknown, what: string): string[] => {
    if (v === undefined || v === '') return [];
    if (!jsonl && typeof v === 'string')
      return v
        .split(';')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v.map((s) => s.trim());
    throw annotationInvalid(
      where,
      `"${what}" is ${JSON.stringify(v)}, not ${jsonl ? 'an array of strings' : 'a ;-separated list'}`,
    );
  };
  const boxes = parseBoxes(f.boxes, where);
  let mask: Row['mask'];
  const m = f.mask;
  if (m !== undefined && m !== '') {
    const spec =
      typeof m === 'object' && m !== null
        ? (m as { path?: unknown; classes?: unknown })
        : { path: m, classes: f.mask_classes };
    if (typeof spec.path !== 'string')
      throw annotationInvalid(where, `"mask" is ${JSON.stringify(m)}, not a path (or { path, classes })`);
    const classes = list(spec.classes ?? f.mask_classes, 'mask_classes');
    if (classes[0] !== 'background') {
      throw annotationInvalid(
        where,
        `the mask's class list ${classes.length ? `starts with "${classes[0]}"` : 'is missing'}; it must list index 0 = "background", 1, 2, … `,
        'Give "mask_classes": background;cat;dog (CSV) or ["background", "cat", "dog"] (JSONL).',
      );
    }
    const path = resolve(root, spec.path);
    checkImageExists(path, `${where} (mask)`);
    mask = { path, classes };
  }
  const id = f.id === undefined || f.id === '' ? imageName : String(f.id);
  return {
    where,
    id,
    image,
    labels: uniqueLabels(list(f.labels, 'labels'), boxes),
    boxes,
    ...(mask && { mask }),
  };
}

function parseBoxes(v: unknown, where: string): LabelledBox[] {
  if (v === undefined || v === '') return [];
  let list = v;
  if (typeof v === 'string') {
    try {
      list = JSON.parse(v);
    } catch {
      throw annotationInvalid(
        where,
        `"boxes" is not JSON: ${v.slice(0, 60)}`,
        'Write boxes as a JSON list: [{"label": "cat", "x0": 1, "y0": 2, "x1": 30, "y1": 40}].',
      );
    }
  }
  if (!Array.isArray(list)) throw annotationInvalid(where, '"boxes" is not a list');
  return list.map((b: Record<string, unknown>, i: number) => {
    const ok =
      typeof b === 'object' &&
      b !== null &&
      typeof b.label === 'string' &&
      ['x0', 'y0', 'x1', 'y1'].every((k) => typeof b[k] === 'number');
    if (!ok)
      throw annotationInvalid(where, `box ${i + 1} is ${JSON.stringify(b)}, not { label, x0, y0, x1, y1 }`);
    const box = { x0: b.x0 as number, y0: b.y0 as number, x1: b.x1 as number, y1: b.y1 as number };
    return { label: b.label as string, box: checkBox(box, `${where} (box of ${b.label as string})`) };
  });
}

function jsonlRecords(text: string, path: string): { where: string; fields: Fields }[] {
  const out: { where: string; fields: Fields }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${path} line ${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw annotationInvalid(where, `is not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw annotationInvalid(where, 'is not a JSON object');
    out.push({ where, fields: v as Fields });
  });
  return out;
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines; the first record is the header. */
function csvRecords(text: string, path: string): { where: string; fields: Fields }[] {
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  const endRecord = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0]!.trim() === '')) records.push({ line: start, cells });
    cells = [];
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      start = ++line;
    } else cell += c;
  }
  if (quoted) throw annotationInvalid(`${path} line ${start}`, 'has a quoted field that is never closed');
  endRecord();
  const [header, ...rows] = records;
  const names = header?.cells.map((h) => h.trim().toLowerCase()) ?? [];
  if (!names.includes('image')) {
    throw datasetInvalid(
      `${path} has no "image" column (header: ${names.join(', ') || 'empty'})`,
      'The first row names the columns: image,labels,boxes,mask,mask_classes (only image is required).',
    );
  }
  return rows.map(({ line: n, cells: row }) => {
    const where = `${path} line ${n}`;
    if (row.length !== names.length)
      throw annotationInvalid(
        where,
        `has ${row.length} fields, the header ${names.length} (quote fields holding commas)`,
      );
    return { where, fields: Object.fromEntries(names.map((k, j) => [k, row[j]!.trim()])) };
  });
}
