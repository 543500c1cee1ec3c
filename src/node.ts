// The Node entry point: the platform-neutral core plus file loading, sharp decoding and
// onnxruntime-node.

export * from './core.ts';
export {
  type ClassMap,
  type ClassMask,
  type DatasetFormat,
  type EvalDataset,
  type EvalSample,
  type LabelledBox,
  loadClassMap,
  mapClasses,
  type OpenDatasetOptions,
  openDataset,
} from './eval/datasets/index.ts';
export { inShard, mergeRecords, parseShard, readRecords } from './eval/records-node.ts';
export { type GalleryPictures, galleryImages } from './eval/report/gallery-node.ts';
export { aggregateFile, type EvaluateOptions, type EvaluateSummary, evaluate } from './eval/run.ts';
export { loadExplainer } from './explain/load-node.ts';
export { decodeImage, decodeImageFile } from './image/decode-node.ts';
export {
  DEFAULT_MAX_IMAGE_BYTES,
  DEFAULT_MAX_PIXELS,
  type ImageDecodeOptions,
  type ImageFileOptions,
} from './image/limits.ts';
export { type LoadOptions, loadModelFiles, type ModelFiles } from './model/load-node.ts';
export { type OpenOptions, openImageModel } from './model/open-node.ts';
export { encodeIndexedPng, encodePng, writeIndexedPng, writePng } from './render/png-node.ts';
export { nodeRuntime } from './runtime/node.ts';
export { readNpy, writeNpy } from './tensor/npy-node.ts';
