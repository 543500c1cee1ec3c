// The shared voc-samples format (../shared/data/voc-samples): index.json with `classes` (index 0
// 'background'), `void`, and `items` of { image, mask, size: [width, height], objects: [{ class, name,
// pixels, box: [x0, y0, x1, y1] }] }. Its boxes are class boxes (around all pixels of the class) with
// exclusive ends (x1 = last column + 1); they are converted to inclusive pixel coordinates here.

import { basename, dirname, extname, resolve } from 'node:path';
import { annotationInvalid, checkBox, checkImageExists, collectClasses, uniqueLabels } from './common.ts';
import { decodeMaskFile } from './mask.ts';
import type { EvalDataset, EvalSample, LabelledBox } from './types.ts';

interface IndexItem {
  image?: unknown;
  mask?: unknown;
  size?: unknown;
  objects?: unknown;
}

/** Whether parsed JSON looks like a voc-samples index (a `classes` list and `items` with images). */
export const isVocSamplesIndex = (json: unknown): boolean =>
  typeof json === 'object' &&
  json !== null &&
  Array.isArray((json as { classes?: unknown }).classes) &&
  Array.isArray((json as { items?: unknown }).items);

export function openVocSamples(
  indexPath: string,
  json: { classes: unknown[]; items: IndexItem[]; void?: unknown },
): EvalDataset {
  const root = dirname(indexPath);
  const maskClasses = json.classes.map(String);
  if (maskClasses[0] !== 'background') {
    throw annotationInvalid(
      indexPath,
      `classes[0] is "${maskClasses[0]}", not "background"`,
      'index.json lists mask classes with index 0 = background.',
    );
  }
  if (json.void !== undefined && json.void !== 255)
    throw annotationInvalid(indexPath, `void is ${String(json.void)}; gradsight masks use 255`);
  const entries = json.items.map((item, i) => {
    const where = `${indexPath} items[${i}]`;
    if (typeof item.image !== 'string') throw annotationInvalid(where, 'has no "image" path');
    const image = resolve(root, item.image);
    checkImageExists(image, where);
    const size =
      Array.isArray(item.size) && item.size.length === 2
        ? { width: Number(item.size[0]), height: Number(item.size[1]) }
        : undefined;
    const objects = Array.isArray(item.objects) ? item.objects : [];
    const boxes: LabelledBox[] = objects.map((o: { name?: unknown; box?: unknown }, j: number) => {
      const at = `${where}.objects[${j}]`;
      if (typeof o.name !== 'string' || !Array.isArray(o.box) || o.box.length !== 4)
        throw annotationInvalid(at, 'needs "name" and "box": [x0, y0, x1, y1]');
      const [x0, y0, x1, y1] = o.box.map(Number) as [number, number, number, number];
      return { label: o.name, box: checkBox({ x0, y0, x1: x1 - 1, y1: y1 - 1 }, at, size) };
    });
    const mask = typeof item.mask === 'string' ? resolve(root, item.mask) : undefined;
    if (mask) checkImageExists(mask, `${where} (mask)`);
    return {
      id: basename(item.image, extname(item.image)),
      image,
      labels: uniqueLabels([], boxes),
      boxes,
      mask,
      size,
    };
  });
  return {
    name: basename(root),
    format: 'voc-samples',
    root,
    classes: collectClasses(entries.map((e) => e.labels)),
    size: entries.length,
    *samples(): Iterable<EvalSample> {
      for (const { mask, size, ...rest } of entries) {
        yield mask
          ? {
              ...rest,
              mask: () => decodeMaskFile({ path: mask, classes: maskClasses, ...(size && { size }) }),
            }
          : rest;
      }
    },
  };
}
