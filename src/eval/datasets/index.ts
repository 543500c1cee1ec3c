// Datasets for `gradsight eval`: readers (folder per class, CSV/JSONL manifest, PASCAL VOC, COCO, the
// shared voc-samples index.json), autodetected by openDataset, and the class map to a model's labels.

export { type ClassMap, loadClassMap, mapClasses } from './class-map.ts';
export { openDataset } from './open.ts';
export type {
  ClassMask,
  DatasetFormat,
  EvalDataset,
  EvalSample,
  LabelledBox,
  OpenDatasetOptions,
} from './types.ts';
