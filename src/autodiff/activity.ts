// Activity analysis: only nodes on a path between the requested tensors and the explained tensor are
// differentiated. Also answers "which ops on that path lack a rule?" for `gradsight inspect`.

import type { Graph, Node, ValueInfo } from '../onnx/index.ts';
import { LOWERED_OPS } from './recurrent-cells.ts';
import type { RuleSet } from './rule.ts';

/** Every tensor the explained tensor depends on (including itself). */
export function upstreamOf(producers: ReadonlyMap<string, Node>, explained: string): Set<string> {
  const seen = new Set<string>([explained]);
  const stack = [explained];
  while (stack.length) {
    const node = producers.get(stack.pop()!);
    if (!node) continue;
    for (const i of node.inputs) {
      if (i !== '' && !seen.has(i)) {
        seen.add(i);
        stack.push(i);
      }
    }
  }
  return seen;
}

/** Every float tensor computed from the requested ones (integer and bool results carry no gradient). */
export function downstreamOf(
  nodes: readonly Node[],
  wrt: readonly string[],
  shapes: ReadonlyMap<string, ValueInfo>,
): Set<string> {
  const reach = new Set(wrt);
  for (const node of nodes) {
    if (!node.inputs.some((i) => reach.has(i))) continue;
    for (const o of node.outputs) {
      const dtype = shapes.get(o)?.dtype;
      if (o !== '' && (dtype === undefined || dtype.startsWith('float') || dtype === 'bfloat16'))
        reach.add(o);
    }
  }
  return reach;
}

/** Nodes between the graph inputs and `explained` whose op has no rule (nor an explicit stop) in `set`. */
export function nodesWithoutRule(
  g: Graph,
  explained: string,
  set: RuleSet,
  shapes: ReadonlyMap<string, ValueInfo>,
): Node[] {
  const back = upstreamOf(g.producers, explained);
  const forward = downstreamOf(
    g.nodes,
    g.inputs.map((i) => i.name),
    shapes,
  );
  return g.nodes.filter((n) => {
    if (!n.outputs.some((o) => back.has(o)) || !n.inputs.some((i) => forward.has(i))) return false;
    const onnx = n.domain === '' || n.domain === 'ai.onnx';
    if (onnx && LOWERED_OPS.includes(n.opType)) return false; // lowered before the walk
    return (onnx ? set.rules[n.opType] : undefined) === undefined;
  });
}
