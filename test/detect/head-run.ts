// Runs a decoder's score head on a small model: appends the head after the model's output (as explain does),
// compiles the gradient of T, and gives T, d⟨seed, T⟩/dx for a one-hot seed at a cell, and central
// finite differences of T[cell] with respect to the model input x for comparison.

import { compileGradients } from '../../src/autodiff/index.ts';
import type { Decoder } from '../../src/detect/index.ts';
import { targetGraph } from '../../src/model/target-graph.ts';
import { decodeModel, inferShapes, type Shape } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { Float32Tensor, Tensor } from '../../src/tensor/tensor.ts';

export interface HeadModel {
  /** The model with T as an extra graph output. */
  readonly bytes: Uint8Array;
  readonly t: string;
  /** The graph input differentiated and perturbed ('x' in the hand-made models). */
  readonly input: string;
}

export function withHead(
  bytes: Uint8Array,
  decoder: Decoder,
  output: string,
  outputShape: Shape,
  input = 'x',
): HeadModel {
  // The library's own head appending (model/target-graph.ts), with the output's shape as given.
  const model = decodeModel(bytes);
  const shapes = new Map(inferShapes(model));
  shapes.set(output, { name: output, dtype: 'float32', shape: outputShape });
  const g = targetGraph({ bytes, model, shapes }, output, decoder.head);
  return { bytes: g.forwardBytes, t: g.explained, input };
}

const f32 = (data: Float32Array, dims: readonly number[]): Float32Tensor => ({
  dtype: 'float32',
  data,
  dims,
});

/** T's value and the gradient of T[row, cell] with respect to the graph input `x`. */
export async function headGradient(
  m: HeadModel,
  x: Float32Tensor,
  row: number,
  cell: number,
): Promise<{ t: Float32Tensor; grad: Float32Array }> {
  const t = await headValue(m, x);
  const compiled = compileGradients(m.bytes, decodeModel(m.bytes), {
    wrt: [m.input],
    explained: m.t,
    beforeSoftmax: false,
  });
  const seed = new Float32Array(t.data.length);
  seed[row * rowSize(t) + cell] = 1;
  const session = await nodeRuntime.createSession(compiled.bytes, { threads: 1 });
  try {
    const outs = await session.run({ [m.input]: x, [compiled.seed.name]: f32(seed, t.dims) });
    return { t, grad: outs[compiled.outputs[0]!.grad]!.data as Float32Array };
  } finally {
    await session.release();
  }
}

const rowSize = (t: Tensor) => t.data.length / t.dims[0]!;

/** T and the model's own outputs, from a forward run. */
export async function headValue(m: HeadModel, x: Float32Tensor, fetch?: string): Promise<Float32Tensor> {
  const session = await nodeRuntime.createSession(m.bytes, { threads: 1 });
  try {
    const name = fetch ?? m.t;
    return (await session.run({ [m.input]: x }, [name]))[name] as Float32Tensor;
  } finally {
    await session.release();
  }
}

/** Central differences of T[row, cell] with respect to every element of x. */
export async function finiteDifferences(
  m: HeadModel,
  x: Float32Tensor,
  row: number,
  cell: number,
  eps = 1e-3,
) {
  const session = await nodeRuntime.createSession(m.bytes, { threads: 1 });
  try {
    const at = async (data: Float32Array) => {
      const t = (await session.run({ [m.input]: f32(data, x.dims) }, [m.t]))[m.t]!;
      return (t.data as Float32Array)[row * rowSize(t) + cell]!;
    };
    const fd = new Float32Array(x.data.length);
    for (let i = 0; i < x.data.length; i++) {
      const xp = Float32Array.from(x.data);
      const xm = Float32Array.from(x.data);
      xp[i] = x.data[i]! + eps;
      xm[i] = x.data[i]! - eps;
      fd[i] = ((await at(xp)) - (await at(xm))) / (xp[i]! - xm[i]!);
    }
    return fd;
  } finally {
    await session.release();
  }
}

/** (T[row, cell](x + εv) − T[row, cell](x − εv)) / 2ε: one finite difference along a direction. */
export async function directionalDifference(
  m: HeadModel,
  x: Float32Tensor,
  row: number,
  cell: number,
  v: Float32Array,
  eps: number,
): Promise<number> {
  const session = await nodeRuntime.createSession(m.bytes, { threads: 1 });
  try {
    const at = async (sign: number) => {
      const data = x.data.map((xi, i) => xi + sign * eps * v[i]!);
      const t = (await session.run({ [m.input]: f32(data, x.dims) }, [m.t]))[m.t]!;
      return (t.data as Float32Array)[row * rowSize(t) + cell]!;
    };
    return ((await at(1)) - (await at(-1))) / (2 * eps);
  } finally {
    await session.release();
  }
}
