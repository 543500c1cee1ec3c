// Which tensor is differentiated. For a graph output produced by Softmax or LogSoftmax (possibly
// behind Reshape/Flatten/Identity/Squeeze/Dropout), the scores before it: Grad-CAM explains y^c
// before the softmax. Any other output, or any intermediate tensor, is differentiated as is.

import { closestNames, GradsightError } from '../errors.ts';
import type { Graph } from '../onnx/index.ts';

const TRANSPARENT = new Set(['Reshape', 'Flatten', 'Identity', 'Squeeze', 'Unsqueeze', 'Dropout']);

export function explainedTensor(g: Graph, name: string | undefined, beforeSoftmax: boolean): string {
  const chosen = name ?? g.outputs[0]?.name;
  if (chosen === undefined) throw new GradsightError('model-invalid', 'the model has no outputs');
  const exists = g.producers.has(chosen) || g.inputs.some((i) => i.name === chosen);
  if (!exists) {
    throw new GradsightError(
      'tensor-not-found',
      `the model has no output or tensor named ${JSON.stringify(chosen)}`,
      {
        hint: `outputs: ${g.outputs.map((o) => o.name).join(', ')}; closest tensors: ${closestNames(chosen, [...g.producers.keys()]).join(', ')}`,
        details: { tensor: chosen },
      },
    );
  }
  if (!beforeSoftmax || !g.outputs.some((o) => o.name === chosen)) return chosen;
  let cur = chosen;
  for (;;) {
    const node = g.producers.get(cur);
    if (!node) return chosen;
    if (node.opType === 'Softmax' || node.opType === 'LogSoftmax') return node.inputs[0]!;
    if (!TRANSPARENT.has(node.opType)) return chosen;
    cur = node.inputs[0]!;
  }
}
