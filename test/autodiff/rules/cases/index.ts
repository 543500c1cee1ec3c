// Every per-op gradient case, in the order cases.json lists them.

import { caseKey, type GradCase } from '../../../helpers/grad-check.ts';
import { activationCases } from './activations.ts';
import { arithmeticCases } from './arithmetic.ts';
import { chainCases } from './chains.ts';
import { convCases } from './conv.ts';
import { linearCases } from './linear.ts';
import { poolingCases } from './pooling.ts';
import { recurrentCases } from './recurrent.ts';
import { reduceCases } from './reduce.ts';
import { resizeCases } from './resize.ts';
import { shapeOpCases } from './shape-ops.ts';

export function allCases(): GradCase[] {
  return [
    ...activationCases(),
    ...arithmeticCases(),
    ...convCases(),
    ...linearCases(),
    ...poolingCases(),
    ...reduceCases(),
    ...resizeCases(),
    ...shapeOpCases(),
    ...recurrentCases(),
    ...chainCases(),
  ];
}

/** cases.json: one case per line, each with the key its goldens must carry. */
export function casesJson(): string {
  return `[\n${allCases()
    .map((c) => JSON.stringify({ ...c, key: caseKey(c) }))
    .join(',\n')}\n]\n`;
}
