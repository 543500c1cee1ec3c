// The part of a model after one layer, as a model of its own whose input is that layer: Ablation-CAM
// (and layer ranking) run it on edited activations without recomputing the layers before. Built from
// the decoded proto, so the weights it uses are encoded once more; the rest of the model is left out.

import { create, toBinary } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, ValueInfoProtoSchema } from 'onnx-buf';
import { GradsightError } from '../errors.ts';
import { dtypeToOnnx, type Model, type Shape, tensorValueInfo } from '../onnx/index.ts';

/** Bytes of a model with input `layer` and output `target`. */
export function tailModel(model: Model, layer: string, target: string, layerShape?: Shape): Uint8Array {
  const g = model.graph;
  const proto = model.proto.graph!;
  // Nodes the target needs, walking back until the layer.
  const needed = new Set<string>();
  const stack = [target];
  const tensors = new Set<string>([target]);
  while (stack.length) {
    const t = stack.pop()!;
    if (t === layer) continue;
    const node = g.producers.get(t);
    if (!node) continue;
    if (needed.has(node.name)) continue;
    needed.add(node.name);
    for (const i of node.inputs) {
      if (i !== '' && !tensors.has(i)) {
        tensors.add(i);
        stack.push(i);
      }
    }
  }
  const nodes = g.nodes.filter((n) => needed.has(n.name));
  const produced = new Set(nodes.flatMap((n) => n.outputs));
  const inputs = new Set(g.inputs.map((i) => i.name));
  const frontier = [...tensors].filter((t) => t !== layer && !produced.has(t) && !g.initializers.has(t));
  if (frontier.some((t) => inputs.has(t)) || !tensors.has(layer)) {
    throw new GradsightError(
      'method-not-applicable',
      `the output ${target} does not depend on ${layer} alone (${frontier.join(', ') || 'no path'} also feeds it)`,
      { hint: 'pick a layer that every path to the output passes through, e.g. the default layer' },
    );
  }
  // In topological order; IR nodes and proto nodes correspond through their (unique) first output.
  const protoByOutput = new Map(proto.node.map((n) => [n.output[0] ?? '', n]));
  const protoNodes = nodes.map((n) => protoByOutput.get(n.outputs[0]!)!);
  const used = new Set(nodes.flatMap((n) => n.inputs));
  // The input needs a type: the file's value_info, else float32 with the inferred shape.
  const layerInfo =
    proto.valueInfo.find((v) => v.name === layer && v.type) ??
    create(
      ValueInfoProtoSchema,
      tensorValueInfo(
        layer,
        dtypeToOnnx('float32'),
        (layerShape ?? []).map((d) => d ?? 'batch'),
      ),
    );
  const graph = create(GraphProtoSchema, {
    name: `${proto.name}-after-${layer}`,
    node: protoNodes,
    initializer: proto.initializer.filter((t) => used.has(t.name)),
    input: [create(ValueInfoProtoSchema, { ...layerInfo, name: layer })],
    output: [create(ValueInfoProtoSchema, { name: target })],
  });
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, { ...model.proto, graph, trainingInfo: [], functions: model.proto.functions }),
  );
}
