// Cases for the recurrent lowering (src/autodiff/lower-recurrent.ts): LSTM, GRU (and RNN) forward, reverse and
// bidirectional, with and without initial states and biases, GRU linear_before_reset 0 and 1, LSTM
// peepholes, constant sequence lengths shorter than T, each output alone and all
// three summed (Y + Y_h + Y_c broadcast), then randomised configurations. Gradients go to X and to
// the initial states; the weights are initializers.

import type { CaseConstant, CaseInput, GradCase } from '../../../helpers/grad-check.ts';
import type { NodeSpec } from '../../../helpers/onnx-builder.ts';
import { floatConst, input, Rng, size, values } from './gen.ts';

type Direction = 'forward' | 'reverse' | 'bidirectional';

export interface RecurrentSpec {
  readonly op: 'LSTM' | 'GRU' | 'RNN';
  readonly direction: Direction;
  readonly steps: number;
  readonly batch: number;
  readonly inputSize: number;
  readonly hidden: number;
  readonly initial: boolean;
  readonly bias: boolean;
  readonly peephole?: boolean;
  readonly linearBeforeReset?: 0 | 1;
  /** Constant sequence_lens (int32), one per batch row. */
  readonly lens?: readonly number[];
  /** Which output is the target: one of them, or all three summed. */
  readonly target: 'Y' | 'Y_h' | 'Y_c' | 'sum';
}

export function recurrentCase(id: string, seed: number, rng: Rng, s: RecurrentSpec): GradCase {
  const dirs = s.direction === 'bidirectional' ? 2 : 1;
  const gates = { LSTM: 4, GRU: 3, RNN: 1 }[s.op];
  const H = s.hidden;
  const w = (name: string, dims: number[]) => floatConst(name, dims, values(rng, size(dims), -0.8, 0.8));
  const initializers: CaseConstant[] = [w('W', [dirs, gates * H, s.inputSize]), w('R', [dirs, gates * H, H])];
  if (s.bias) initializers.push(w('B', [dirs, 2 * gates * H]));
  if (s.peephole) initializers.push(w('P', [dirs, 3 * H]));
  if (s.lens) initializers.push({ name: 'lens', dtype: 'int32', dims: [s.lens.length], values: s.lens });
  const xShape = [s.steps, s.batch, s.inputSize];
  const stateShape = [dirs, s.batch, H];
  const inputs: CaseInput[] = [input('x', xShape, values(rng, size(xShape), -1, 1))];
  if (s.initial) {
    inputs.push(input('h0', stateShape, values(rng, size(stateShape), -0.8, 0.8)));
    if (s.op === 'LSTM') inputs.push(input('c0', stateShape, values(rng, size(stateShape), -0.8, 0.8)));
  }
  const nodeInputs = [
    'x',
    'W',
    'R',
    s.bias ? 'B' : '',
    s.lens ? 'lens' : '',
    s.initial ? 'h0' : '',
    s.initial && s.op === 'LSTM' ? 'c0' : '',
    s.peephole ? 'P' : '',
  ];
  while (nodeInputs.at(-1) === '') nodeInputs.pop();
  const outs = s.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
  const want = s.target === 'sum' ? outs : [s.target];
  // Outputs not needed are left out ('' in the middle, dropped at the end), as exporters do.
  const outputs = outs.map((o) => (want.includes(o) ? (s.target === 'sum' ? o : 'y') : ''));
  while (outputs.at(-1) === '') outputs.pop();
  const attrs: Record<string, number | string> = { hidden_size: H };
  if (s.direction !== 'forward') attrs.direction = s.direction;
  if (s.linearBeforeReset !== undefined) attrs.linear_before_reset = s.linearBeforeReset;
  const nodes: NodeSpec[] = [{ op: s.op, name: s.op.toLowerCase(), inputs: nodeInputs, outputs, attrs }];
  if (s.target === 'sum') {
    // Y [T, D, B, H] + Y_h [D, B, H] (+ Y_c), broadcast.
    let acc = 'Y';
    for (const o of outs.slice(1)) {
      const next = o === outs.at(-1) ? 'y' : `sum_${o}`;
      nodes.push({ op: 'Add', name: `add_${o}`, inputs: [acc, o], outputs: [next] });
      acc = next;
    }
  }
  return {
    id,
    opset: 14,
    nodes,
    inputs,
    initializers,
    output: 'y',
    wrt: inputs.map((i) => i.name),
    seed,
  };
}

export function recurrentCases(): GradCase[] {
  const rng = new Rng(1313);
  const cases: GradCase[] = [];
  let seed = 13000;
  const base = { steps: 3, batch: 2, inputSize: 3, hidden: 3, bias: true } as const;
  for (const op of ['LSTM', 'GRU'] as const) {
    const lbrs = op === 'GRU' ? ([0, 1] as const) : ([undefined] as const);
    for (const direction of ['forward', 'reverse', 'bidirectional'] as const) {
      for (const initial of [false, true]) {
        for (const lbr of lbrs) {
          const tag = `${op.toLowerCase()}-${direction}${initial ? '-init' : ''}${lbr === undefined ? '' : `-lbr${lbr}`}`;
          cases.push(
            recurrentCase(`recurrent/${tag}`, seed++, rng, {
              ...base,
              op,
              direction,
              initial,
              target: 'sum',
              ...(lbr === undefined ? {} : { linearBeforeReset: lbr }),
            }),
          );
        }
      }
    }
  }
  const extra: [string, RecurrentSpec][] = [
    ['lstm-y-only', { ...base, op: 'LSTM', direction: 'forward', initial: true, target: 'Y' }],
    ['lstm-yh-only', { ...base, op: 'LSTM', direction: 'reverse', initial: true, target: 'Y_h' }],
    ['lstm-yc-only', { ...base, op: 'LSTM', direction: 'bidirectional', initial: true, target: 'Y_c' }],
    [
      'gru-yh-only',
      { ...base, op: 'GRU', direction: 'bidirectional', initial: true, linearBeforeReset: 1, target: 'Y_h' },
    ],
    [
      'lstm-no-bias',
      { ...base, op: 'LSTM', direction: 'bidirectional', initial: true, bias: false, target: 'sum' },
    ],
    ['gru-no-bias', { ...base, op: 'GRU', direction: 'reverse', initial: false, bias: false, target: 'sum' }],
    [
      'lstm-peephole',
      { ...base, op: 'LSTM', direction: 'bidirectional', initial: true, peephole: true, target: 'sum' },
    ],
    [
      'lstm-lens',
      {
        ...base,
        steps: 4,
        batch: 3,
        op: 'LSTM',
        direction: 'bidirectional',
        initial: true,
        lens: [4, 2, 1],
        target: 'sum',
      },
    ],
    [
      'gru-lens',
      {
        ...base,
        steps: 4,
        batch: 3,
        op: 'GRU',
        direction: 'reverse',
        initial: true,
        lens: [3, 4, 2],
        linearBeforeReset: 0,
        target: 'sum',
      },
    ],
    [
      'gru-lens-full',
      {
        ...base,
        op: 'GRU',
        direction: 'forward',
        initial: true,
        lens: [3, 3],
        linearBeforeReset: 1,
        target: 'Y',
      },
    ],
  ];
  for (const [name, spec] of extra) cases.push(recurrentCase(`recurrent/${name}`, seed++, rng, spec));
  for (let k = 0; k < 8; k++) {
    const op = rng.pick(['LSTM', 'GRU'] as const);
    const steps = rng.int(1, 5);
    const batch = rng.int(1, 3);
    cases.push(
      recurrentCase(`recurrent/random-${k}`, seed++, rng, {
        op,
        direction: rng.pick(['forward', 'reverse', 'bidirectional'] as const),
        steps,
        batch,
        inputSize: rng.int(1, 4),
        hidden: rng.int(1, 4),
        initial: rng.bool(),
        bias: rng.bool(0.8),
        ...(op === 'LSTM' ? { peephole: rng.bool(0.3) } : { linearBeforeReset: rng.pick([0, 1] as const) }),
        ...(rng.bool(0.3) ? { lens: Array.from({ length: batch }, () => rng.int(1, steps)) } : {}),
        target: rng.pick(
          op === 'LSTM' ? (['Y', 'Y_h', 'Y_c', 'sum'] as const) : (['Y', 'Y_h', 'sum'] as const),
        ),
      }),
    );
  }
  // The simple RNN (tanh), after the others so their cases keep their values.
  const rnn = new Rng(1414);
  for (const direction of ['forward', 'reverse', 'bidirectional'] as const) {
    for (const initial of [false, true]) {
      cases.push(
        recurrentCase(`recurrent/rnn-${direction}${initial ? '-init' : ''}`, seed++, rnn, {
          ...base,
          op: 'RNN',
          direction,
          initial,
          target: 'sum',
        }),
      );
    }
  }
  cases.push(
    recurrentCase('recurrent/rnn-lens', seed++, rnn, {
      ...base,
      steps: 4,
      batch: 3,
      op: 'RNN',
      direction: 'bidirectional',
      initial: true,
      lens: [2, 4, 1],
      target: 'Y_h',
    }),
  );
  return cases;
}
