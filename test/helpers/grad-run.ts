// Compiles a gradient model and runs it once on onnxruntime-node: the shared plumbing of the autodiff
// tests.

import { type CompileOptions, compileGradients, type GradientModel } from '../../src/autodiff/index.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';

export interface GradRun {
  readonly compiled: GradientModel;
  readonly values: Record<string, Tensor>;
  readonly grads: Record<string, Tensor>;
  readonly all: Record<string, Tensor>;
}

export async function runGradients(
  bytes: Uint8Array,
  options: CompileOptions,
  feeds: Record<string, Tensor>,
  seed: Tensor,
): Promise<GradRun> {
  const compiled = compileGradients(bytes, decodeModel(bytes), options);
  const session = await nodeRuntime.createSession(compiled.bytes);
  try {
    const all = await session.run({ ...feeds, [compiled.seed.name]: seed });
    const values: Record<string, Tensor> = {};
    const grads: Record<string, Tensor> = {};
    for (const o of compiled.outputs) {
      values[o.tensor] = all[o.value]!;
      grads[o.tensor] = all[o.grad]!;
    }
    return { compiled, values, grads, all };
  } finally {
    await session.release();
  }
}

export function oneHotSeed(n: number, k: number, classes: readonly number[]): Tensor {
  const data = new Float32Array(n * k);
  classes.forEach((c, i) => {
    data[i * k + c] = 1;
  });
  return { dtype: 'float32', dims: [n, k], data };
}

/** max |a − b| / max |b|: the relative error the pass criteria use. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den === 0 ? num : num / den;
}
