// The part of a model after one layer, as a model of its own whose input is that layer: Ablation-CAM
// (and layer ranking) run it on edited activations without recomputing the layers before. Built from
// the decoded proto, so the weights it uses are encoded once more; the rest of the model is left out.
// A layer read through a view (layer-view.ts) takes the viewed N×C×H×W map: the inverse view turns it
// back into the layer's own layout before the rest of the model.

import { create, toBinary } from '@bufbuild/protobuf';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import { GradsightError } from '../errors.ts';
import { dtypeToOnnx, type Model, type Shape, tensorValueInfo } from '../onnx/index.ts';
import { emitInverseView, type LayerView, viewEmitter, viewedShape } from './layer-view.ts';

/**
 * Bytes of a model with input `layer` and output `target`; with a `view`, the input is the viewed
 * map and `method` names who needs it in the error when the view has no inverse.
 */
export function tailModel(
  model: Model,
  layer: string,
  target: string,
  layerShape?: Shape,
  view?: LayerView,
  method = 'Ablation-CAM',
  /** Graph inputs besides the layer the tail may read (a question's tokens): they stay inputs. */
  extraInputs: readonly string[] = [],
): Uint8Array {
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
  const frontier = [...tensors].filter(
    (t) => t !== layer && !produced.has(t) && !g.initializers.has(t) && !extraInputs.includes(t),
  );
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
  const inverse = inverseNodes(model, layer, layerShape, view, method);
  const graph = create(GraphProtoSchema, {
    name: `${proto.name}-after-${layer}`,
    node: inverse
      ? [
          ...inverse.nodes,
          ...protoNodes.map((n) =>
            create(NodeProtoSchema, { ...n, input: n.input.map((i) => (i === layer ? inverse.output : i)) }),
          ),
        ]
      : protoNodes,
    initializer: [...proto.initializer.filter((t) => used.has(t.name)), ...(inverse?.initializers ?? [])],
    input: [
      inverse
        ? create(ValueInfoProtoSchema, tensorValueInfo(layer, dtypeToOnnx('float32'), inverse.shape))
        : create(ValueInfoProtoSchema, { ...layerInfo, name: layer }),
      ...proto.input.filter((i) => extraInputs.includes(i.name) && tensors.has(i.name)),
    ],
    output: [create(ValueInfoProtoSchema, { name: target })],
  });
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, { ...model.proto, graph, trainingInfo: [], functions: model.proto.functions }),
  );
}

/** The inverse view's nodes: the viewed input `layer` back to the layer's layout, as `output`. */
function inverseNodes(
  model: Model,
  layer: string,
  shape: Shape | undefined,
  view: LayerView | undefined,
  method: string,
) {
  if (!view || view.kind === 'nchw') return undefined;
  const e = viewEmitter(model.opsets.get('') ?? model.opsets.get('ai.onnx') ?? 13, 'gradsight-tail');
  const out = emitInverseView(e, layer, view, layer, method);
  const viewed = viewedShape(shape ?? [], view).map((d, i) =>
    i === 0 || typeof d !== 'number' ? 'batch' : d,
  );
  return {
    nodes: e.nodes.map((n) => create(NodeProtoSchema, n)),
    initializers: e.initializers.map((t) => create(TensorProtoSchema, t)),
    output: out,
    shape: viewed,
  };
}
