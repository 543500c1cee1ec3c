// LSTM, GRU and RNN: Y [T, D, B, H], Y_h (and LSTM's Y_c) [D, B, H], or with layout = 1 (batch first)
// Y [B, T, D, H] and Y_h [B, D, H]; T and B come from X, D from `direction`, H from `hidden_size`.

import { getInt, getString } from '../attributes.ts';
import type { Shape } from '../ir.ts';
import type { RuleContext, RuleTable, TensorInfo } from './types.ts';

function recurrent(ctx: RuleContext): (TensorInfo | undefined)[] {
  const x = ctx.input(0);
  const hidden = getInt(ctx.node, 'hidden_size', 0);
  const outs = ctx.node.outputs.length;
  if (!x?.shape || x.shape.length !== 3 || hidden <= 0) return Array(outs).fill(undefined);
  const dirs = getString(ctx.node, 'direction', 'forward') === 'bidirectional' ? 2 : 1;
  const batchFirst = getInt(ctx.node, 'layout', 0) === 1;
  const [t, b] = batchFirst ? [x.shape[1]!, x.shape[0]!] : [x.shape[0]!, x.shape[1]!];
  const y: Shape = batchFirst ? [b, t, dirs, hidden] : [t, dirs, b, hidden];
  const state: Shape = batchFirst ? [b, dirs, hidden] : [dirs, b, hidden];
  return [y, state, state].slice(0, outs).map((shape) => ({ dtype: x.dtype, shape }));
}

export const recurrentRules: RuleTable = { LSTM: recurrent, GRU: recurrent, RNN: recurrent };
