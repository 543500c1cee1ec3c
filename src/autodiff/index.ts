// Public API of the autodiff compiler.

export { nodesWithoutRule } from './activity.ts';
export {
  type CompileOptions,
  compileGradients,
  type GradientModel,
  type GradientOutput,
  type GradientPatch,
  gradientPatch,
} from './compile.ts';
export { Emitter } from './emitter.ts';
export { explainedTensor } from './explained.ts';
export {
  type GradContext,
  type GradRule,
  type Profile,
  type RuleSet,
  type RuleTable as GradRuleTable,
  STOP,
} from './rule.ts';
export {
  deconvnet,
  guided,
  isReluLike,
  RULE_SETS,
  type RuleSetName,
  standard,
  supportedOps,
} from './rule-sets.ts';
