// A seeded generator of malformed ONNX files for the reliability suite: real protobuf bytes built from
// the tiny test models, then damaged the ways broken downloads, buggy exporters and hostile files do
// (bit flips, truncations, huge varints, cycles, undefined inputs, absurd dims, wrong dtypes, duplicate
// names, missing parts, deep subgraph nesting, external-data tricks). Same seed, same cases.
// The families live in onnx-mutants-bytes.ts, -graph.ts, -values.ts and -ops.ts; shared pieces in onnx-mutant-kit.ts.

import { type MutantCase, prng } from './onnx-mutant-kit.ts';
import { bitFlips, hugeVarints, truncations } from './onnx-mutants-bytes.ts';
import { cycles, duplicateNames, missingParts, structural, undefinedInputs } from './onnx-mutants-graph.ts';
import { chainedOps, insertedOps, knownFailures } from './onnx-mutants-ops.ts';
import { absurdDims, externalData, nesting, wrongDtypes } from './onnx-mutants-values.ts';

export type { Family, MutantCase } from './onnx-mutant-kit.ts';
export { prng } from './onnx-mutant-kit.ts';
export { nestedIf } from './onnx-mutants-values.ts';

/** A few hundred malformed models; the same `seed` gives the same cases, byte for byte. */
export function onnxMutants(seed = 11): MutantCase[] {
  const r = prng(seed);
  return [
    ...bitFlips(r, 90),
    ...truncations(r, 70),
    ...hugeVarints(),
    ...cycles(),
    ...undefinedInputs(),
    ...absurdDims(),
    ...wrongDtypes(),
    ...duplicateNames(),
    ...missingParts(),
    ...nesting(),
    ...externalData(),
    ...structural(r, 70),
    ...insertedOps(r, 80),
    ...knownFailures(),
    ...chainedOps(r, 60),
  ];
}
