// Which tensors can be Grad-CAM target layers, and which one to use when the user names none.
//
// A candidate is any 4-D tensor (NCHW) produced by a node with a spatial size > 1. The default is the
// last spatial feature map before the head: walk back from the output through head ops (pooling,
// flatten/reshape, the classifier Gemm/MatMul or 1×1 "classifier conv" whose channel count equals the
// number of classes, the activation and dropout right after it, resizes) and take the first spatial
// map that the backbone produced. For SqueezeNet this skips the 1000-channel classifier conv; for
// DeepLab it skips the 21-channel logits conv and the final resize.

import { closestNames, GradsightError } from '../errors.ts';
import type { Graph, Node, ValueInfo } from '../onnx/index.ts';

export interface LayerInfo {
  readonly name: string;
  readonly shape: readonly (number | string | null)[];
  readonly op: string;
  readonly node: string;
}

type Shapes = ReadonlyMap<string, ValueInfo>;

export function candidateLayers(graph: Graph, shapes: Shapes): LayerInfo[] {
  const out: LayerInfo[] = [];
  for (const node of graph.nodes) {
    for (const name of node.outputs) {
      if (name && isSpatialMap(shapes.get(name))) {
        out.push({ name, shape: shapes.get(name)!.shape!, op: node.opType, node: node.name });
      }
    }
  }
  return out;
}

function isSpatialMap(v: ValueInfo | undefined): boolean {
  const s = v?.shape;
  if (s?.length !== 4) return false;
  const h = s[2];
  const w = s[3];
  // Unknown spatial dims (symbolic) still count: a fully convolutional model with dynamic size.
  const big = (d: number | string | null | undefined) => typeof d !== 'number' || d > 1;
  return big(h) && big(w) && (typeof h !== 'number' || typeof w !== 'number' || h * w > 1);
}

/** Ops that belong to a classification/segmentation head rather than to the feature extractor. */
const HEAD_OPS = new Set([
  'GlobalAveragePool',
  'GlobalMaxPool',
  'AveragePool',
  'MaxPool',
  'Flatten',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
  'Transpose',
  'Gemm',
  'MatMul',
  'Softmax',
  'LogSoftmax',
  'Sigmoid',
  'Dropout',
  'Identity',
  'Resize',
  'Upsample',
  'ReduceMean',
  'ReduceMax',
  'Cast',
]);
const ACTIVATIONS = new Set(['Relu', 'Clip', 'LeakyRelu', 'Sigmoid', 'HardSwish', 'HardSigmoid', 'Tanh']);

/**
 * The default Grad-CAM layer for `output` (default: the first graph output). Throws 'no-default-layer'
 * when the graph has no spatial feature map on the path to the output.
 */
export function defaultLayer(graph: Graph, shapes: Shapes, output?: string): LayerInfo {
  const target = output ?? graph.outputs[0]?.name;
  if (!target) throw new GradsightError('no-default-layer', 'the model has no outputs');
  const classes = classCount(shapes.get(target));
  const candidates = new Map(candidateLayers(graph, shapes).map((l) => [l.name, l]));
  const seen = new Set<string>();
  // Breadth-first from the output along data inputs (not weights). `linear` records that a
  // Gemm/MatMul/Conv head was already passed: a conv further back is then part of the backbone, even
  // when its channel count happens to equal the number of classes.
  let frontier: { name: string; linear: boolean }[] = [{ name: target, linear: false }];
  while (frontier.length) {
    const next: { name: string; linear: boolean }[] = [];
    for (const { name, linear } of frontier) {
      if (seen.has(name)) continue;
      seen.add(name);
      const node = graph.producers.get(name);
      if (!node) continue;
      const layer = candidates.get(name);
      if (layer && !isHeadNode(node, graph, shapes, linear ? undefined : classes)) return layer;
      const passed = linear || LINEAR.has(node.opType);
      next.push(...dataInputs(node, graph).map((n) => ({ name: n, linear: passed })));
    }
    frontier = next;
  }
  throw new GradsightError('no-default-layer', `no 4-D spatial feature map leads to output ${target}`, {
    hint: 'name a layer explicitly with --layer; `gradsight inspect` lists the candidates',
  });
}

const LINEAR = new Set(['Gemm', 'MatMul', 'Conv']);

function isHeadNode(node: Node, graph: Graph, shapes: Shapes, classes: number | undefined): boolean {
  if (HEAD_OPS.has(node.opType)) return true;
  if (node.opType === 'Conv') return isClassifierConv(node, shapes, classes);
  // The activation directly on top of a classifier conv (SqueezeNet's final ReLU).
  if (ACTIVATIONS.has(node.opType)) {
    const producer = graph.producers.get(node.inputs[0] ?? '');
    return producer?.opType === 'Conv' && isClassifierConv(producer, shapes, classes);
  }
  return false;
}

/** A conv whose output has one channel per class: the classifier of a fully convolutional head. */
function isClassifierConv(node: Node, shapes: Shapes, classes: number | undefined): boolean {
  if (classes === undefined) return false;
  return shapes.get(node.outputs[0] ?? '')?.shape?.[1] === classes;
}

/** Number of classes: the channel axis of a dense [N,C,H,W] output, else the last axis. */
function classCount(v: ValueInfo | undefined): number | undefined {
  const s = v?.shape;
  if (!s || s.length < 2) return undefined;
  const c = s.length === 4 ? s[1] : s[s.length - 1];
  return typeof c === 'number' && c > 1 ? c : undefined;
}

function dataInputs(node: Node, graph: Graph): string[] {
  return node.inputs.filter((i) => i !== '' && !graph.initializers.has(i));
}

/** Finds a layer by exact tensor name, or throws 'layer-not-found' with the closest names. */
export function findLayer(layers: readonly LayerInfo[], name: string): LayerInfo {
  const hit = layers.find((l) => l.name === name);
  if (hit) return hit;
  const close = closestNames(
    name,
    layers.map((l) => l.name),
  );
  throw new GradsightError('layer-not-found', `no spatial feature map named ${JSON.stringify(name)}`, {
    hint: close.length ? `closest layers: ${close.join(', ')}` : 'this model has no 4-D spatial feature maps',
    details: { layer: name, closest: close },
  });
}
