// COCO instances JSON (`images`, `annotations`, `categories`). Boxes [x, y, w, h] are continuous
// coordinates; the inclusive pixel box holds the pixels whose centres lie in [x, x + w] × [y, y + h]
// (a box thinner than a pixel keeps the pixel holding its centre). Crowd annotations (iscrowd 1) give
// no box and are void in the class mask (COCO's own evaluation ignores them); their class still
// counts as present. Masks paint the annotations in file order (a later object overwrites an earlier
// one), then the crowd regions where nothing else is. Polygon and RLE rasterising: coco-raster.ts.

import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { decodeRleString, paintPolygon, paintRle } from './coco-raster.ts';
import { annotationInvalid, checkImageExists, datasetInvalid, uniqueLabels } from './common.ts';
import { VOID } from './mask.ts';
import type { ClassMask, EvalDataset, EvalSample, LabelledBox, OpenDatasetOptions } from './types.ts';

interface CocoImage {
  id: unknown;
  file_name: unknown;
  width: unknown;
  height: unknown;
}
interface CocoAnnotation {
  id?: unknown;
  image_id: unknown;
  category_id: unknown;
  bbox?: unknown;
  segmentation?: unknown;
  iscrowd?: unknown;
}
export interface CocoJson {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: { id: unknown; name: unknown }[];
}

const isCrowd = (a: CocoAnnotation) => a.iscrowd === 1 || a.iscrowd === true;

export const isCocoJson = (json: unknown): json is CocoJson =>
  typeof json === 'object' &&
  json !== null &&
  ['images', 'annotations', 'categories'].every((k) => Array.isArray((json as Record<string, unknown>)[k]));

export function openCoco(path: string, json: CocoJson, options: OpenDatasetOptions = {}): EvalDataset {
  const names = new Map<unknown, string>();
  for (const c of json.categories) {
    if (typeof c.name !== 'string') throw annotationInvalid(path, `category ${String(c.id)} has no name`);
    names.set(c.id, c.name);
  }
  // Mask index = 1 + position among the categories sorted by id.
  const ordered = [...json.categories].sort((a, b) => Number(a.id) - Number(b.id));
  const maskClasses = ['background', ...ordered.map((c) => c.name as string)];
  const indexOf = new Map(ordered.map((c, i) => [c.id, i + 1]));
  const byImage = new Map<unknown, CocoAnnotation[]>();
  for (const a of json.annotations) {
    if (!names.has(a.category_id))
      throw annotationInvalid(
        `${path} annotation ${String(a.id)}`,
        `has the unknown category_id ${String(a.category_id)}`,
      );
    const list = byImage.get(a.image_id);
    if (list) list.push(a);
    else byImage.set(a.image_id, [a]);
  }
  const imageDir = findImageDir(path, json.images, options.imageDir);
  const hasSegmentation = json.annotations.some((a) => a.segmentation !== undefined);
  const entries = json.images.map((img) => {
    const where = `${path} image ${String(img.id)}`;
    const [width, height] = [Number(img.width), Number(img.height)];
    if (typeof img.file_name !== 'string' || !(width > 0 && height > 0))
      throw annotationInvalid(where, 'needs file_name, width and height');
    const image = resolve(imageDir, img.file_name);
    checkImageExists(image, where);
    const anns = byImage.get(img.id) ?? [];
    const boxes: LabelledBox[] = [];
    for (const a of anns) {
      if (isCrowd(a) || a.bbox === undefined) continue;
      boxes.push({
        label: names.get(a.category_id)!,
        box: cocoBox(a.bbox, width, height, `${path} annotation ${String(a.id)}`),
      });
    }
    const labels = uniqueLabels(
      anns.map((a) => names.get(a.category_id)!),
      boxes,
    );
    return { id: String(img.id), image, labels, boxes, anns, width, height };
  });
  const present = new Set(entries.flatMap((e) => e.labels));
  return {
    name: basename(path, '.json'),
    format: 'coco',
    root: imageDir,
    classes: maskClasses.slice(1).filter((c) => present.has(c)),
    size: entries.length,
    *samples(): Iterable<EvalSample> {
      for (const { anns, width, height, ...rest } of entries) {
        if (!hasSegmentation) {
          yield rest;
          continue;
        }
        const mask = async (): Promise<ClassMask> => {
          if (maskClasses.length > VOID)
            throw datasetInvalid(
              `${path} has ${maskClasses.length - 1} categories; a class mask holds at most ${VOID - 1}`,
              'Split the categories over several JSON files.',
            );
          const data = new Uint8Array(width * height);
          for (const crowd of [false, true]) {
            for (const a of anns) {
              if (isCrowd(a) !== crowd || a.segmentation === undefined) continue;
              const value = crowd ? VOID : indexOf.get(a.category_id)!;
              paintSegmentation(
                data,
                width,
                height,
                a.segmentation,
                value,
                crowd ? (old) => old === 0 : undefined,
                `${path} annotation ${String(a.id)}`,
              );
            }
          }
          return { width, height, data, classes: maskClasses, void: VOID };
        };
        yield { ...rest, mask };
      }
    },
  };
}

/** [x, y, w, h] → the inclusive pixels whose centres lie in the box, within 1 px of the image's edge. */
export function cocoBox(bbox: unknown, width: number, height: number, where: string) {
  if (
    !Array.isArray(bbox) ||
    bbox.length !== 4 ||
    !bbox.every((v) => typeof v === 'number' && Number.isFinite(v))
  ) {
    throw annotationInvalid(where, `bbox ${JSON.stringify(bbox)} is not [x, y, w, h]`);
  }
  const [x, y, w, h] = bbox as [number, number, number, number];
  if (w < 0 || h < 0)
    throw annotationInvalid(where, `bbox [${bbox.join(', ')}] has a negative width or height (x1 < x0)`);
  if (x < -1 || y < -1 || x + w > width + 1 || y + h > height + 1) {
    throw annotationInvalid(
      where,
      `bbox [${bbox.join(', ')}] lies outside the ${width}×${height} image`,
      'COCO boxes are [x, y, width, height] inside the image.',
    );
  }
  const span = (a: number, len: number, size: number): [number, number] => {
    let lo = Math.ceil(a - 0.5);
    let hi = Math.floor(a + len - 0.5);
    if (hi < lo) lo = hi = Math.floor(a + len / 2);
    return [Math.min(Math.max(lo, 0), size - 1), Math.min(Math.max(hi, 0), size - 1)];
  };
  const [x0, x1] = span(x, w, width);
  const [y0, y1] = span(y, h, height);
  return { x0, y0, x1, y1 };
}

function paintSegmentation(
  data: Uint8Array,
  width: number,
  height: number,
  seg: unknown,
  value: number,
  paint: ((old: number) => boolean) | undefined,
  where: string,
): void {
  try {
    if (Array.isArray(seg)) {
      for (const poly of seg) {
        if (
          !Array.isArray(poly) ||
          poly.length < 6 ||
          poly.length % 2 !== 0 ||
          !poly.every((v) => typeof v === 'number' && Number.isFinite(v))
        ) {
          throw new Error(
            `a polygon is ${JSON.stringify(poly).slice(0, 60)}, not [x1, y1, x2, y2, x3, y3, …] (≥ 3 points)`,
          );
        }
        paintPolygon(data, width, height, poly, value, paint);
      }
      return;
    }
    const rle = seg as { counts?: unknown; size?: unknown };
    if (typeof rle !== 'object' || rle === null || !Array.isArray(rle.size) || rle.size.length !== 2) {
      throw new Error(
        `the segmentation is ${JSON.stringify(seg).slice(0, 60)}: neither polygons nor an RLE { counts, size }`,
      );
    }
    if (rle.size[0] !== height || rle.size[1] !== width) {
      throw new Error(
        `the RLE size [${rle.size.join(', ')}] is not the image's [height, width] = [${height}, ${width}]`,
      );
    }
    let counts: readonly number[];
    if (typeof rle.counts === 'string') counts = decodeRleString(rle.counts);
    else if (Array.isArray(rle.counts)) counts = rle.counts as number[];
    else
      throw new Error(
        `the RLE counts are ${JSON.stringify(rle.counts)}, neither a list nor a compressed string`,
      );
    paintRle(data, width, height, counts, value, paint);
  } catch (e) {
    throw annotationInvalid(
      where,
      `bad segmentation: ${(e as Error).message}`,
      'COCO segmentations are polygons [[x, y, …]] or RLE { counts, size: [h, w] }.',
      e,
    );
  }
}

/** The folder `file_name`s are relative to: the option, or the first guess where the first image exists. */
function findImageDir(path: string, images: CocoImage[], given: string | undefined): string {
  if (given !== undefined) return resolve(given);
  const dir = dirname(path);
  const first = images.find((i) => typeof i.file_name === 'string')?.file_name as string | undefined;
  if (first === undefined) return dir;
  // annotations/instances_val2017.json → ../val2017, ../images/val2017, ../images, images/.
  const split = /instances_(.+)\.json$/.exec(basename(path))?.[1];
  const guesses = [
    dir,
    join(dir, 'images'),
    join(dir, '..', 'images'),
    ...(split ? [join(dir, '..', split), join(dir, '..', 'images', split), join(dir, split)] : []),
  ];
  const found = guesses.find((g) => existsSync(join(g, first)));
  if (found) return resolve(found);
  throw datasetInvalid(
    `${path}: cannot find its images (the first, ${first}, is in none of ${guesses.map((g) => resolve(g)).join(', ')})`,
    'Put the images beside the JSON, in images/ or in ../<split> (instances_<split>.json), or name their folder with the imageDir option of openDataset.',
  );
}
