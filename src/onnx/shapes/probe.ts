// Fallback shape inference: expose the wanted tensors as extra graph outputs (appended, not
// re-encoded), run the model once on zeros and read the actual dims. Uses only the Runtime interface.

import { GradsightError } from '../../errors.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import { type DType, sizeOf, type Tensor } from '../../tensor/tensor.ts';
import { appendGraphOutputs } from '../append.ts';
import { encodeModel } from '../codec.ts';
import type { Model, ValueInfo } from '../ir.ts';
import { zerosOf } from '../tensor-data.ts';
import { type InputShapes, inferShapes, unresolved } from './infer.ts';

/**
 * Runs `model` once and returns the dims of `names` (default: every node output). `inputShapes` must
 * fix every dim of every graph input the file leaves symbolic.
 */
export async function probeShapes(
  runtime: Runtime,
  model: Model,
  inputShapes: InputShapes,
  names?: readonly string[],
): Promise<Map<string, number[]>> {
  const g = model.graph;
  const wanted = names ?? g.nodes.flatMap((n) => n.outputs.filter((o) => o !== ''));
  const existing = new Set(g.outputs.map((o) => o.name));
  const extra = [...new Set(wanted)].filter((n) => !existing.has(n) && g.producers.has(n));
  const bytes = appendGraphOutputs(encodeModel(model), extra);
  const feeds: Record<string, Tensor> = {};
  for (const input of g.inputs) {
    const dims = inputShapes[input.name] ?? input.shape;
    if (!dims?.every((d): d is number => typeof d === 'number')) {
      throw new GradsightError(
        'shape-inference',
        `cannot probe shapes: input '${input.name}' has no fixed shape`,
        {
          hint: 'pass the input dims, e.g. { input: [1, 3, 224, 224] }',
          details: { input: input.name },
        },
      );
    }
    feeds[input.name] = zeros(input.dtype ?? 'float32', dims, input.name);
  }
  // Optimisations could fold away the tensors being asked about; this run is for shapes only.
  const session = await runtime.createSession(bytes, { optimization: 'disabled' });
  try {
    const fetch = wanted.filter((n) => existing.has(n) || g.producers.has(n));
    const result = await session.run(feeds, [...new Set(fetch)]);
    return new Map(Object.entries(result).map(([name, t]) => [name, [...t.dims]]));
  } finally {
    await session.release();
  }
}

/** Static inference first; one probe run only for the tensors it left unresolved. */
export async function inferShapesWithFallback(
  runtime: Runtime,
  model: Model,
  inputShapes: InputShapes,
): Promise<ReadonlyMap<string, ValueInfo>> {
  const shapes = new Map(inferShapes(model, inputShapes));
  const missing = unresolved(model, shapes).filter((n) => model.graph.producers.has(n));
  if (missing.length === 0) return shapes;
  const probed = await probeShapes(runtime, model, inputShapes, missing);
  for (const [name, dims] of probed) shapes.set(name, { name, dtype: shapes.get(name)?.dtype, shape: dims });
  return shapes;
}

function zeros(dtype: DType, dims: readonly number[], name: string): Tensor {
  const n = sizeOf(dims);
  const data = zerosOf(dtype, n);
  if (!data) {
    throw new GradsightError('unsupported-dtype', `cannot probe shapes: input '${name}' is ${dtype}`, {
      details: { input: name },
    });
  }
  return { dtype, dims, data };
}
