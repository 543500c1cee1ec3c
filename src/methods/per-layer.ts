// Runs a per-layer CAM function over every target layer of a method context.

import type { Float32Tensor } from '../tensor/tensor.ts';
import type { MethodContext, MethodResult } from './types.ts';

export async function perLayer(
  ctx: MethodContext,
  f: (
    a: Float32Tensor,
    g: Float32Tensor | undefined,
    layer: string,
  ) => Float32Tensor | Promise<Float32Tensor>,
  withGradients = true,
): Promise<MethodResult> {
  const out = new Map<string, Float32Tensor>();
  for (const layer of ctx.layers) {
    const a = await ctx.activations(layer);
    out.set(layer, await f(a, withGradients ? await ctx.gradients(layer) : undefined, layer));
  }
  return { kind: 'cam', perLayer: out };
}
