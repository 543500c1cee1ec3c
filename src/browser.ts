// The browser entry point: the platform-neutral core plus onnxruntime-web (imported on demand),
// image decoding with the browser's own decoders, and opening a model from files the page was given.
//
//   const model = await openWebModel(webModelSource(droppedFiles));   // or { model: bytes, files }
//   const ex = Explainer.fromModel(model);
//   const r = await ex.explain(await decodeWebImage(file), { method: 'gradcam', signal, onProgress });

export * from './core.ts';
// The app's layer list: candidate layers ranked (by resolution, or on an image by probability kept).
export { type LayerScore, type RankOptions as LayerRankOptions, rankLayers } from './eval/layer-ranking.ts';
export { decodeWebImage, type WebDecodeOptions, type WebImageSource } from './image/decode-web.ts';
export { type ImageHeader, readImageHeader } from './image/header.ts';
export { DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS, type ImageDecodeOptions } from './image/limits.ts';
export {
  type FileBytes,
  openWebModel,
  type WebModelSource,
  type WebOpenOptions,
  webModelSource,
} from './model/open-web.ts';
export {
  pickWebBackend,
  type WebBackend,
  type WebRuntimeOptions,
  wasmThreads,
  webRuntime,
} from './runtime/web.ts';
