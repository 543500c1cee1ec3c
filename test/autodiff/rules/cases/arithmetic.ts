// Cases for rules/arithmetic.ts: broadcasting Add/Sub/Mul/Div with random operand shapes (both
// operands differentiated, so every broadcast reduction is exercised), Mul(x, x) fan-out, Where, and
// Pow with constant and tensor exponents.

import type { CaseConstant, GradCase } from '../../../helpers/grad-check.ts';
import { input, oneNode, Rng, size, values } from './gen.ts';

/**
 * A random output shape and two operand shapes that broadcast to it (numpy rules): each operand drops
 * leading axes or has size 1 on some axes, every output axis is full in at least one operand, and at
 * least one operand is broadcast.
 */
export function broadcastPair(rng: Rng): [number[], number[], number[]] {
  const rank = rng.int(2, 4);
  const out = Array.from({ length: rank }, () => rng.int(2, rank > 2 ? 3 : 4));
  for (;;) {
    const ranks = [rng.int(Math.max(1, rank - 2), rank), rng.int(Math.max(1, rank - 2), rank)];
    const ops = ranks.map((r) => out.slice(rank - r).map((d) => (rng.bool(0.4) ? 1 : d)));
    const full = (k: number, i: number) => {
      const j = i - (rank - ranks[k]!);
      return j >= 0 && ops[k]![j] === out[i];
    };
    const covered = out.every((_, i) => full(0, i) || full(1, i));
    const broadcast = ops.some((o) => o.length < rank || o.some((d, j) => d !== out[rank - o.length + j]));
    if (covered && broadcast) return [out, ops[0]!, ops[1]!];
  }
}

export function arithmeticCases(): GradCase[] {
  const rng = new Rng(202);
  const cases: GradCase[] = [];
  let seed = 2000;
  for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
    for (let k = 0; k < 5; k++) {
      // Case 0 without broadcasting, the others broadcast.
      const [, sa, sb] = k === 0 ? [[], [2, 3], [2, 3]] : broadcastPair(rng);
      const b = values(rng, size(sb), 0.5, 2).map((v) => (op === 'Div' && rng.bool() ? -v : v));
      cases.push(
        oneNode(`arithmetic/${op.toLowerCase()}-${k}`, seed++, {
          op,
          nodeInputs: ['a', 'b'],
          inputs: [
            input('a', sa, values(rng, size(sa))),
            input('b', sb, op === 'Div' ? b : values(rng, size(sb))),
          ],
        }),
      );
    }
  }
  // One operand constant: only the other gets a gradient.
  cases.push(
    oneNode('arithmetic/mul-const', seed++, {
      op: 'Mul',
      nodeInputs: ['a', 'w'],
      inputs: [input('a', [2, 3, 2, 2], values(rng, 24))],
      initializers: [{ name: 'w', dims: [3, 1, 1], values: values(rng, 3) }],
    }),
  );
  // Fan-out: y = x · x ⇒ dx = 2·g·x, the walker adds both contributions.
  cases.push(
    oneNode('arithmetic/mul-x-x', seed++, {
      op: 'Mul',
      nodeInputs: ['x', 'x'],
      inputs: [input('x', [3, 4], values(rng, 12))],
    }),
  );
  for (let k = 0; k < 3; k++) {
    const [out, sa, sb] = broadcastPair(rng);
    const cond: CaseConstant = {
      name: 'c',
      dtype: 'bool',
      dims: out,
      values: Array.from({ length: size(out) }, () => (rng.bool() ? 1 : 0)),
    };
    cases.push(
      oneNode(`arithmetic/where-${k}`, seed++, {
        op: 'Where',
        nodeInputs: ['c', 'a', 'b'],
        inputs: [input('a', sa, values(rng, size(sa))), input('b', sb, values(rng, size(sb)))],
        initializers: [cond],
      }),
    );
  }
  for (const p of [2, 3, 0.5, 1, -1]) {
    const s = [2, 3, 4];
    cases.push(
      oneNode(`arithmetic/pow-const-${p}`, seed++, {
        op: 'Pow',
        nodeInputs: ['a', 'p'],
        inputs: [input('a', s, values(rng, size(s), p === 2 || p === 3 ? -2 : 0.3, 2))],
        initializers: [{ name: 'p', dims: [], values: [p] }],
      }),
    );
  }
  for (let k = 0; k < 2; k++) {
    const [, sa, sb] = broadcastPair(rng);
    cases.push(
      oneNode(`arithmetic/pow-tensor-${k}`, seed++, {
        op: 'Pow',
        nodeInputs: ['a', 'b'],
        inputs: [
          input('a', sa, values(rng, size(sa), 0.3, 2)),
          input('b', sb, values(rng, size(sb), -1.5, 2.5)),
        ],
      }),
    );
  }
  return cases;
}
