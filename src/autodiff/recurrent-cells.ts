// LSTM, GRU and RNN written with standard ops, unrolled over a static sequence length (ONNX semantics,
// default activations). lower-recurrent.ts places these nodes into the graph the walker differentiates.
// Per direction and step t (forward 0…T−1, reverse T−1…0):
//   LSTM (gates i, o, f, c):  i = σ(xᵢ + H·Rᵢᵀ + bᵢ + Pᵢ⊙C)   f = σ(x_f + H·R_fᵀ + b_f + P_f⊙C)
//                             c̃ = tanh(x_c + H·R_cᵀ + b_c)     C' = f⊙C + i⊙c̃
//                             o = σ(x_o + H·R_oᵀ + b_o + P_o⊙C')  H' = o⊙tanh(C')
//   GRU (gates z, r, h):      z = σ(x_z + H·R_zᵀ + b_z)   r = σ(x_r + H·R_rᵀ + b_r)
//                             n = tanh(x_h + r⊙(H·R_hᵀ + Rb_h))   (linear_before_reset = 1)
//                             n = tanh(x_h + (r⊙H)·R_hᵀ + Rb_h)   (linear_before_reset = 0)
//                             H' = (1 − z)⊙n + z⊙H = n + z⊙(H − n)
//   RNN:                      H' = tanh(x + H·Rᵀ + Wb + Rb)
// An absent initial state is zero: its terms are left out rather than multiplied by a zero tensor.
// With sequence_lens, step t of batch row b is skipped when t ≥ len[b]: the state is kept
// (Where(t < len, new, old)) and Y is zero there. In reverse, skipping the padded tail first and
// then running t = len−1…0 is exactly ONNX's per-sequence reversal.

import type { Emitter } from './emitter.ts';

/** Ops lower-recurrent.ts rewrites with these cells before the walk; they have no rule of their own. */
export const LOWERED_OPS: readonly string[] = ['LSTM', 'GRU', 'RNN'];

export type CellKind = 'LSTM' | 'GRU' | 'RNN';

export interface CellInputs {
  readonly e: Emitter;
  readonly kind: CellKind;
  /** X [T, B, I] (layout 0). */
  readonly x: string;
  readonly steps: number;
  readonly hidden: number;
  readonly reverse: readonly boolean[];
  readonly w: string;
  readonly r: string;
  readonly b: string | undefined;
  readonly p: string | undefined;
  /** Initial states [D, B, H]. */
  readonly h0: string | undefined;
  readonly c0: string | undefined;
  /** sequence_lens as int64 [B], or undefined when every sequence has T steps. */
  readonly lens: string | undefined;
  readonly linearBeforeReset: boolean;
}

/** Y [T, D, B, H], Y_h and Y_c [D, B, H]. */
export interface CellOutputs {
  readonly y: string;
  readonly yh: string;
  readonly yc: string | undefined;
}

export function unrollCells(c: CellInputs): CellOutputs {
  const { e } = c;
  const dirs = c.reverse.map((rev, d) => unrollDirection(c, d, rev));
  return {
    y: e.concat(
      dirs.map((o) => o.y),
      1,
    ),
    yh: e.concat(
      dirs.map((o) => e.unsqueeze(o.h, [0])),
      0,
    ),
    yc:
      c.kind === 'LSTM'
        ? e.concat(
            dirs.map((o) => e.unsqueeze(o.c!, [0])),
            0,
          )
        : undefined,
  };
}

const squeeze0 = (e: Emitter, x: string) => e.squeeze(x, [0]);

/**
 * Entry k of axis 0 (a step of X, a direction of a state): a Gather with a constant scalar index,
 * whose gradient (a one-hot product) reads no forward shape, so it holds with the batch on axis 1
 * however CompileOptions.repeatRows repeats it.
 */
const pick = (e: Emitter, x: string, k: number) =>
  e.op('Gather', [x, e.constI64([k], [])], { axis: { i: 0 } });

/** Rows [from, to) of direction d of a [D, rows, cols] weight, transposed: [cols, to − from]. */
function weightT(e: Emitter, w: string, d: number, from: number, to: number): string {
  return e.transpose(squeeze0(e, e.slice(w, [d, from], [d + 1, to], [0, 1])), [1, 0]);
}

/** Elements [from, to) of direction d of a [D, n] bias: a [to − from] vector. */
function biasPart(e: Emitter, b: string, d: number, from: number, to: number): string {
  return squeeze0(e, e.slice(b, [d, from], [d + 1, to], [0, 1]));
}

const addOpt = (e: Emitter, a: string, b: string | undefined) => (b === undefined ? a : e.add(a, b));

function unrollDirection(c: CellInputs, d: number, reverse: boolean) {
  const { e, hidden: H, steps: T } = c;
  const gates = { LSTM: 4, GRU: 3, RNN: 1 }[c.kind];
  // Xt·Wᵀ + the input biases (LSTM adds both biases there; GRU keeps Rb_h inside the reset product).
  const wT = weightT(e, c.w, d, 0, gates * H);
  let wb: string | undefined;
  if (c.b !== undefined && c.kind !== 'GRU')
    wb = e.add(biasPart(e, c.b, d, 0, gates * H), biasPart(e, c.b, d, gates * H, 2 * gates * H));
  else if (c.b !== undefined) wb = biasPart(e, c.b, d, 0, 3 * H);
  const state = (s: string | undefined) => (s === undefined ? undefined : pick(e, s, d));
  let h = state(c.h0);
  let cell = c.kind === 'LSTM' ? state(c.c0) : undefined;
  // The last axis: gates of a [B, n·H] pre-activation, or of a bias vector when there is no state yet.
  const gate = (t: string, k: number) => e.slice(t, [k * H], [(k + 1) * H], [-1]);
  const zero = e.scalar(0);
  const ys: string[] = Array(T);
  const order = Array.from({ length: T }, (_, k) => (reverse ? T - 1 - k : k));
  const cell1 = { LSTM: lstmStep, GRU: gruStep, RNN: rnnStep }[c.kind](c, d);
  for (const t of order) {
    const xt = addOpt(e, e.matmul(pick(e, c.x, t), wT), wb);
    const next = cell1(xt, h, cell, gate);
    let yt = next.h;
    if (c.lens !== undefined) {
      const active = e.unsqueeze(e.less(e.constI64([t], []), c.lens), [1]);
      yt = e.where(active, next.h, zero);
      h = e.where(active, next.h, h ?? zero);
      if (next.c !== undefined) cell = e.where(active, next.c, cell ?? zero);
    } else {
      h = next.h;
      cell = next.c;
    }
    ys[t] = e.unsqueeze(yt, [0, 1]);
  }
  return { y: e.concat(ys, 0), h: h!, c: cell };
}

type Gate = (t: string, k: number) => string;
type Step = (
  xt: string,
  h: string | undefined,
  c: string | undefined,
  gate: Gate,
) => { h: string; c: string | undefined };

function lstmStep(c: CellInputs, d: number): Step {
  const { e, hidden: H } = c;
  const rT = weightT(e, c.r, d, 0, 4 * H);
  const peep = (k: number) => (c.p === undefined ? undefined : biasPart(e, c.p, d, k * H, (k + 1) * H));
  const [pi, po, pf] = [peep(0), peep(1), peep(2)];
  const sigmoid = (x: string) => e.op('Sigmoid', [x]);
  const tanh = (x: string) => e.op('Tanh', [x]);
  return (xt, h, cPrev, gate) => {
    const pre = h === undefined ? xt : e.add(xt, e.matmul(h, rT));
    const withPeep = (x: string, p: string | undefined, s: string | undefined) =>
      p === undefined || s === undefined ? x : e.add(x, e.mul(p, s));
    const i = sigmoid(withPeep(gate(pre, 0), pi, cPrev));
    const f = sigmoid(withPeep(gate(pre, 2), pf, cPrev));
    const candidate = tanh(gate(pre, 3));
    const ic = e.mul(i, candidate);
    const cNext = cPrev === undefined ? ic : e.add(e.mul(f, cPrev), ic);
    const o = sigmoid(withPeep(gate(pre, 1), po, cNext));
    return { h: e.mul(o, tanh(cNext)), c: cNext };
  };
}

function gruStep(c: CellInputs, d: number): Step {
  const { e, hidden: H } = c;
  const rzrT = weightT(e, c.r, d, 0, 2 * H);
  const rhT = weightT(e, c.r, d, 2 * H, 3 * H);
  const rbzr = c.b === undefined ? undefined : biasPart(e, c.b, d, 3 * H, 5 * H);
  const rbh = c.b === undefined ? undefined : biasPart(e, c.b, d, 5 * H, 6 * H);
  const sigmoid = (x: string) => e.op('Sigmoid', [x]);
  return (xt, h, _c, gate) => {
    const hr = h === undefined ? rbzr : addOpt(e, e.matmul(h, rzrT), rbzr);
    const z = sigmoid(hr === undefined ? gate(xt, 0) : e.add(gate(xt, 0), gate(hr, 0)));
    const r = sigmoid(hr === undefined ? gate(xt, 1) : e.add(gate(xt, 1), gate(hr, 1)));
    let inner: string | undefined;
    if (c.linearBeforeReset) {
      const hh = h === undefined ? rbh : addOpt(e, e.matmul(h, rhT), rbh);
      inner = hh === undefined ? undefined : e.mul(r, hh);
    } else {
      inner = h === undefined ? rbh : addOpt(e, e.matmul(e.mul(r, h), rhT), rbh);
    }
    const n = e.op('Tanh', [addOpt(e, gate(xt, 2), inner)]);
    return { h: h === undefined ? e.sub(n, e.mul(z, n)) : e.add(n, e.mul(z, e.sub(h, n))), c: undefined };
  };
}

function rnnStep(c: CellInputs, d: number): Step {
  const { e, hidden: H } = c;
  const rT = weightT(e, c.r, d, 0, H);
  return (xt, h) => ({ h: e.op('Tanh', [h === undefined ? xt : e.add(xt, e.matmul(h, rT))]), c: undefined });
}
