// Reading the weights of a "global average pooling + linear" head, which CAM needs: from the layer,
// a chain of single-consumer nodes: a global pooling (GlobalAveragePool, a full-size AveragePool, or
// ReduceMean over H, W), optional reshapes, then a linear map (Gemm, MatMul [+ Add], or a 1×1 Conv),
// then optional reshapes up to the target. A 1×1 Conv before the pooling (still linear) is accepted
// too; anything non-linear on the way (a ReLU, another conv) means CAM does not apply.

import { GradsightError } from '../errors.ts';
import { type Graph, getFloat, getInt, getInts, type Node, type ValueInfo } from '../onnx/index.ts';

export interface GapHead {
  /** Row-major [classes, channels]. Shared between calls (see `heads`): do not write to it. */
  readonly weights: Float32Array;
  readonly classes: number;
  readonly channels: number;
}

const RESHAPES = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout']);

/**
 * Heads read before, per graph, by layer, target and the layer's shape (a full-size AveragePool is a
 * global pooling only at the size it was checked at): reading one walks the head and, for a Gemm or
 * MatMul, copies its weights into [classes, channels] order (2 M values on ResNet-50), which CAM would
 * otherwise pay on every call.
 */
const heads = new WeakMap<Graph, Map<string, GapHead>>();

export function gapHeadWeights(
  g: Graph,
  shapes: ReadonlyMap<string, ValueInfo>,
  layer: string,
  target: string,
): GapHead {
  const key = JSON.stringify([layer, target, shapes.get(layer)?.shape ?? null]);
  let byKey = heads.get(g);
  if (!byKey) {
    byKey = new Map();
    heads.set(g, byKey);
  }
  const known = byKey.get(key);
  if (known) return known;
  const head = readHead(g, shapes, layer, target);
  byKey.set(key, head);
  return head;
}

function readHead(g: Graph, shapes: ReadonlyMap<string, ValueInfo>, layer: string, target: string): GapHead {
  const path: string[] = [];
  const fail = (why: string) =>
    new GradsightError(
      'method-not-applicable',
      `CAM needs a global-average-pooling + linear head after ${layer}: ${why}`,
      {
        hint: 'use gradcam instead (it equals CAM on such heads), or pick the last feature map before the pooling with --layer',
        details: { layer, path },
      },
    );
  const next = (t: string): Node => {
    const consumers = g.consumers.get(t) ?? [];
    if (consumers.length !== 1) throw fail(`${t} feeds ${consumers.length} nodes`);
    path.push(consumers[0]!.opType);
    return consumers[0]!;
  };
  const channels = shapes.get(layer)?.shape?.[1];
  if (typeof channels !== 'number') throw fail('its channel count is unknown');
  let linear: { weights: Float32Array; classes: number } | undefined;
  let pooled = false;
  let t = layer;
  while (t !== target) {
    const node = next(t);
    const out = node.outputs[0]!;
    if (isGlobalPool(node, shapes)) {
      if (pooled) throw fail('it pools twice');
      pooled = true;
    } else if (RESHAPES.has(node.opType)) {
      // shape only
    } else if (!linear && (node.opType === 'Conv' || node.opType === 'Gemm' || node.opType === 'MatMul')) {
      linear = linearWeights(g, node, channels, fail);
    } else if (linear && node.opType === 'Add' && isConstant(g, node.inputs[1] ?? '')) {
      // bias: irrelevant to CAM
    } else {
      throw fail(`${node.opType} node '${node.name}' is not part of a GAP + linear head`);
    }
    t = out;
  }
  if (!pooled) throw fail('no global average pooling leads to the target');
  if (!linear) throw fail('no linear layer leads to the target');
  return { ...linear, channels };
}

function isGlobalPool(node: Node, shapes: ReadonlyMap<string, ValueInfo>): boolean {
  if (node.opType === 'GlobalAveragePool') return true;
  const s = shapes.get(node.inputs[0] ?? '')?.shape;
  if (node.opType === 'AveragePool') {
    const k = getInts(node, 'kernel_shape');
    const pads = getInts(node, 'pads', [0, 0, 0, 0]);
    return s !== undefined && k[0] === s[2] && k[1] === s[3] && pads.every((p) => p === 0);
  }
  if (node.opType === 'ReduceMean') {
    const axes = node.attributes.has('axes') ? getInts(node, 'axes') : [];
    return (
      [...axes]
        .map((a) => (a < 0 ? a + 4 : a))
        .sort()
        .join() === '2,3'
    );
  }
  return false;
}

function isConstant(g: Graph, name: string): boolean {
  return g.initializers.has(name) || g.producers.get(name)?.opType === 'Constant';
}

function linearWeights(
  g: Graph,
  node: Node,
  channels: number,
  fail: (why: string) => GradsightError,
): { weights: Float32Array; classes: number } {
  const w = g.initializers.get(node.inputs[1] ?? '');
  if (w?.dtype !== 'float32')
    throw fail(`the weights of ${node.opType} '${node.name}' are not a float32 constant`);
  const values = w.values() as Float32Array;
  const dims = w.dims;
  if (node.opType === 'Conv') {
    if (
      dims.length !== 4 ||
      dims[1] !== channels ||
      dims[2] !== 1 ||
      dims[3] !== 1 ||
      getInt(node, 'group', 1) !== 1
    ) {
      throw fail(`Conv '${node.name}' is not a 1×1 convolution over the ${channels} channels`);
    }
    return { weights: values, classes: dims[0]! };
  }
  // Gemm: y = α·x·op(W); MatMul: y = x·W with W [C, K].
  const transB = node.opType === 'Gemm' ? getInt(node, 'transB', 0) : 0;
  if (node.opType === 'Gemm' && getInt(node, 'transA', 0) !== 0)
    throw fail(`Gemm '${node.name}' transposes its input`);
  const alpha = node.opType === 'Gemm' ? getFloat(node, 'alpha', 1) : 1;
  const [r, c] = dims as [number, number];
  const classes = transB ? r : c;
  if (dims.length !== 2 || (transB ? c : r) !== channels)
    throw fail(`${node.opType} '${node.name}' does not map ${channels} channels`);
  const out = new Float32Array(classes * channels);
  for (let k = 0; k < classes; k++) {
    for (let ch = 0; ch < channels; ch++)
      out[k * channels + ch] = alpha * (transB ? values[k * channels + ch]! : values[ch * classes + k]!);
  }
  return { weights: out, classes };
}
