// Platform-neutral API: everything that runs the same in Node and in the browser.

export * from './autodiff/index.ts';
export * from './compile/index.ts';
export * from './detect/index.ts';
export { closestNames, type ErrorCode, GradsightError, isGradsightError } from './errors.ts';
export {
  Aggregator,
  aggregateRecords,
  type EvalResults,
  MODEL_SCOPE,
  resultsCsv,
} from './eval/aggregate.ts';
export type { ImageRecord, MethodRecord, RecordsHeader, RunConfig, Shard } from './eval/record-types.ts';
export {
  EVAL_METRIC_IDS,
  EVAL_METRICS,
  type EvalMetric,
  evalMetricById,
  metricTableMarkdown,
} from './eval/registry.ts';
export { type EvalReportInput, type GalleryImage, renderEvalReport } from './eval/report/html.ts';
export { CI_METHODS, type CiMethod, type Summary, summarize as summarizeValues } from './eval/stats.ts';
export type { Diagnostic } from './explain/diagnose.ts';
export {
  Explainer,
  type ExplainOptions,
  type ExplainProgress,
  type ExplainResult,
  type Explanation,
  type TargetInfo,
  type TargetInput,
} from './explain/explainer.ts';
export { type GradientOptions, type TargetGradients, targetGradients } from './explain/gradients.ts';
export {
  greedyCaptions,
  type LanguageInfo,
  type LanguageOptions,
  languageFeeds,
} from './explain/language.ts';
export * from './image/indexed-image.ts';
export * from './image/labels.ts';
export * from './image/preprocess.ts';
export * from './image/resize.ts';
export * from './image/rgb-image.ts';
export * from './image/upsample.ts';
export { NORMALIZATIONS, type Normalization } from './methods/pipeline.ts';
export { METHOD_IDS, METHODS, methodById } from './methods/table.ts';
export type { Method, MethodId, MethodSpec } from './methods/types.ts';
export { type GradientResult, GradientRunner } from './model/gradient-runner.ts';
export { ImageModel, type ImageModelOptions, type ImageModelSource } from './model/image-model.ts';
export { checkFeeds, pickImageInput } from './model/inputs.ts';
export type { LanguageDescription, LanguageTask } from './model/language-description.ts';
export { candidateLayers, defaultLayer, findLayer, type LayerInfo } from './model/layers.ts';
export { type ClassScore, type Prediction, rankOutput } from './model/predict.ts';
export { type ModelSummary, summarize } from './model/summary.ts';
export { type GraphSource, type TargetGraph, targetGraph } from './model/target-graph.ts';
export * from './onnx/index.ts';
export * from './render/index.ts';
export type { ExternalDataFile, Runtime, Session, SessionOptions } from './runtime/runtime.ts';
export * from './targets/index.ts';
export { tensorFromJson } from './tensor/json-tensor.ts';
export { decodeNpy, encodeNpy } from './tensor/npy.ts';
export { concatRows, type Feeds, repeatRows, selectRows, sliceRows } from './tensor/rows.ts';
export * from './tensor/tensor.ts';
export { VERSION } from './version.ts';
