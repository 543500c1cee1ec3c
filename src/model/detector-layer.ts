// The default Grad-CAM layer of a detector: the last feature map that every path from the image to the
// detection output passes through (its immediate dominator among the spatial maps). Detection heads
// branch (objectness, box regression, class scores, often at several scales) and merge again in the
// output's Concat, so walking back along one branch would stop inside the head; the map the branches
// share is the backbone's (or neck's) last word on the image, as pytorch-grad-cam's detection
// tutorials pick it.

import { GradsightError } from '../errors.ts';
import type { Graph, ValueInfo } from '../onnx/index.ts';
import type { LayerLayout } from './layer-view.ts';
import { candidateLayers, type LayerInfo, resolveLayers } from './layers.ts';

export function detectorLayer(
  graph: Graph,
  shapes: ReadonlyMap<string, ValueInfo>,
  output: string,
  layout?: LayerLayout,
): LayerInfo {
  const inputs = new Set(graph.inputs.map((i) => i.name));
  // Does every path from a graph input to `output` pass through `t`? Walk back from the output
  // without crossing t; reaching an input means a path avoids it.
  const dominates = (t: string): boolean => {
    const seen = new Set<string>([t]);
    const stack = [output];
    while (stack.length) {
      const x = stack.pop()!;
      if (inputs.has(x)) return false;
      const node = graph.producers.get(x);
      for (const i of node?.inputs ?? []) {
        if (i !== '' && !seen.has(i) && !graph.initializers.has(i)) {
          seen.add(i);
          stack.push(i);
        }
      }
    }
    return true;
  };
  const order = new Map(graph.nodes.map((n, i) => [n.outputs[0] ?? '', i]));
  const candidates = candidateLayers(graph, shapes)
    .filter((l) => l.name !== output)
    .sort((a, b) => (order.get(b.name) ?? 0) - (order.get(a.name) ?? 0));
  const hit = candidates.find((l) => dominates(l.name));
  if (!hit) {
    throw new GradsightError('no-default-layer', `no spatial feature map feeds every branch of ${output}`, {
      hint: 'name a layer explicitly with --layer; `gradsight inspect` lists the candidates',
    });
  }
  return resolveLayers(graph, shapes, [hit.name], layout)[0]!;
}
