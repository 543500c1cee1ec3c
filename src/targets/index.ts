// Public API of targets.
export { parseTarget } from './parse.ts';
export { type ResolveInput, resolveTargets } from './resolve.ts';
export type { ClassRef, TargetRow, TargetSpec } from './types.ts';
