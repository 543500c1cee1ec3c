// Which view a tensor needs, inferred from its shape and the graph around it.
//
// 4-D maps: NCHW or channels-last. The shape alone rarely decides ([N, 7, 7, 768] could be either),
// so the producers are read first, back through layout-preserving ops (elementwise, activations,
// Pad, Slice, Resize, Concat): a Conv, pool or BatchNorm means NCHW; a Transpose to [0, 2, 3, 1], a
// MatMul with a weight (a Linear on the last axis), a LayerNormalization, or a broadcast operand
// reduced over the last axis (a decomposed LayerNorm's mean and variance, [N, H, W, 1]) means
// channels-last. Only when the graph says nothing does the shape decide (square H×W on one side
// only); conflicting or no evidence on a shape that fits both is ambiguous: no view, and a typed
// error when the layer is used (the user states the layout).
//
// 3-D N×L×C tokens: a vision transformer's patch embedding is a Conv whose [N, C, h, w] output is
// flattened into [N, h·w, C] tokens; a later N×L×C tensor with L = skip + h·w (class, distillation and
// register tokens first, at most MAX_SKIP of them) is read on that h×w grid.

import type { Graph, Node, Shape, ValueInfo } from '../onnx/index.ts';
import type { LayerView } from './layer-view.ts';

type Shapes = ReadonlyMap<string, ValueInfo>;
type Layout = 'nchw' | 'nhwc';

/** A patch grid: the Conv output flattened into tokens. */
export interface PatchGrid {
  readonly h: number;
  readonly w: number;
  /** The Conv output tensor. */
  readonly tensor: string;
}

export interface InferredView {
  /** The view, or undefined when the layout cannot be told apart (see `problem`). */
  readonly view: LayerView | undefined;
  readonly problem?: string;
}

/** Leading (non-patch) tokens allowed: class, distillation and a few register tokens. */
const MAX_SKIP = 8;

const NCHW_OPS = new Set([
  'Conv',
  'ConvTranspose',
  'ConvInteger',
  'QLinearConv',
  'MaxPool',
  'AveragePool',
  'LpPool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'BatchNormalization',
  'InstanceNormalization',
  'LRN',
  'DepthToSpace',
  'SpaceToDepth',
]);

/** Ops whose output has the layout of their (data) inputs. */
const PRESERVING = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Max',
  'Min',
  'Sum',
  'Mean',
  'Where',
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Elu',
  'Selu',
  'Celu',
  'Gelu',
  'Erf',
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Tanh',
  'Softplus',
  'Softsign',
  'Mish',
  'Clip',
  'Abs',
  'Neg',
  'Exp',
  'Log',
  'Sqrt',
  'Reciprocal',
  'Identity',
  'Dropout',
  'Cast',
  'Pad',
  'Slice',
  'Resize',
  'Upsample',
  'Concat',
  'Split',
]);

/** Patch grids of the graph: Conv outputs [N, C, h, w] flattened (maybe transposed) into tokens. */
export function patchGrids(graph: Graph, shapes: Shapes): PatchGrid[] {
  const grids: PatchGrid[] = [];
  for (const node of graph.nodes) {
    if (node.opType !== 'Conv') continue;
    const out = node.outputs[0]!;
    const s = shapes.get(out)?.shape;
    if (s?.length !== 4 || typeof s[1] !== 'number' || typeof s[2] !== 'number' || typeof s[3] !== 'number')
      continue;
    const [c, h, w] = [s[1], s[2], s[3]];
    if (h * w <= 1) continue;
    // Follow Reshape/Flatten/Transpose/Squeeze consumers up to three hops.
    let frontier = [out];
    let found = false;
    for (let hop = 0; hop < 3 && !found && frontier.length; hop++) {
      const next: string[] = [];
      for (const t of frontier) {
        for (const n of graph.consumers.get(t) ?? []) {
          if (!['Reshape', 'Flatten', 'Transpose', 'Squeeze'].includes(n.opType)) continue;
          const o = n.outputs[0]!;
          const os = shapes.get(o)?.shape;
          if (os?.length === 3 && ((os[1] === h * w && os[2] === c) || (os[1] === c && os[2] === h * w))) {
            found = found || os[1] === h * w;
          }
          next.push(o);
        }
      }
      frontier = next;
    }
    if (found) grids.push({ h, w, tensor: out });
  }
  return grids;
}

/**
 * The view of tensor `name`, or undefined when it is not a feature map at all (wrong rank, no
 * spatial extent, a 3-D tensor that no patch grid explains).
 */
export function inferView(
  graph: Graph,
  shapes: Shapes,
  name: string,
  grids: readonly PatchGrid[],
): InferredView | undefined {
  const s = shapes.get(name)?.shape;
  if (s?.length === 4) return infer4d(graph, shapes, name, s);
  if (s?.length === 3 && grids.length) return inferTokens(s, grids);
  return undefined;
}

const big = (d: Shape[number] | undefined) => typeof d !== 'number' || d > 1;

function infer4d(graph: Graph, shapes: Shapes, name: string, s: Shape): InferredView | undefined {
  const nchwFits = big(s[2]) && big(s[3]);
  const nhwcFits = big(s[1]) && big(s[2]);
  if (!nchwFits && !nhwcFits) return undefined;
  const found = evidence(graph, shapes, name);
  const fits = (l: Layout) => (l === 'nchw' ? nchwFits : nhwcFits);
  if (found.size === 1) {
    const [l] = [...found] as [Layout];
    if (fits(l)) return { view: { kind: l } };
    return undefined; // e.g. an NCHW map with a 1×W spatial size: not a feature map
  }
  const shape = `[${s.join(', ')}]`;
  if (found.size === 2)
    return { view: undefined, problem: `the graph reads ${shape} both as NCHW and as channels-last` };
  if (nchwFits !== nhwcFits) return { view: { kind: nchwFits ? 'nchw' : 'nhwc' } };
  // No evidence: a square spatial size on exactly one side decides.
  const squareNchw = s[2] === s[3] && s[1] !== s[2];
  const squareNhwc = s[1] === s[2] && s[2] !== s[3];
  if (squareNchw !== squareNhwc) return { view: { kind: squareNchw ? 'nchw' : 'nhwc' } };
  return { view: undefined, problem: `${shape} may be NCHW or channels-last and the graph does not tell` };
}

function inferTokens(s: Shape, grids: readonly PatchGrid[]): InferredView | undefined {
  const l = s[1];
  const c = s[2];
  if (typeof l !== 'number' || typeof c !== 'number' || c <= 1) return undefined;
  const fitting = grids.filter((g) => l - g.h * g.w >= 0 && l - g.h * g.w <= MAX_SKIP);
  if (fitting.length === 0) return undefined;
  const distinct = [...new Map(fitting.map((g) => [`${g.h}x${g.w}`, g])).values()];
  if (distinct.length > 1) {
    return {
      view: undefined,
      problem: `${l} tokens fit several patch grids (${distinct.map((g) => `${g.h}×${g.w}`).join(', ')})`,
    };
  }
  const g = distinct[0]!;
  return { view: { kind: 'tokens', skip: l - g.h * g.w, h: g.h, w: g.w } };
}

/** Layouts the producers of `name` imply (empty: no evidence; both: conflicting evidence). */
function evidence(graph: Graph, shapes: Shapes, name: string): Set<Layout> {
  const found = new Set<Layout>();
  const seen = new Set<string>();
  const stack = [name];
  let budget = 256;
  while (stack.length && budget-- > 0 && found.size < 2) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const ts = shapes.get(t)?.shape;
    const node = graph.producers.get(t);
    if (!node) {
      const input = graph.inputs.find((i) => i.name === t);
      const l = input && ts ? inputLayout(ts) : undefined;
      if (l) found.add(l);
      continue;
    }
    const direct = nodeLayout(graph, node);
    if (direct) {
      found.add(direct);
      continue;
    }
    if (!PRESERVING.has(node.opType) || ts?.length !== 4) continue;
    for (const i of node.inputs.slice(0, node.opType === 'Slice' || node.opType === 'Pad' ? 1 : undefined)) {
      if (!i) continue;
      const is = constantShape(graph, i) ?? shapes.get(i)?.shape;
      const l = is ? broadcastLayout(is, ts) : undefined;
      if (l) found.add(l);
      else if (!graph.initializers.has(i) && sameShape(is, ts)) stack.push(i);
    }
  }
  return found;
}

/** Layout an op fixes by itself. */
function nodeLayout(graph: Graph, node: Node): Layout | undefined {
  if (NCHW_OPS.has(node.opType)) return 'nchw';
  const ints = (a: string) => {
    const v = node.attributes.get(a)?.value;
    return v?.kind === 'ints' ? v.value : v?.kind === 'int' ? [v.value] : undefined;
  };
  if (node.opType === 'Transpose') {
    const p = ints('perm')?.join(',');
    return p === '0,2,3,1' ? 'nhwc' : p === '0,3,1,2' ? 'nchw' : undefined;
  }
  if (node.opType === 'LayerNormalization') {
    const axis = ints('axis')?.[0] ?? -1;
    return axis === -1 || axis === 3 ? 'nhwc' : undefined;
  }
  if (node.opType === 'Concat') {
    const axis = ints('axis')?.[0];
    return axis === 1 ? 'nchw' : axis === 3 || axis === -1 ? 'nhwc' : undefined;
  }
  // A Linear layer: MatMul with a 2-D weight acts on the last axis.
  if ((node.opType === 'MatMul' || node.opType === 'Gemm') && graph.initializers.get(node.inputs[1] ?? ''))
    return 'nhwc';
  return undefined;
}

/** What a broadcast operand of shape `b` says about a 4-D result of shape `t`. */
function broadcastLayout(b: Shape, t: Shape): Layout | undefined {
  const one = (d: Shape[number] | undefined) => d === 1;
  const full = (i: number) => typeof t[i] === 'number' && (t[i] as number) > 1;
  if (b.length === 1) return full(3) && b[0] === t[3] && !(full(1) && t[1] === t[3]) ? 'nhwc' : undefined;
  if (b.length === 3) return full(1) && b[0] === t[1] && one(b[1]) && one(b[2]) ? 'nchw' : undefined;
  if (b.length !== 4) return undefined;
  // Per-channel scale (SE block) or statistic over the channel axis.
  if (full(1) && b[1] === t[1] && one(b[2]) && one(b[3]) && full(2)) return 'nchw';
  if (full(3) && one(b[1]) && one(b[2]) && b[3] === t[3] && full(2)) return 'nhwc';
  if (full(3) && b[1] === t[1] && b[2] === t[2] && one(b[3]) && full(2)) return 'nhwc';
  if (full(1) && one(b[1]) && b[2] === t[2] && b[3] === t[3] && full(2)) return 'nchw';
  return undefined;
}

function inputLayout(s: Shape): Layout | undefined {
  if (s.length !== 4) return undefined;
  const small = (d: Shape[number] | undefined) => d === 1 || d === 3 || d === 4;
  if (small(s[1]) && !small(s[3])) return 'nchw';
  if (small(s[3]) && !small(s[1])) return 'nhwc';
  return undefined;
}

function constantShape(graph: Graph, name: string): Shape | undefined {
  const init = graph.initializers.get(name);
  if (init) return init.dims;
  const p = graph.producers.get(name);
  if (p?.opType !== 'Constant') return undefined;
  const v = p.attributes.get('value')?.value;
  return v?.kind === 'tensor' ? v.value.dims : undefined;
}

function sameShape(a: Shape | undefined, b: Shape): boolean {
  return a?.length === b.length && a.every((d, i) => d === b[i]);
}
