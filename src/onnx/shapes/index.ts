// Shape inference: static rules by op family, plus a one-run ORT probe for what they cannot resolve.

export { type InputShapes, inferShapes, shapeRules, unresolved } from './infer.ts';
export { inferShapesWithFallback, probeShapes } from './probe.ts';
export type { RuleContext, RuleTable, ShapeRule, TensorInfo } from './types.ts';
