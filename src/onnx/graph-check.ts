// Checks on a decoded main graph that the IR builder and ONNX Runtime would otherwise meet later
// and less clearly: names defined twice, and graph outputs that nothing computes.

import type { GraphProto } from 'onnx-buf';
import { GradsightError } from '../errors.ts';

const hint = 'the graph is not a valid ONNX graph; re-export the model';

export function checkGraphNames(g: GraphProto): void {
  const invalid = (message: string, details: Record<string, unknown>) =>
    new GradsightError('model-invalid', message, { hint, details });
  const initializers = new Set<string>();
  for (const t of g.initializer) {
    // Two initializers with one name: which one a runtime uses is unspecified.
    if (initializers.has(t.name))
      throw invalid(`initializer '${t.name}' is defined twice`, { tensor: t.name });
    initializers.add(t.name);
  }
  const inputs = new Set<string>();
  for (const i of g.input) {
    if (inputs.has(i.name)) throw invalid(`graph input '${i.name}' is declared twice`, { tensor: i.name });
    inputs.add(i.name);
  }
  if (g.output.length === 0) throw invalid('the graph has no outputs', {});
  const computed = new Set([...inputs, ...initializers, ...g.node.flatMap((n) => n.output)]);
  for (const o of g.output) {
    if (!computed.has(o.name)) {
      throw invalid(`graph output '${o.name}' is not computed by any node, initializer or input`, {
        tensor: o.name,
      });
    }
  }
}
