// PASCAL VOC: Annotations/<id>.xml (object boxes, 1-based inclusive pixel coordinates, converted here to
// 0-based inclusive), SegmentationClass/<id>.png (class indices or VOC palette colours, 255 = void),
// JPEGImages/<id>.jpg, and ImageSets/{Segmentation,Main}/<split>.txt listing the ids of a split.
// Annotations are read (small XML) when the dataset opens; masks only when a sample's mask() is called.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  annotationInvalid,
  byCodeUnits,
  checkBox,
  checkImageExists,
  datasetInvalid,
  uniqueLabels,
} from './common.ts';
import { readImageSize } from './image-size.ts';
import { decodeMaskFile } from './mask.ts';
import type { EvalDataset, EvalSample, LabelledBox, OpenDatasetOptions } from './types.ts';
import { child, childrenNamed, parseXml, XmlSyntaxError } from './xml.ts';

/** The 20 VOC classes in the order of their mask indices 1..20. */
// biome-ignore format: one table
export const VOC_CLASSES = [
  'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
] as const;

const MASK_CLASSES = ['background', ...VOC_CLASSES];

/** Whether `dir` looks like a VOC year folder (VOC2012/...). */
export const isVocRoot = (dir: string): boolean =>
  existsSync(join(dir, 'JPEGImages')) &&
  (existsSync(join(dir, 'Annotations')) || existsSync(join(dir, 'SegmentationClass')));

/** `dir` itself, or the one VOC year folder under it (VOCdevkit/VOC2012, VOC2012). */
export function findVocRoot(dir: string): string | undefined {
  if (isVocRoot(dir)) return dir;
  for (const sub of [dir, join(dir, 'VOCdevkit')]) {
    if (!existsSync(sub)) continue;
    const years = readdirSync(sub).filter((n) => /^VOC\d{4}$/.test(n) && isVocRoot(join(sub, n)));
    if (years.length === 1) return join(sub, years[0]!);
    if (years.length > 1) {
      throw datasetInvalid(
        `${sub} holds several VOC years (${years.join(', ')})`,
        `Open one of them, e.g. ${join(sub, years.sort(byCodeUnits).at(-1)!)}.`,
      );
    }
  }
  return undefined;
}

interface VocEntry {
  readonly id: string;
  readonly image: string;
  readonly labels: readonly string[];
  readonly boxes: readonly LabelledBox[];
  readonly maskPath: string | undefined;
}

export function openVoc(root: string, options: OpenDatasetOptions = {}): EvalDataset {
  const { ids, listedBy } = vocIds(root, options.split);
  const entries = ids.map((id) => vocEntry(root, id, listedBy));
  const seen = new Set(entries.flatMap((e) => e.labels));
  const standard: readonly string[] = VOC_CLASSES;
  const classes = [
    ...VOC_CLASSES.filter((c) => seen.has(c)),
    ...[...seen].filter((c) => !standard.includes(c)),
  ];
  return {
    name: basename(root) + (options.split ? `-${options.split}` : ''),
    format: 'voc',
    root,
    classes,
    size: entries.length,
    *samples(): Iterable<EvalSample> {
      for (const e of entries) {
        const maskPath = e.maskPath;
        yield {
          id: e.id,
          image: e.image,
          labels: e.labels,
          boxes: e.boxes,
          ...(maskPath && { mask: () => decodeMaskFile({ path: maskPath, classes: MASK_CLASSES }) }),
        };
      }
    },
  };
}

function vocIds(root: string, split: string | undefined): { ids: string[]; listedBy: string } {
  if (split !== undefined) {
    const lists = ['Segmentation', 'Main'].map((d) => join(root, 'ImageSets', d, `${split}.txt`));
    const list = lists.find((p) => existsSync(p));
    if (!list) {
      throw datasetInvalid(
        `${root} has no split "${split}" (looked for ${lists.join(' and ')})`,
        'Name a split that has a list file (train, val, trainval), or omit the split to use every annotated image.',
      );
    }
    // Main/<class>_<split>.txt lines are "id flag"; split lists have one id per line.
    const ids = readFileSync(list, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim().split(/\s+/)[0]!)
      .filter((id) => id !== '');
    return { ids, listedBy: list };
  }
  const stems = (dir: string, ext: string) =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir))
          .filter((n) => n.endsWith(ext))
          .map((n) => n.slice(0, -ext.length))
      : [];
  const ids = [...new Set([...stems('Annotations', '.xml'), ...stems('SegmentationClass', '.png')])].sort(
    byCodeUnits,
  );
  if (ids.length === 0) {
    throw datasetInvalid(
      `${root} has no Annotations/*.xml and no SegmentationClass/*.png`,
      'A VOC folder needs annotations or masks for its images.',
    );
  }
  return { ids, listedBy: `${root} (Annotations, SegmentationClass)` };
}

function vocEntry(root: string, id: string, listedBy: string): VocEntry {
  const xmlPath = join(root, 'Annotations', `${id}.xml`);
  const maskFile = join(root, 'SegmentationClass', `${id}.png`);
  const maskPath = existsSync(maskFile) ? maskFile : undefined;
  const hasXml = existsSync(xmlPath);
  if (!hasXml && !maskPath) {
    throw annotationInvalid(
      listedBy,
      `lists the id ${id}, which has neither Annotations/${id}.xml nor SegmentationClass/${id}.png`,
    );
  }
  const jpeg = join(root, 'JPEGImages', `${id}.jpg`);
  const image = existsSync(jpeg)
    ? jpeg
    : (['.jpeg', '.png'].map((e) => join(root, 'JPEGImages', id + e)).find(existsSync) ?? jpeg);
  checkImageExists(image, hasXml ? xmlPath : listedBy);
  const boxes = hasXml ? readVocXml(xmlPath, image) : [];
  return { id, image, labels: uniqueLabels([], boxes), boxes, maskPath };
}

/** Object boxes of one VOC XML, converted from 1-based to 0-based inclusive pixel coordinates. */
export function readVocXml(xmlPath: string, image: string): LabelledBox[] {
  let root: ReturnType<typeof parseXml>;
  try {
    root = parseXml(readFileSync(xmlPath, 'utf8'));
  } catch (e) {
    if (e instanceof XmlSyntaxError)
      throw annotationInvalid(
        xmlPath,
        e.message,
        'Repair the XML (a VOC annotation is <annotation> with <object> children).',
        e,
      );
    throw e;
  }
  if (root.name !== 'annotation')
    throw annotationInvalid(xmlPath, `the root element is <${root.name}>, not <annotation>`);
  const num = (el: ReturnType<typeof child>, what: string, where: string) => {
    const v = Number(el?.text);
    if (el === undefined || el.text === '' || !Number.isFinite(v)) {
      throw annotationInvalid(
        xmlPath,
        `${where}: <${what}> is ${el ? `"${el.text}"` : 'missing'}, not a number`,
      );
    }
    return v;
  };
  const sizeEl = child(root, 'size');
  let size = sizeEl && {
    width: num(child(sizeEl, 'width'), 'width', '<size>'),
    height: num(child(sizeEl, 'height'), 'height', '<size>'),
  };
  // Some VOC-style tools write a 0×0 size: read the image header instead.
  if (!size || size.width <= 0 || size.height <= 0) size = readImageSize(image);
  return childrenNamed(root, 'object').map((obj, i) => {
    const where = `object ${i + 1}`;
    const label = child(obj, 'name')?.text ?? '';
    if (label === '') throw annotationInvalid(xmlPath, `${where} has no <name>`);
    const bb = child(obj, 'bndbox');
    if (!bb) throw annotationInvalid(xmlPath, `${where} (${label}) has no <bndbox>`);
    const c = (k: string) => Math.round(num(child(bb, k), k, `${where} (${label})`)) - 1;
    const box = checkBox(
      { x0: c('xmin'), y0: c('ymin'), x1: c('xmax'), y1: c('ymax') },
      `${xmlPath} ${where} (${label}, VOC 1-based coordinates)`,
      size,
    );
    return child(obj, 'difficult')?.text === '1' ? { label, box, difficult: true } : { label, box };
  });
}
