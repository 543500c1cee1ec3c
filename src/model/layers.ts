// Which tensors can be Grad-CAM target layers, and which one to use when the user names none.
//
// A candidate is a feature map a layer view can read as N×C×H×W (layer-view-infer.ts): a 4-D NCHW or
// channels-last map with a spatial size > 1, or a transformer's N×L×C tokens on its patch grid; a 4-D
// map whose layout cannot be told apart is listed without a view and refused when used unless the
// layout is stated. The default is the last spatial feature map before the head: walk back from the
// output through head ops (pooling, flatten/reshape, the classifier Gemm/MatMul or 1×1 "classifier
// conv" whose channel count equals the number of classes, the activation and dropout right after
// it, resizes) and take the first spatial map that the backbone produced. For SqueezeNet this skips
// the 1000-channel classifier conv; for DeepLab it skips the 21-channel logits conv and the final
// resize. Token maps whose patch tokens do not reach the output (a ViT's final LayerNorm, read only
// through the class token) are passed over for the last one whose patch tokens do: the input of the
// last attention block, as pytorch-grad-cam recommends.

import { closestNames, GradsightError } from '../errors.ts';
import type { Graph, Node, ValueInfo } from '../onnx/index.ts';
import {
  formatView,
  LAYOUT_FLAG,
  LAYOUT_SYNTAX,
  type LayerLayout,
  type LayerView,
  viewFromLayout,
} from './layer-view.ts';
import { inferView, type PatchGrid, patchGrids } from './layer-view-infer.ts';

export interface LayerInfo {
  readonly name: string;
  readonly shape: readonly (number | string | null)[];
  readonly op: string;
  readonly node: string;
  /** How the tensor is read as N×C×H×W; undefined when its layout is ambiguous (see layoutProblem). */
  readonly view: LayerView | undefined;
  readonly layoutProblem?: string;
}

type Shapes = ReadonlyMap<string, ValueInfo>;

export function candidateLayers(graph: Graph, shapes: Shapes): LayerInfo[] {
  const out: LayerInfo[] = [];
  const grids = patchGrids(graph, shapes);
  const batch = shapes.get(graph.inputs[0]?.name ?? '')?.shape?.[0];
  for (const node of graph.nodes) {
    for (const name of node.outputs) {
      if (!name) continue;
      const shape = shapes.get(name)?.shape;
      // Tokens must keep the image batch on axis 0 (not attention heads or windows).
      if (shape?.length === 3 && shape[0] !== batch) continue;
      const inferred = inferView(graph, shapes, name, grids);
      if (!inferred) continue;
      out.push({
        name,
        shape: shape!,
        op: node.opType,
        node: node.name,
        view: inferred.view,
        ...(inferred.problem ? { layoutProblem: inferred.problem } : {}),
      });
    }
  }
  return out;
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
export function defaultLayer(
  graph: Graph,
  shapes: Shapes,
  output?: string,
  layout?: LayerLayout,
  /** Tensors that cannot be the default (a language model's: those its token input reaches). */
  exclude?: ReadonlySet<string>,
): LayerInfo {
  const target = output ?? graph.outputs[0]?.name;
  if (!target) throw new GradsightError('no-default-layer', 'the model has no outputs');
  const all = candidateLayers(graph, shapes).filter((l) => !exclude?.has(l.name));
  const found = walkToDefault(graph, shapes, target, all);
  const layer = found.view?.kind === 'tokens' ? liveTokenLayer(graph, target, all, found) : found;
  return withLayout(layer, layout, patchGrids(graph, shapes));
}

function walkToDefault(graph: Graph, shapes: Shapes, target: string, all: readonly LayerInfo[]): LayerInfo {
  const classes = classCount(shapes.get(target));
  const candidates = new Map(all.map((l) => [l.name, l]));
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

/**
 * The latest token map whose patch tokens reach `target` (`found` when it is one). Walking back from
 * the target, a Gather or Slice taking leading tokens on axis 1 cuts the patch tokens off, and a
 * MatMul of two computed tensors (attention) mixes them back in.
 */
function liveTokenLayer(
  graph: Graph,
  target: string,
  all: readonly LayerInfo[],
  found: LayerInfo,
): LayerInfo {
  const live = new Map<string, boolean>([[target, true]]);
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k]!;
    const states = node.outputs.map((o) => live.get(o)).filter((v) => v !== undefined);
    if (!states.length) continue;
    const out = states.some(Boolean);
    const state = takesLeadingTokens(graph, node) ? false : mixesTokens(graph, node) ? true : out;
    for (const i of dataInputs(node, graph)) live.set(i, live.get(i) === true || state);
  }
  if (live.get(found.name)) return found;
  const tokens = all.filter((l) => l.view?.kind === 'tokens' && live.get(l.name));
  return tokens[tokens.length - 1] ?? found;
}

function takesLeadingTokens(graph: Graph, node: Node): boolean {
  const axis = node.attributes.get('axis')?.value;
  if (node.opType === 'Gather') {
    const idx = graph.initializers.get(node.inputs[1] ?? '')?.values() ?? constantOf(graph, node.inputs[1]);
    return (axis?.kind === 'int' ? axis.value : 0) === 1 && idx !== undefined && idx.length <= 8;
  }
  return false;
}

function constantOf(graph: Graph, name: string | undefined) {
  const p = graph.producers.get(name ?? '');
  const v = p?.opType === 'Constant' ? p.attributes.get('value')?.value : undefined;
  return v?.kind === 'tensor' ? v.value.values() : undefined;
}

function mixesTokens(graph: Graph, node: Node): boolean {
  if (node.opType !== 'MatMul' && node.opType !== 'Einsum') return false;
  return dataInputs(node, graph).filter((i) => graph.producers.get(i)?.opType !== 'Constant').length >= 2;
}

/** The layer read with the stated layout, or with its inferred view; refused when neither exists. */
export function withLayout(
  layer: LayerInfo,
  layout: LayerLayout | undefined,
  grids: readonly PatchGrid[] = [],
): LayerInfo {
  if (layout) {
    const grid = grids.length === 1 ? grids[0] : undefined;
    const view = viewFromLayout(layer.name, layer.shape, layout, grid);
    const { layoutProblem: _, ...rest } = layer;
    return { ...rest, view };
  }
  if (layer.view) return layer;
  throw new GradsightError(
    'layout-ambiguous',
    `the layout of layer ${layer.name} [${layer.shape.join(', ')}] is ambiguous: ${layer.layoutProblem ?? 'no view fits'}`,
    {
      hint: `state it with ${LAYOUT_FLAG} ${LAYOUT_SYNTAX} (library: layerLayout), e.g. ${LAYOUT_FLAG} nhwc for a channels-last map`,
      details: { layer: layer.name },
    },
  );
}

/**
 * Layers by name, each with its view: candidates, or with a stated layout any 3-D or 4-D tensor
 * (a token tensor no patch grid explains, say). Throws 'layer-not-found' or 'layout-ambiguous'.
 */
export function resolveLayers(
  graph: Graph,
  shapes: Shapes,
  names: readonly string[],
  layout?: LayerLayout,
): LayerInfo[] {
  const all = candidateLayers(graph, shapes);
  const grids = patchGrids(graph, shapes);
  return names.map((name) => {
    const shape = shapes.get(name)?.shape;
    const producer = graph.producers.get(name);
    const hit = all.find((l) => l.name === name);
    if (!hit && layout && producer && (shape?.length === 3 || shape?.length === 4)) {
      return withLayout(
        { name, shape, op: producer.opType, node: producer.name, view: undefined },
        layout,
        grids,
      );
    }
    if (!hit && shape?.length === 3 && producer) {
      throw new GradsightError(
        'layout-ambiguous',
        `${name} [${shape.join(', ')}] is N×L×C but its ${String(shape[1])} tokens match no patch grid of the model`,
        {
          hint: `state the token layout with ${LAYOUT_FLAG} tokens:SKIP:HxW (SKIP leading class tokens, an H×W grid)`,
          details: { layer: name },
        },
      );
    }
    return withLayout(findLayer(all, name), layout, grids);
  });
}

/** A layer's view for display: `nchw`, `nhwc`, `tokens:1:14x14`, or `?` when ambiguous. */
export function viewLabel(layer: LayerInfo): string {
  return layer.view ? formatView(layer.view) : '?';
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
    hint: close.length
      ? `closest layers: ${close.join(', ')}`
      : 'this model has no spatial feature maps (4-D maps or patch tokens)',
    details: { layer: name, closest: close },
  });
}
