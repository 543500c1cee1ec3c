// What every dataset reader produces: samples streamed in a stable order, each naming its image file,
// the dataset classes present, their boxes (inclusive pixel coordinates in the original image) and, when
// the dataset has them, a class mask loaded only when asked for. No pixels are read when a dataset opens.

import type { Box } from '../localization.ts';

/** A box of one object (or, for index.json class boxes, of all pixels of one class). */
export interface LabelledBox {
  readonly label: string;
  /** Inclusive pixel coordinates [x0, x1] × [y0, y1] in the original image. */
  readonly box: Box;
  /** VOC's `<difficult>1</difficult>`: kept, flagged (VOC's own evaluation ignores these). */
  readonly difficult?: boolean;
}

/** A per-pixel class-index mask at the image's size. */
export interface ClassMask {
  readonly width: number;
  readonly height: number;
  /** Class index per pixel, row-major; 0 = background, `void` = ignore when scoring. */
  readonly data: Uint8Array;
  /** Index -> dataset class name; index 0 is 'background'. */
  readonly classes: readonly string[];
  /** The ignored value (255 in VOC; COCO crowd regions are written as void too). */
  readonly void: number;
}

export interface EvalSample {
  /** Unique within the dataset and stable across runs (the key of per-image records). */
  readonly id: string;
  /** Absolute path of the image file. */
  readonly image: string;
  /** Dataset class names present in the image (unique, in first-seen order). */
  readonly labels: readonly string[];
  readonly boxes: readonly LabelledBox[];
  /** Decodes the class mask (absent when the dataset has no mask for this image). */
  readonly mask?: () => Promise<ClassMask>;
}

export type DatasetFormat = 'folder' | 'manifest-csv' | 'manifest-jsonl' | 'voc' | 'coco' | 'voc-samples';

export interface EvalDataset {
  readonly name: string;
  readonly format: DatasetFormat;
  /** The folder the dataset lives in (a manifest's or COCO JSON's folder). */
  readonly root: string;
  /** Every dataset class (no 'background'), in the dataset's own order. */
  readonly classes: readonly string[];
  /** Number of samples `samples()` yields. */
  readonly size: number;
  /** A fresh iteration each call, same order every time; a malformed sample throws when reached. */
  samples(): Iterable<EvalSample>;
}

export interface OpenDatasetOptions {
  /** Force a format instead of autodetecting it. */
  readonly format?: DatasetFormat;
  /**
   * A split: VOC `ImageSets/Segmentation/<split>.txt` (else `ImageSets/Main/<split>.txt`); for a folder
   * per class, the subfolder `<split>/` (e.g. `test`) holding the class folders.
   */
  readonly split?: string;
  /** COCO: the images folder (default: the JSON's folder, then `../images/<split name>` style guesses). */
  readonly imageDir?: string;
}
