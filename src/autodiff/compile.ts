// The autodiff compiler: from an inference model to one that also outputs activations and their
// gradients. Steps: pick the target (the score before softmax by default), keep only the nodes on a
// path between the requested tensors and the target, walk them in reverse topological order calling
// each op's rule, add up fan-out in one place, check every gradient's shape, and append the backward
// graph to the model's bytes (the forward graph and its weights are never copied or re-encoded).

import { create, fromBinary } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import { closestNames, GradsightError, isGradsightError } from '../errors.ts';
import {
  appendGraphPatch,
  encodeGraphPatch,
  type GraphPatch,
  type InputShapes,
  inferShapes,
  type Model,
  modelFromProto,
  type Node,
  type Shape,
  tensorValueInfo,
  type ValueInfo,
} from '../onnx/index.ts';
import type { TypedArray } from '../tensor/tensor.ts';
import { downstreamOf, upstreamOf } from './activity.ts';
import { Emitter, ONNX_FLOAT } from './emitter.ts';
import { type GradContext, type Profile, type RuleSet, STOP } from './rule.ts';
import { standard, supportedOps } from './rule-sets.ts';
import { resolveTarget } from './target.ts';

export interface CompileOptions {
  /** Tensors whose value and gradient to output (graph inputs and intermediate tensors). */
  readonly wrt: readonly string[];
  /** The output (or any tensor) to differentiate; default: the first graph output. */
  readonly target?: string;
  /** For an output produced by Softmax/LogSoftmax, differentiate the scores before it (default true). */
  readonly beforeSoftmax?: boolean;
  readonly ruleSet?: RuleSet;
  readonly profile?: Profile;
  /** Fixed input dims (spatial sizes must be static; the batch may stay symbolic). */
  readonly inputShapes?: InputShapes;
  /** Precomputed shapes of every tensor (e.g. from a probe run); default: static inference. */
  readonly shapes?: ReadonlyMap<string, ValueInfo>;
  /**
   * Let the seed have r rows per input row (r = seed batch / input batch, rows of one input
   * contiguous): the forward pass runs once per image and only the backward pass runs per seed row,
   * so explaining k classes of an image costs one forward. Gradients then have the seed's batch; the
   * value outputs keep the input's.
   */
  readonly repeatRows?: boolean;
  /**
   * Prefix of every emitted tensor and node name (default 'gradsight'): two backward graphs with
   * different prefixes can live in one model (e.g. standard rules to a layer, guided rules to the input).
   */
  readonly prefix?: string;
  /**
   * An existing tensor (float, the target's shape) to use as the seed instead of adding a `seed` graph
   * input: a seed computed in-graph, or one seed shared by several backward graphs.
   */
  readonly seed?: string;
}

export interface GradientOutput {
  /** The requested tensor. */
  readonly tensor: string;
  /** Graph output holding its value. */
  readonly value: string;
  /** Graph output holding d target / d tensor. */
  readonly grad: string;
  readonly shape: Shape;
}

export interface GradientModel {
  readonly bytes: Uint8Array;
  /** The added graph input: the gradient of the target, same shape as the target. */
  readonly seed: { readonly name: string; readonly shape: Shape };
  /** The tensor differentiated (the pre-softmax scores when the output is a softmax). */
  readonly target: string;
  /** Graph output holding the target's value. */
  readonly targetOutput: string;
  readonly outputs: readonly GradientOutput[];
  readonly ruleSet: string;
  /** Forward nodes differentiated, and backward nodes emitted. */
  readonly stats: { readonly forwardNodes: number; readonly backwardNodes: number };
}

/** A backward graph not yet appended: what `gradientPatch` returns, for callers that merge patches. */
export interface GradientPatch extends Omit<GradientModel, 'bytes'> {
  /** Nodes, initializers, the seed input (unless `options.seed` names a tensor) and the outputs. */
  readonly patch: GraphPatch;
}

export function compileGradients(bytes: Uint8Array, model: Model, options: CompileOptions): GradientModel {
  const { patch, ...rest } = gradientPatch(model, options);
  return { bytes: appendGraphPatch(bytes, patch), ...rest };
}

/**
 * Builds and checks the backward graph without appending it. Its outputs name the gradient tensors;
 * a caller merging several patches may take only `node` and `initializer` and pick its own outputs.
 */
export function gradientPatch(model: Model, options: CompileOptions): GradientPatch {
  const g = model.graph;
  const prefix = options.prefix ?? 'gradsight';
  const ruleSet = options.ruleSet ?? standard;
  const shapes = options.shapes ?? inferShapes(model, options.inputShapes ?? {});
  const target = resolveTarget(g, options.target, options.beforeSoftmax ?? true);
  const wrt = [...new Set(options.wrt)];
  if (wrt.length === 0)
    throw new GradsightError('bad-argument', 'no tensors to differentiate with respect to');
  const known = new Set([...g.inputs.map((i) => i.name), ...g.producers.keys()]);
  for (const w of wrt) {
    if (!known.has(w)) {
      throw new GradsightError('tensor-not-found', `the model has no tensor named ${JSON.stringify(w)}`, {
        hint: `closest: ${closestNames(w, [...known]).join(', ')}`,
        details: { tensor: w },
      });
    }
  }

  const back = upstreamOf(g.producers, target);
  const forward = downstreamOf(g.nodes, wrt, shapes);
  for (const w of wrt) {
    if (!back.has(w)) {
      throw new GradsightError('no-gradient-path', `${w} does not influence the target ${target}`, {
        hint: 'pick a tensor that lies before the target in the graph (gradsight inspect lists candidates)',
        details: { tensor: w, target },
      });
    }
  }

  const opset = model.opsets.get('') ?? model.opsets.get('ai.onnx') ?? 13;
  const e = new Emitter(opset, prefix);
  const seedName = options.seed ?? uniqueName(known, 'seed');
  const grads = new Map<string, string>([[target, seedName]]);
  const contributions: { tensor: string; grad: string; node: Node }[] = [];
  const profile = options.profile ?? 'cpu';
  let forwardNodes = 0;

  for (let k = g.nodes.length - 1; k >= 0; k--) {
    const node = g.nodes[k]!;
    const gY = node.outputs.map((o) => (back.has(o) ? grads.get(o) : undefined));
    if (gY.every((x) => x === undefined)) continue;
    const need = node.inputs.map((i) => i !== '' && forward.has(i) && back.has(i));
    if (!need.some(Boolean)) continue;
    const rule = node.domain === '' || node.domain === 'ai.onnx' ? ruleSet.rules[node.opType] : undefined;
    if (rule === STOP) continue;
    if (!rule) throw unsupported(node, ruleSet);
    forwardNodes++;
    e.enter(node.name.replace(/[^A-Za-z0-9_.:/-]/g, '_'));
    const ctx = contextFor(node, e, profile, shapes, model, need);
    let gX: readonly (string | undefined)[];
    try {
      gX = rule(ctx, gY);
    } catch (err) {
      if (isGradsightError(err)) throw err;
      throw new GradsightError(
        'unsupported-op',
        `cannot differentiate ${node.opType} node '${node.name}': ${(err as Error).message}`,
        {
          hint: 'this configuration of the op has no gradient rule yet; please report it with the model',
          details: { node: node.name, op: node.opType },
          cause: err,
        },
      );
    }
    node.inputs.forEach((input, i) => {
      const gi = gX[i];
      if (!need[i] || gi === undefined) return;
      contributions.push({ tensor: input, grad: gi, node });
      // Fan-out: a tensor read by several nodes gets the sum of their gradients.
      const prev = grads.get(input);
      grads.set(input, prev === undefined ? gi : e.add(prev, gi));
    });
  }

  if (options.repeatRows) repeatForwardRows(e, g, forwardOf(g, shapes), seedName);

  e.enter('outputs');
  const outputs: GradientOutput[] = [];
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const inputNames = new Set(g.inputs.map((i) => i.name));
  for (const w of wrt) {
    const gw = grads.get(w);
    if (gw === undefined) {
      throw new GradsightError('no-gradient-path', `no gradient reaches ${w} from ${target}`, {
        hint: 'every path from it to the target passes through ops whose gradient is zero (Shape, ArgMax, comparisons, integer casts)',
        details: { tensor: w, target },
      });
    }
    const gradName = uniqueName(known, `${prefix}/grad/${w}`);
    e.nodes.push({
      opType: 'Identity',
      domain: '',
      name: `${gradName}/Identity`,
      input: [gw],
      output: [gradName],
    });
    let value = w;
    if (inputNames.has(w) || graphOutputs.has(w)) {
      // A graph input cannot also be listed as an output: expose it through an Identity.
      value = uniqueName(known, `${prefix}/value/${w}`);
      e.nodes.push({
        opType: 'Identity',
        domain: '',
        name: `${value}/Identity`,
        input: [w],
        output: [value],
      });
    }
    outputs.push({ tensor: w, value, grad: gradName, shape: shapeOf(shapes, w) });
  }

  let targetOutput = target;
  if (inputNames.has(target)) {
    targetOutput = uniqueName(known, `${prefix}/value/${target}`);
    e.nodes.push({
      opType: 'Identity',
      domain: '',
      name: `${targetOutput}/Identity`,
      input: [target],
      output: [targetOutput],
    });
  }
  const extraOutputs =
    graphOutputs.has(targetOutput) || outputs.some((o) => o.value === targetOutput)
      ? []
      : [{ name: targetOutput }];
  // With repeatRows the seed (and the gradients) have their own number of rows: declare it symbolic,
  // also for models exported with a fixed batch of 1.
  const rowsOf = (shape: Shape): Shape => (options.repeatRows ? ['rows', ...shape.slice(1)] : shape);
  const seedShape = rowsOf(shapeOf(shapes, target));
  const patch: GraphPatch = {
    node: e.nodes,
    initializer: e.initializers,
    input: options.seed === undefined ? [tensorValueInfo(seedName, ONNX_FLOAT, seedShape)] : [],
    output: [
      ...extraOutputs,
      ...outputs.flatMap((o) => [
        ...(graphOutputs.has(o.value) ? [] : [{ name: o.value }]),
        tensorValueInfo(o.grad, ONNX_FLOAT, rowsOf(o.shape)),
      ]),
    ],
  };
  // An in-graph seed is typed here as an input, for the check only (its producer is not in the patch).
  const seedInfo = options.seed === undefined ? [] : [tensorValueInfo(seedName, ONNX_FLOAT, seedShape)];
  checkGradientShapes(model, patch, options.inputShapes ?? {}, contributions, shapes, seedInfo);
  return {
    patch,
    seed: { name: seedName, shape: seedShape },
    target,
    targetOutput,
    outputs,
    ruleSet: ruleSet.name,
    stats: { forwardNodes, backwardNodes: e.nodes.length },
  };
}

/** Float tensors with a batch axis: everything computed from the graph inputs. */
function forwardOf(g: Model['graph'], shapes: ReadonlyMap<string, ValueInfo>): Set<string> {
  return downstreamOf(
    g.nodes,
    g.inputs.map((i) => i.name),
    shapes,
  );
}

/**
 * Rewrites the backward nodes to read forward tensors repeated r times along the batch axis, where
 * r = rows(seed) / rows(tensor): x [N, ...] → Unsqueeze → Expand [N, r, ...] → Reshape [N·r, ...].
 */
function repeatForwardRows(e: Emitter, g: Model['graph'], forward: ReadonlySet<string>, seed: string): void {
  const backward = [...e.nodes];
  e.enter('repeat');
  const repeated = new Map<string, string>();
  const seedRows = e.slice(e.shapeOf(seed), [0], [1], [0]);
  const rep = (x: string): string => {
    let r = repeated.get(x);
    if (r) return r;
    const shape = e.shapeOf(x);
    const n = e.slice(shape, [0], [1], [0]);
    const k = e.op('Div', [seedRows, n]);
    const rest = e.slice(shape, [1], [Number.MAX_SAFE_INTEGER], [0]);
    const expanded = e.op('Expand', [e.unsqueeze(x, [1]), e.concat([n, k, rest], 0)]);
    r = e.reshape(expanded, e.concat([e.op('Mul', [n, k]), rest], 0));
    repeated.set(x, r);
    return r;
  };
  const inputs = new Set(g.inputs.map((i) => i.name));
  for (const node of backward) {
    node.input = (node.input ?? []).map((i) => (forward.has(i) || inputs.has(i) ? rep(i) : i));
  }
}

function contextFor(
  node: Node,
  e: Emitter,
  profile: Profile,
  shapes: ReadonlyMap<string, ValueInfo>,
  model: Model,
  need: readonly boolean[],
): GradContext {
  return {
    node,
    e,
    profile,
    shape: (name) => shapeOf(shapes, name),
    constant: (name) => constantValue(model, name),
    need: (i) => need[i] === true,
  };
}

function shapeOf(shapes: ReadonlyMap<string, ValueInfo>, name: string): Shape {
  const s = shapes.get(name)?.shape;
  if (!s) {
    throw new GradsightError('shape-inference', `the shape of tensor ${name} is unknown`, {
      hint: 'give the input size (e.g. --size 224) so every shape can be inferred',
      details: { tensor: name },
    });
  }
  return s;
}

/** Values of an initializer or of a Constant node's `value` attribute. */
function constantValue(model: Model, name: string): TypedArray | undefined {
  const init = model.graph.initializers.get(name);
  if (init) return init.values();
  const producer = model.graph.producers.get(name);
  if (producer?.opType === 'Constant') {
    const v = producer.attributes.get('value')?.value;
    if (v?.kind === 'tensor') return v.value.values();
    const ints = producer.attributes.get('value_ints')?.value;
    if (ints?.kind === 'ints') return BigInt64Array.from(ints.value.map((x) => BigInt(x)));
    const f = producer.attributes.get('value_float')?.value;
    if (f?.kind === 'float') return Float32Array.of(f.value);
    const i = producer.attributes.get('value_int')?.value;
    if (i?.kind === 'int') return BigInt64Array.of(BigInt(i.value));
  }
  return undefined;
}

function unsupported(node: Node, ruleSet: RuleSet): GradsightError {
  const domain = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.` : '';
  return new GradsightError(
    'unsupported-op',
    `no gradient rule for ${domain}${node.opType} (node '${node.name}')`,
    {
      hint: `ops with rules: ${supportedOps(ruleSet).join(', ')}`,
      details: { node: node.name, op: `${domain}${node.opType}` },
    },
  );
}

function uniqueName(taken: Set<string>, base: string): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

/**
 * Infers the shapes of the emitted backward graph and checks each rule's output against the forward
 * tensor it is the gradient of; a mismatch names the forward node whose rule produced it.
 */
function checkGradientShapes(
  model: Model,
  patch: GraphPatch,
  inputShapes: InputShapes,
  contributions: readonly { tensor: string; grad: string; node: Node }[],
  forwardShapes: ReadonlyMap<string, ValueInfo>,
  extraInputs: GraphPatch['input'] = [],
): void {
  // The forward proto with the patch's repeated fields added: arrays are copied shallowly, weights not.
  const fwd = model.proto.graph!;
  const patchProto = fromBinary(ModelProtoSchema, encodeGraphPatch(patch)).graph!;
  const merged = create(ModelProtoSchema, {
    ...model.proto,
    graph: create(GraphProtoSchema, {
      ...fwd,
      node: [...fwd.node, ...patchProto.node],
      initializer: [...fwd.initializer, ...patchProto.initializer],
      input: [
        ...fwd.input,
        ...patchProto.input,
        ...fromBinary(ModelProtoSchema, encodeGraphPatch({ input: extraInputs })).graph!.input,
      ],
      output: [...fwd.output, ...patchProto.output],
    }),
  });
  const full = inferShapes(modelFromProto(merged), inputShapes);
  for (const c of contributions) {
    const want = forwardShapes.get(c.tensor)?.shape;
    const got = full.get(c.grad)?.shape;
    if (!want || !got) continue;
    const same =
      want.length === got.length &&
      want.every((d, i) => typeof d !== 'number' || typeof got[i] !== 'number' || d === got[i]);
    if (!same) {
      throw new GradsightError(
        'shape-mismatch',
        `the gradient rule of ${c.node.opType} node '${c.node.name}' gives [${got.join(', ')}] for ${c.tensor} of shape [${want.join(', ')}]`,
        {
          hint: 'this is a bug in that gradient rule; please report it with the model',
          details: { node: c.node.name, op: c.node.opType },
        },
      );
    }
  }
}
