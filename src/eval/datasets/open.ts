// Opens a dataset, autodetecting its format from the path:
//   file.csv / file.jsonl               a manifest
//   file.json                           COCO instances (images, annotations, categories) or a
//                                       voc-samples index (classes, items)
//   folder with index.json              voc-samples
//   folder with JPEGImages + Annotations or SegmentationClass (or VOCdevkit/VOC20xx inside)   PASCAL VOC
//   folder with manifest.csv / manifest.jsonl                                                a manifest
//   folder of class folders (or of split folders of class folders)                           a folder per class

import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GradsightError } from '../../errors.ts';
import { isCocoJson, openCoco } from './coco.ts';
import { readJsonFile } from './common.ts';
import { isClassFolderRoot, openFolder } from './folder.ts';
import { openManifest } from './manifest.ts';
import type { DatasetFormat, EvalDataset, OpenDatasetOptions } from './types.ts';
import { findVocRoot, openVoc } from './voc.ts';
import { isVocSamplesIndex, openVocSamples } from './voc-samples.ts';

const LAYOUTS =
  'a folder per class (root/<class>/*.png), a manifest (.csv or .jsonl with an image column), PASCAL VOC (JPEGImages, Annotations, SegmentationClass), COCO instances JSON, or a voc-samples index.json';

export async function openDataset(path: string, options: OpenDatasetOptions = {}): Promise<EvalDataset> {
  const full = resolve(path);
  if (!existsSync(full)) {
    throw new GradsightError('file-not-found', `the dataset ${path} does not exist`, {
      hint: `Give a dataset folder or file: ${LAYOUTS}.`,
      details: { path: full },
    });
  }
  const format = options.format ?? detect(full);
  if (format === undefined) {
    throw new GradsightError('dataset-invalid', `cannot tell the format of the dataset ${path}`, {
      hint: `gradsight reads ${LAYOUTS}. Pass the format explicitly (library: the format option) if it is one of these.`,
      details: { path: full },
    });
  }
  return openAs(full, format, options);
}

function openAs(path: string, format: DatasetFormat, options: OpenDatasetOptions): EvalDataset {
  const dir = statSync(path).isDirectory();
  const wrong = (what: string) =>
    new GradsightError('dataset-invalid', `${path} is not ${what}`, {
      hint: `Check the path or the format option (${format}); gradsight reads ${LAYOUTS}.`,
      details: { path, format },
    });
  switch (format) {
    case 'folder':
      if (!dir) throw wrong('a folder');
      return openFolder(path, options);
    case 'voc': {
      const root = dir ? findVocRoot(path) : undefined;
      if (!root) throw wrong('a PASCAL VOC folder (JPEGImages with Annotations or SegmentationClass)');
      return openVoc(root, options);
    }
    case 'manifest-csv':
    case 'manifest-jsonl': {
      const file = dir ? join(path, format === 'manifest-csv' ? 'manifest.csv' : 'manifest.jsonl') : path;
      if (!existsSync(file)) throw wrong('a manifest file');
      return openManifest(file);
    }
    case 'coco':
    case 'voc-samples': {
      const file = dir ? join(path, 'index.json') : path;
      if (!existsSync(file)) throw wrong('a JSON file');
      const json = readJsonFile(file);
      if (format === 'coco' && isCocoJson(json)) return openCoco(file, json, options);
      if (format === 'voc-samples' && isVocSamplesIndex(json)) return openVocSamples(file, json as never);
      throw wrong(
        format === 'coco'
          ? 'COCO JSON (images, annotations, categories)'
          : 'a voc-samples index (classes, items)',
      );
    }
  }
}

function detect(path: string): DatasetFormat | undefined {
  const lower = path.toLowerCase();
  if (!statSync(path).isDirectory()) {
    if (lower.endsWith('.csv')) return 'manifest-csv';
    if (lower.endsWith('.jsonl')) return 'manifest-jsonl';
    if (lower.endsWith('.json')) {
      const json = readJsonFile(path);
      if (isCocoJson(json)) return 'coco';
      if (isVocSamplesIndex(json)) return 'voc-samples';
    }
    return undefined;
  }
  if (existsSync(join(path, 'index.json')) && isVocSamplesIndex(readJsonFile(join(path, 'index.json'))))
    return 'voc-samples';
  if (findVocRoot(path)) return 'voc';
  if (existsSync(join(path, 'manifest.csv'))) return 'manifest-csv';
  if (existsSync(join(path, 'manifest.jsonl'))) return 'manifest-jsonl';
  if (isClassFolderRoot(path)) return 'folder';
  return undefined;
}
