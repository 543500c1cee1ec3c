// Cases for rules/conv.ts with random geometry: groups (grouped and depthwise), dilation, strides 1–3,
// asymmetric pads, auto_pad, odd and even sizes, bias or not, and a few fixed ones (1×1 stride 2,
// ResNet-like 7×7/2). Every case runs under both profiles: 'cpu' (pads in ConvTranspose) and 'web'
// (pads = 0 then crop).

import type { GradCase } from '../../../helpers/grad-check.ts';
import type { AttrValue } from '../../../helpers/onnx-builder.ts';
import { floatConst, input, oneNode, Rng, size, values } from './gen.ts';

interface ConvSpec {
  n: number;
  c: number;
  m: number;
  group: number;
  hw: [number, number];
  k: [number, number];
  attrs: Record<string, AttrValue>;
  bias: boolean;
}

function convCase(id: string, seed: number, rng: Rng, s: ConvSpec): GradCase {
  const xs = [s.n, s.c, ...s.hw];
  const ws = [s.m, s.c / s.group, ...s.k];
  const inits = [floatConst('w', ws, values(rng, size(ws)))];
  if (s.bias) inits.push(floatConst('b', [s.m], values(rng, s.m)));
  return oneNode(id, seed, {
    op: 'Conv',
    nodeInputs: s.bias ? ['x', 'w', 'b'] : ['x', 'w'],
    inputs: [input('x', xs, values(rng, size(xs)))],
    initializers: inits,
    attrs: { ...s.attrs, group: s.group },
    wrt: ['x'],
    extra: { profiles: ['cpu', 'web'] },
  });
}

function randomConv(rng: Rng): ConvSpec {
  const kind = rng.pick(['plain', 'grouped', 'depthwise']);
  const c = kind === 'plain' ? rng.int(1, 3) : rng.pick([2, 4]);
  const group = kind === 'plain' ? 1 : kind === 'depthwise' ? c : 2;
  const m = kind === 'depthwise' ? c * rng.int(1, 2) : group * rng.int(1, 2);
  const k: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
  const strides = [rng.int(1, 3), rng.int(1, 3)];
  const autoPad = rng.pick(['NOTSET', 'NOTSET', 'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID']);
  // ORT's Conv rejects dilations with SAME_* auto_pad.
  const dil = () => (autoPad.startsWith('SAME') ? 1 : rng.pick([1, 1, 2]));
  const dilations = [dil(), dil()];
  const dk = k.map((v, i) => (v - 1) * dilations[i]! + 1);
  const hw: [number, number] = [rng.int(Math.max(4, dk[0]!), 8), rng.int(Math.max(4, dk[1]!), 8)];
  const attrs: Record<string, AttrValue> = { kernel_shape: k, strides, dilations };
  if (autoPad === 'NOTSET') {
    attrs.pads = [
      rng.int(0, dk[0]! - 1),
      rng.int(0, dk[1]! - 1),
      rng.int(0, dk[0]! - 1),
      rng.int(0, dk[1]! - 1),
    ];
  } else attrs.auto_pad = autoPad;
  return { n: rng.int(1, 2), c, m, group, hw, k, attrs, bias: rng.bool() };
}

export function convCases(): GradCase[] {
  const rng = new Rng(303);
  const cases: GradCase[] = [];
  let seed = 3000;
  for (let k = 0; k < 24; k++) cases.push(convCase(`conv/random-${k}`, seed++, rng, randomConv(rng)));
  const fixed: [string, ConvSpec][] = [
    [
      '1x1-s2',
      { n: 1, c: 3, m: 4, group: 1, hw: [7, 6], k: [1, 1], attrs: { strides: [2, 2] }, bias: false },
    ],
    [
      'k7-s2-p3',
      {
        n: 1,
        c: 2,
        m: 2,
        group: 1,
        hw: [9, 8],
        k: [7, 7],
        attrs: { strides: [2, 2], pads: [3, 3, 3, 3] },
        bias: true,
      },
    ],
    [
      'depthwise-s2-asym',
      {
        n: 2,
        c: 3,
        m: 3,
        group: 3,
        hw: [7, 7],
        k: [3, 3],
        attrs: { strides: [2, 2], pads: [0, 1, 1, 0] },
        bias: true,
      },
    ],
    [
      'dilated-s2-asym',
      {
        n: 1,
        c: 2,
        m: 3,
        group: 1,
        hw: [9, 8],
        k: [3, 2],
        attrs: { strides: [2, 3], dilations: [2, 2], pads: [2, 0, 1, 1] },
        bias: false,
      },
    ],
    [
      'same-lower-s3',
      {
        n: 1,
        c: 2,
        m: 2,
        group: 2,
        hw: [8, 7],
        k: [3, 3],
        attrs: { strides: [3, 3], auto_pad: 'SAME_LOWER' },
        bias: false,
      },
    ],
    [
      'same-upper-even',
      {
        n: 1,
        c: 1,
        m: 2,
        group: 1,
        hw: [6, 6],
        k: [2, 2],
        attrs: { strides: [1, 1], auto_pad: 'SAME_UPPER' },
        bias: false,
      },
    ],
  ];
  for (const [name, spec] of fixed) cases.push(convCase(`conv/${name}`, seed++, rng, spec));
  return cases;
}
