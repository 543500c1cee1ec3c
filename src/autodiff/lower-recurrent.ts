// The recurrent lowering pass, run before the walk: each LSTM / GRU / RNN node on the gradient path is
// replaced, in the graph the walker differentiates, by the same computation in standard ops unrolled
// over its static sequence length (recurrent-cells.ts), so the ordinary rules (Slice, MatMul, Add,
// Sigmoid, Tanh, Mul, Where, Concat, ...) give its gradient through time exactly.
// The user's model keeps its LSTM node (the forward graph is never re-encoded): the unrolled nodes are
// appended with the backward graph and recompute the recurrence once more, beside the original, for
// the values the backward reads; Identity nodes that exist only in the walked graph give their
// results the original output names, so the rules downstream see the node's outputs unchanged.
// Supported: directions forward / reverse / bidirectional, initial_h / initial_c
// (gradients flow to them), peepholes, sequence_lens (constant or computed), GRU
// linear_before_reset 0 and 1, any subset of the outputs. Refused with a typed error naming the
// attribute: non-default activations (and their alpha / beta), clip, input_forget, layout = 1 (batch
// first, which ONNX Runtime does not run either), a sequence length without a static size,
// non-float32 data.

import type { MessageInitShape } from '@bufbuild/protobuf';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type NodeProtoSchema, type TensorProtoSchema } from 'onnx-buf';
import { GradsightError } from '../errors.ts';
import {
  encodeGraphPatch,
  type Graph,
  getInt,
  getString,
  type Initializer,
  inferShapes,
  initializerFromProto,
  type Model,
  type Node,
  nodeFromProto,
  nodeIndex,
  type ValueInfo,
} from '../onnx/index.ts';
import { downstreamOf, upstreamOf } from './activity.ts';
import { Emitter } from './emitter.ts';
import { shapeOf } from './graph-info.ts';
import { type CellKind, LOWERED_OPS, unrollCells } from './recurrent-cells.ts';

type NodeInit = MessageInitShape<typeof NodeProtoSchema>;
type TensorInit = MessageInitShape<typeof TensorProtoSchema>;

export interface LoweredModel {
  /** The model as the walker sees it: LSTM / GRU / RNN nodes replaced by their unrolled form. */
  readonly model: Model;
  /** The unrolled nodes and their constants, to append with the backward graph. */
  readonly node: readonly NodeInit[];
  readonly initializer: readonly TensorInit[];
}

export interface WalkedModel {
  readonly model: Model;
  /** Shapes of every tensor of `model`: the caller's, plus inferred ones for the unrolled tensors. */
  readonly shapes: ReadonlyMap<string, ValueInfo>;
  readonly node: readonly NodeInit[];
  readonly initializer: readonly TensorInit[];
}

/**
 * The model the walker differentiates: `model` itself, or with the recurrent nodes on a path between
 * `wrt` and `explained` lowered (those off the path need no gradient and are left alone).
 */
export function lowerForWalk(
  model: Model,
  shapes: ReadonlyMap<string, ValueInfo>,
  explained: string,
  wrt: readonly string[],
  prefix: string,
): WalkedModel {
  const back = upstreamOf(model.graph.producers, explained);
  const forward = downstreamOf(model.graph.nodes, wrt, shapes);
  const onPath = (n: Node) =>
    n.outputs.some((o) => back.has(o)) && n.inputs.some((i) => forward.has(i) && back.has(i));
  const lowered = lowerRecurrent(model, shapes, onPath, prefix);
  if (!lowered) return { model, shapes, node: [], initializer: [] };
  const inputs = Object.fromEntries(
    model.graph.inputs.flatMap((i) => {
      const s = shapes.get(i.name)?.shape;
      return s ? [[i.name, s] as const] : [];
    }),
  );
  // The forward tensors keep the shapes the caller gave (e.g. a probe run's).
  const inferred = inferShapes(lowered.model, inputs, shapes);
  return { ...lowered, shapes: new Map([...inferred, ...shapes]) };
}

const DEFAULT_ACTIVATIONS: Readonly<Record<string, readonly string[]>> = {
  LSTM: ['sigmoid', 'tanh', 'tanh'],
  GRU: ['sigmoid', 'tanh'],
  RNN: ['tanh'],
};

/** Lowers the recurrent nodes for which `lower(node)` holds; undefined when there are none. */
export function lowerRecurrent(
  model: Model,
  shapes: ReadonlyMap<string, ValueInfo>,
  lower: (node: Node) => boolean,
  prefix: string,
): LoweredModel | undefined {
  const g = model.graph;
  const targets = g.nodes.filter(
    (n) => (n.domain === '' || n.domain === 'ai.onnx') && LOWERED_OPS.includes(n.opType) && lower(n),
  );
  if (targets.length === 0) return undefined;
  const opset = model.opsets.get('') ?? model.opsets.get('ai.onnx') ?? 13;
  const e = new Emitter(opset, `${prefix}/lower`);
  const bodies = new Map<Node, { from: number; to: number; outputs: (string | undefined)[] }>();
  for (const node of targets) {
    const from = e.nodes.length;
    e.enter(node.name.replace(/[^A-Za-z0-9_.:/-]/g, '_'));
    const outputs = lowerNode(e, node, shapes, model);
    bodies.set(node, { from, to: e.nodes.length, outputs });
  }
  // The walked graph: each lowered node's body, then Identity nodes naming its outputs.
  const walked: NodeInit[][] = g.nodes.map((n) => {
    const body = bodies.get(n);
    if (!body) return [];
    const names = n.outputs.flatMap((o, i) => {
      const t = body.outputs[i];
      return o !== '' && t !== undefined ? [{ from: t, to: o }] : [];
    });
    return [
      ...e.nodes.slice(body.from, body.to),
      ...names.map(({ from, to }) => ({
        opType: 'Identity',
        domain: '',
        name: `${prefix}/lower/${to}/Identity`,
        input: [from],
        output: [to],
      })),
    ];
  });
  const decoded = fromBinary(
    ModelProtoSchema,
    encodeGraphPatch({ node: walked.flat(), initializer: e.initializers }),
  ).graph!;
  const irNodes = decoded.node.map((n, i) => nodeFromProto(n, i, undefined));
  const nodes: Node[] = [];
  let k = 0;
  g.nodes.forEach((n, i) => {
    if (!bodies.has(n)) {
      nodes.push(n);
      return;
    }
    const end = k + walked[i]!.length;
    nodes.push(...irNodes.slice(k, end));
    k = end;
  });
  const initializers = new Map<string, Initializer>(g.initializers);
  for (const t of decoded.initializer) initializers.set(t.name, initializerFromProto(t));
  return {
    model: { ...model, graph: indexed(g, nodes, initializers) },
    node: e.nodes,
    initializer: e.initializers,
  };
}

function indexed(g: Graph, nodes: readonly Node[], initializers: ReadonlyMap<string, Initializer>): Graph {
  return { ...g, nodes, initializers, ...nodeIndex(nodes) };
}

function refuse(node: Node, what: string, hint: string, attribute?: string): GradsightError {
  return new GradsightError(
    'unsupported-op',
    `cannot differentiate ${node.opType} node '${node.name}': ${what}`,
    {
      hint,
      details: { node: node.name, op: node.opType, ...(attribute ? { attribute } : {}) },
    },
  );
}

/** Checks the node's configuration and emits its unrolled form; one tensor per node output. */
function lowerNode(
  e: Emitter,
  node: Node,
  shapes: ReadonlyMap<string, ValueInfo>,
  model: Model,
): (string | undefined)[] {
  const kind = node.opType as CellKind;
  const acts = node.attributes.get('activations')?.value;
  if (acts !== undefined) {
    const names = acts.kind === 'strings' ? acts.value.map((a) => a.toLowerCase()) : [];
    const dflt = DEFAULT_ACTIVATIONS[kind]!;
    if (names.length === 0 || names.some((a, i) => a !== dflt[i % dflt.length]))
      throw refuse(
        node,
        `attribute activations = [${acts.kind === 'strings' ? acts.value.join(', ') : acts.kind}] is not the default [${dflt.join(', ')}]`,
        'only the default activations are lowered; export the cell with its default activations',
        'activations',
      );
  }
  for (const attr of ['activation_alpha', 'activation_beta', 'clip'] as const) {
    if (node.attributes.has(attr))
      throw refuse(
        node,
        `attribute ${attr} is set`,
        'gradsight lowers recurrent cells without clipping or activation parameters; export the model without them',
        attr,
      );
  }
  if (kind === 'LSTM' && getInt(node, 'input_forget', 0) !== 0)
    throw refuse(
      node,
      'attribute input_forget = 1 (coupled input and forget gates)',
      'export the LSTM with input_forget = 0',
      'input_forget',
    );
  const direction = getString(node, 'direction', 'forward');
  const reverse = { forward: [false], reverse: [true], bidirectional: [false, true] }[direction];
  if (!reverse)
    throw refuse(
      node,
      `attribute direction = '${direction}'`,
      'direction is forward, reverse or bidirectional',
      'direction',
    );

  const input = (i: number) => (node.inputs[i] ? node.inputs[i] : undefined);
  const x = node.inputs[0]!;
  if (getInt(node, 'layout', 0) !== 0)
    throw refuse(
      node,
      'attribute layout = 1 (batch first)',
      'export with layout = 0 (torch does, with Transposes around the op); ONNX Runtime runs only that',
      'layout',
    );
  const steps = shapeOf(shapes, x)[0];
  if (typeof steps !== 'number' || steps < 1) {
    // Name the graph inputs that carry the symbol (the token ids), which the caller can fix.
    const from = model.graph.inputs.filter((i) => typeof steps === 'string' && i.shape?.includes(steps));
    const which = from.length ? ` of ${from.map((i) => i.name).join(', ')}` : '';
    throw refuse(
      node,
      `the sequence length of its input ${x} (${String(steps)}) has no static size`,
      `the recurrence is unrolled over a fixed number of steps: compile with the sequence length${which} fixed (inputShapes or shapes, one gradient model per length), or export the model with a fixed length`,
    );
  }
  const dtype = shapes.get(x)?.dtype;
  if (dtype !== undefined && dtype !== 'float32')
    throw new GradsightError('unsupported-dtype', `${kind} node '${node.name}' computes in ${dtype}`, {
      hint: 'gradsight differentiates float32 recurrent cells; convert the model to float32',
      details: { node: node.name, op: kind, dtype },
    });
  const rShape = shapeOf(shapes, node.inputs[2]!);
  const hidden = node.attributes.has('hidden_size') ? getInt(node, 'hidden_size') : Number(rShape[2]);
  const outs = unrollCells({
    e,
    kind,
    x,
    steps,
    hidden,
    reverse,
    w: node.inputs[1]!,
    r: node.inputs[2]!,
    b: input(3),
    p: kind === 'LSTM' ? input(7) : undefined,
    h0: input(5),
    c0: kind === 'LSTM' ? input(6) : undefined,
    lens: sequenceLengths(e, model, input(4), steps),
    linearBeforeReset: kind === 'GRU' && getInt(node, 'linear_before_reset', 0) === 1,
  });
  return [outs.y, outs.yh, outs.yc];
}

/** sequence_lens as int64, or undefined when it is absent or a constant of T everywhere. */
function sequenceLengths(
  e: Emitter,
  model: Model,
  lens: string | undefined,
  steps: number,
): string | undefined {
  if (lens === undefined) return undefined;
  const init = model.graph.initializers.get(lens);
  const values = init ? Array.from(init.values() as ArrayLike<number | bigint>, Number) : undefined;
  if (values?.every((v) => v === steps)) return undefined;
  return e.op('Cast', [lens], { to: { i: 7 } });
}
