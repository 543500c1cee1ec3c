// Public API of targets: what is explained, separate from how (methods).
export { type CaptionPick, captionIds, captionTarget } from './caption.ts';
export { classIndex } from './class-index.ts';
export { type DetectionPick, detectionTarget } from './detection.ts';
export type { TargetHead } from './head.ts';
export {
  cosineHead,
  HEAD_NAMES,
  type HeadName,
  logSoftmaxHead,
  NAMED_HEADS,
  sigmoidHead,
  softmaxHead,
} from './heads.ts';
export { parseTarget } from './parse.ts';
export {
  counterfactual,
  resolveRows,
  scoreOf,
  type TargetEnv,
  targetFrom,
  targetOf,
} from './resolve.ts';
export { captionFeed, questionFeed, textWords, tokenFeed, tokenize } from './tokenizer.ts';
export type {
  CaptionWord,
  ClassRef,
  Target,
  TargetInput,
  TargetRow,
  TargetRowInit,
  TargetSpec,
  TargetValues,
} from './types.ts';
