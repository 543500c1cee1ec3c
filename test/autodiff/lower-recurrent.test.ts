// The recurrent lowering pass (src/autodiff/lower-recurrent.ts): its unrolled forward equals ONNX
// Runtime's own LSTM / GRU / RNN op (every direction, runtime sequence_lens, initial states, GRU
// linear_before_reset 0/1); gradients with a runtime sequence_lens input match finite differences;
// unsupported configurations are typed errors naming the attribute, but only on the gradient path;
// a Gather of a constant embedding table by runtime token ids needs no backward at all.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType, AttributeProtoSchema, ModelProtoSchema } from 'onnx-buf';
import { compileGradients } from '../../src/autodiff/index.ts';
import { lowerRecurrent } from '../../src/autodiff/lower-recurrent.ts';
import { isGradsightError } from '../../src/errors.ts';
import { appendGraphPatch, decodeModel, inferShapes } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { buildModel, type NodeSpec } from '../helpers/onnx-builder.ts';
import { seededValues } from '../helpers/tiny-models.ts';

const T = 4;
const B = 3;
const I = 3;
const H = 2;
const LENS = [4, 1, 3];

interface Spec {
  readonly op: 'LSTM' | 'GRU' | 'RNN';
  readonly direction: 'forward' | 'reverse' | 'bidirectional';
  readonly lbr?: 0 | 1;
  readonly attrs?: Record<string, number | string>;
  readonly steps?: number | string;
}

const f32 = (dims: number[], seed: number, scale = 0.8): Tensor => ({
  dtype: 'float32',
  dims,
  data: Float32Array.from(
    seededValues(
      dims.reduce((a, b) => a * b, 1),
      seed,
    ),
    (v) => v * scale,
  ),
});

function recurrentModel(s: Spec): { bytes: Uint8Array; feeds: Record<string, Tensor> } {
  const d = s.direction === 'bidirectional' ? 2 : 1;
  const g = { LSTM: 4, GRU: 3, RNN: 1 }[s.op];
  const w = f32([d, g * H, I], 1);
  const r = f32([d, g * H, H], 2);
  const b = f32([d, 2 * g * H], 3);
  const lstm = s.op === 'LSTM';
  const node: NodeSpec = {
    op: s.op,
    name: 'cell',
    inputs: ['x', 'W', 'R', 'B', 'lens', 'h0', ...(lstm ? ['c0'] : [])],
    outputs: lstm ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'],
    attrs: {
      hidden_size: H,
      direction: s.direction,
      ...(s.lbr === undefined ? {} : { linear_before_reset: s.lbr }),
      ...s.attrs,
    },
  };
  const bytes = buildModel({
    opset: 14,
    inputs: [
      { name: 'x', shape: [s.steps ?? T, B, I] },
      { name: 'lens', dtype: 'int32', shape: [B] },
      { name: 'h0', shape: [d, B, H] },
      ...(lstm ? [{ name: 'c0', shape: [d, B, H] }] : []),
    ],
    outputs: node.outputs.map((name) => ({ name })),
    nodes: [node],
    initializers: [
      { name: 'W', dims: [...w.dims], values: w.data as Float32Array },
      { name: 'R', dims: [...r.dims], values: r.data as Float32Array },
      { name: 'B', dims: [...b.dims], values: b.data as Float32Array },
    ],
  });
  const feeds: Record<string, Tensor> = {
    x: f32([T, B, I], 4, 1),
    lens: { dtype: 'int32', dims: [B], data: Int32Array.from(LENS) },
    h0: f32([d, B, H], 5),
    ...(lstm ? { c0: f32([d, B, H], 6) } : {}),
  };
  return { bytes, feeds };
}

/** W, R, B of a one-direction cell, as initializer specs. */
function cellWeights(op: 'LSTM' | 'GRU') {
  const model = decodeModel(recurrentModel({ op, direction: 'forward' }).bytes);
  return [...model.graph.initializers.values()].map((t) => ({
    name: t.name,
    dims: t.dims,
    values: t.values() as Float32Array,
  }));
}

async function run(bytes: Uint8Array, feeds: Record<string, Tensor>, fetches?: string[]) {
  const s = await nodeRuntime.createSession(bytes, { threads: 1 });
  try {
    return await s.run(feeds, fetches);
  } finally {
    await s.release();
  }
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

const SPECS: Spec[] = (['forward', 'reverse', 'bidirectional'] as const).flatMap((direction) => [
  { op: 'LSTM', direction },
  { op: 'GRU', direction, lbr: 0 },
  { op: 'GRU', direction, lbr: 1 },
  { op: 'RNN', direction },
]);

describe('recurrent lowering', () => {
  for (const spec of SPECS) {
    const tag = `${spec.op} ${spec.direction}${spec.lbr === undefined ? '' : ` lbr=${spec.lbr}`}`;
    it(`${tag}: the unrolled forward equals ONNX Runtime's op (runtime sequence_lens, initial states)`, async () => {
      const { bytes, feeds } = recurrentModel(spec);
      const model = decodeModel(bytes);
      const lowered = lowerRecurrent(model, inferShapes(model), () => true, 'gradsight');
      assert.ok(lowered);
      const outs = model.graph.outputs.map((o) => o.name);
      // The walked graph names each output with an Identity of the unrolled tensor.
      const unrolled = outs.map((o) => lowered.model.graph.producers.get(o)!.inputs[0]!);
      const patched = appendGraphPatch(bytes, {
        node: [...lowered.node],
        initializer: [...lowered.initializer],
        output: unrolled.map((name) => ({ name })),
      });
      const got = await run(patched, feeds);
      outs.forEach((o, i) => {
        const ref = got[o]!.data as Float32Array;
        const mine = got[unrolled[i]!]!.data as Float32Array;
        assert.ok(maxDiff(mine, ref) < 1e-6, `${o}: max |Δ| ${maxDiff(mine, ref)}`);
        assert.ok(ref.some((v) => v !== 0));
      });
      // Padded steps are zeros in Y (row 1 has one step).
      const y = got.Y!.data as Float32Array;
      const d = spec.direction === 'bidirectional' ? 2 : 1;
      assert.equal(y[((1 * d + 0) * B + 1) * H], 0);
    });
  }

  const gradSpecs: Spec[] = [
    { op: 'GRU', direction: 'forward', lbr: 1 },
    { op: 'LSTM', direction: 'bidirectional' },
    { op: 'RNN', direction: 'reverse' },
  ];
  for (const spec of gradSpecs) {
    it(`${spec.op} ${spec.direction}: gradients with a runtime sequence_lens equal finite differences`, async () => {
      const { bytes, feeds } = recurrentModel(spec);
      const wrt = spec.op === 'LSTM' ? ['x', 'h0', 'c0'] : ['x', 'h0'];
      const compiled = compileGradients(bytes, decodeModel(bytes), { wrt, explained: 'Y' });
      const y = (await run(bytes, feeds, ['Y'])).Y!;
      const seed = f32([...y.dims] as number[], 9, 1);
      const all = await run(compiled.bytes, { ...feeds, [compiled.seed.name]: seed });
      const f = async (fs: Record<string, Tensor>) => {
        const v = (await run(bytes, fs, ['Y'])).Y!.data as Float32Array;
        return v.reduce((acc, yi, i) => acc + yi * (seed.data as Float32Array)[i]!, 0);
      };
      for (const o of compiled.outputs) {
        const grad = all[o.grad]!.data as Float32Array;
        const x = feeds[o.tensor]!;
        const eps = 1e-3;
        for (let i = 0; i < x.data.length; i++) {
          const plus = Float32Array.from(x.data as Float32Array);
          const minus = Float32Array.from(x.data as Float32Array);
          plus[i]! += eps;
          minus[i]! -= eps;
          const fd =
            ((await f({ ...feeds, [o.tensor]: { ...x, data: plus } })) -
              (await f({ ...feeds, [o.tensor]: { ...x, data: minus } }))) /
            (plus[i]! - minus[i]!);
          assert.ok(Math.abs(fd - grad[i]!) < 2e-3, `d/d${o.tensor}[${i}]: grad ${grad[i]}, fd ${fd}`);
        }
      }
    });
  }

  const refused: [string, Spec, string][] = [
    ['clip', { op: 'LSTM', direction: 'forward', attrs: { clip: 3.5 } }, 'clip'],
    ['input_forget', { op: 'LSTM', direction: 'forward', attrs: { input_forget: 1 } }, 'input_forget'],
    ['layout', { op: 'GRU', direction: 'forward', attrs: { layout: 1 } }, 'layout'],
    ['a symbolic sequence length', { op: 'GRU', direction: 'reverse', steps: 'T' }, ''],
  ];
  for (const [what, spec, attribute] of refused) {
    it(`refuses ${what} with a typed error`, () => {
      const { bytes } = recurrentModel(spec);
      assert.throws(
        () => compileGradients(bytes, decodeModel(bytes), { wrt: ['x'], explained: 'Y' }),
        (e: unknown) =>
          isGradsightError(e, 'unsupported-op') &&
          e.message.includes("node 'cell'") &&
          (attribute === '' ? e.message.includes('sequence length') : e.details?.attribute === attribute),
      );
    });
  }

  it('refuses non-default activations, naming them', () => {
    const { bytes } = recurrentModel({ op: 'GRU', direction: 'forward' });
    const proto = decodeModel(bytes).proto;
    proto.graph!.node[0]!.attribute.push(
      create(AttributeProtoSchema, {
        name: 'activations',
        type: AttributeProto_AttributeType.STRINGS,
        strings: ['Relu', 'Tanh'].map((s) => new TextEncoder().encode(s)),
      }),
    );
    const changed = toBinary(ModelProtoSchema, proto);
    assert.throws(
      () => compileGradients(changed, decodeModel(changed), { wrt: ['x'], explained: 'Y' }),
      (e: unknown) =>
        isGradsightError(e, 'unsupported-op') &&
        e.details?.attribute === 'activations' &&
        e.message.includes('Relu'),
    );
  });

  it('leaves a recurrent node off the gradient path alone, even one it cannot lower', () => {
    const bytes = buildModel({
      opset: 14,
      inputs: [{ name: 'x', shape: [T, B, I] }],
      outputs: [{ name: 'side' }, { name: 'Y' }],
      nodes: [
        { op: 'Relu', name: 'side_relu', inputs: ['x'], outputs: ['side'] },
        {
          op: 'LSTM',
          name: 'cell',
          inputs: ['x', 'W', 'R'],
          outputs: ['Y'],
          attrs: { hidden_size: H, clip: 2 },
        },
      ],
      initializers: cellWeights('LSTM'),
    });
    const compiled = compileGradients(bytes, decodeModel(bytes), { wrt: ['x'], explained: 'side' });
    assert.ok(!decodeModel(compiled.bytes).graph.nodes.some((n) => n.name.includes('/lower/')));
    assert.throws(
      () => compileGradients(bytes, decodeModel(bytes), { wrt: ['x'], explained: 'Y' }),
      (e: unknown) => isGradsightError(e, 'unsupported-op') && e.details?.attribute === 'clip',
    );
  });

  it('a Gather of a constant embedding table by runtime token ids emits no backward', async () => {
    // tokens (int64 input) → Gather(table) → GRU with h0 from the "image" input → Y_h.
    const table = f32([7, I], 11);
    const inits = cellWeights('GRU');
    const bytes = buildModel({
      opset: 14,
      inputs: [
        { name: 'tokens', dtype: 'int64', shape: [T, B] },
        { name: 'image', shape: [1, B, H] },
      ],
      outputs: [{ name: 'Y_h' }],
      nodes: [
        { op: 'Gather', name: 'embed', inputs: ['table', 'tokens'], outputs: ['emb'] },
        { op: 'Tanh', name: 'init', inputs: ['image'], outputs: ['h0'] },
        {
          op: 'GRU',
          name: 'cell',
          inputs: ['emb', 'W', 'R', 'B', '', 'h0'],
          outputs: ['', 'Y_h'],
          attrs: { hidden_size: H, linear_before_reset: 1 },
        },
      ],
      initializers: [{ name: 'table', dims: [7, I], values: table.data as Float32Array }, ...inits],
    });
    const compiled = compileGradients(bytes, decodeModel(bytes), { wrt: ['image'], explained: 'Y_h' });
    const names = decodeModel(compiled.bytes).graph.nodes.map((n) => n.name);
    assert.ok(!names.some((n) => n.includes('/embed/')), 'no backward node for the Gather');
    const feeds: Record<string, Tensor> = {
      tokens: {
        dtype: 'int64',
        dims: [T, B],
        data: BigInt64Array.from([1, 6, 0, 2, 2, 5, 3, 0, 1, 4, 4, 6], BigInt),
      },
      image: f32([1, B, H], 12),
    };
    const seed = f32([1, B, H], 13, 1);
    const got = (await run(compiled.bytes, { ...feeds, [compiled.seed.name]: seed }))[
      compiled.outputs[0]!.grad
    ]!;
    const f = async (img: Float32Array) => {
      const v = (await run(bytes, { ...feeds, image: { ...feeds.image!, data: img } })).Y_h!
        .data as Float32Array;
      return v.reduce((acc, yi, i) => acc + yi * (seed.data as Float32Array)[i]!, 0);
    };
    const x = feeds.image!.data as Float32Array;
    for (let i = 0; i < x.length; i++) {
      const p = Float32Array.from(x);
      const m = Float32Array.from(x);
      p[i]! += 1e-3;
      m[i]! -= 1e-3;
      const fd = ((await f(p)) - (await f(m))) / (p[i]! - m[i]!);
      assert.ok(Math.abs(fd - (got.data as Float32Array)[i]!) < 1e-3, `d/dimage[${i}]`);
    }
  });
});
