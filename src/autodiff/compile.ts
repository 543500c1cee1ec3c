// The autodiff compiler: from an inference model to one that also outputs activations and their
// gradients. Steps: pick the explained tensor (the score before softmax by default), keep only the nodes on a
// path between the requested tensors and the explained tensor, walk them in reverse topological order calling
// each op's rule, add up fan-out in one place, check every gradient's shape, and append the backward
// graph to the model's bytes (the forward graph and its weights are never copied or re-encoded).
// This file holds the walk; output exposure, row repetition, the shape check and the graph helpers
// live beside it.

import { closestNames, GradsightError, isGradsightError } from '../errors.ts';
import {
  appendGraphPatch,
  type GraphPatch,
  type InputShapes,
  inferShapes,
  type Model,
  type Node,
  type Shape,
  tensorValueInfo,
  type ValueInfo,
} from '../onnx/index.ts';
import { downstreamOf, upstreamOf } from './activity.ts';
import { Emitter, ONNX_FLOAT } from './emitter.ts';
import { explainedTensor } from './explained.ts';
import { exposeOutputs } from './expose.ts';
import { constantValue, shapeOf, uniqueName, unsupported } from './graph-info.ts';
import { lowerForWalk } from './lower-recurrent.ts';
import { repeatForwardRows } from './repeat-rows.ts';
import type { GradContext, Profile, RuleSet } from './rule.ts';
import { STOP } from './rule.ts';
import { standard } from './rule-sets.ts';
import { type Contribution, checkGradientShapes } from './shape-check.ts';

export interface CompileOptions {
  /** Tensors whose value and gradient to output (graph inputs and intermediate tensors). */
  readonly wrt: readonly string[];
  /** The output (or any tensor) to differentiate; default: the first graph output. */
  readonly explained?: string;
  /** For an output produced by Softmax/LogSoftmax, differentiate the scores before it (default true). */
  readonly beforeSoftmax?: boolean;
  readonly ruleSet?: RuleSet;
  readonly profile?: Profile;
  /**
   * Fixed input dims. Any dim may stay symbolic: rules then read sizes at run time, and those whose
   * geometry depends on the size (Resize, AveragePool with uncounted pads) ask for a static one.
   */
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
   * An existing tensor (float, the explained tensor's shape) to use as the seed instead of adding a `seed` graph
   * input: a seed computed in-graph, or one seed shared by several backward graphs.
   */
  readonly seed?: string;
  /**
   * Declare each gradient's shape (value_info) for ONNX Runtime's layout optimizations (default false:
   * a hint for the session gradsight makes, which retries without it should ONNX Runtime refuse).
   */
  readonly gradientShapes?: boolean;
}

export interface GradientOutput {
  /** The requested tensor. */
  readonly tensor: string;
  /** Graph output holding its value. */
  readonly value: string;
  /** Graph output holding d explained / d tensor. */
  readonly grad: string;
  readonly shape: Shape;
}

export interface GradientModel {
  readonly bytes: Uint8Array;
  /** The added graph input: the gradient of the explained tensor, same shape as the explained tensor. */
  readonly seed: { readonly name: string; readonly shape: Shape };
  /** The tensor differentiated (the pre-softmax scores when the output is a softmax). */
  readonly explained: string;
  /** Graph output holding the explained tensor's value. */
  readonly explainedOutput: string;
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
  const prefix = options.prefix ?? 'gradsight';
  const ruleSet = options.ruleSet ?? standard;
  const given = options.shapes ?? inferShapes(model, options.inputShapes ?? {});
  const explained = explainedTensor(model.graph, options.explained, options.beforeSoftmax ?? true);
  const wrt = [...new Set(options.wrt)];
  if (wrt.length === 0)
    throw new GradsightError('bad-argument', 'no tensors to differentiate with respect to');
  const g0 = model.graph;
  const known = new Set([...g0.inputs.map((i) => i.name), ...g0.producers.keys()]);
  for (const w of wrt) {
    if (!known.has(w)) {
      throw new GradsightError('tensor-not-found', `the model has no tensor named ${JSON.stringify(w)}`, {
        hint: `closest: ${closestNames(w, [...known]).join(', ')}`,
        details: { tensor: w },
      });
    }
  }
  const back0 = upstreamOf(g0.producers, explained);
  for (const w of wrt) {
    if (!back0.has(w)) {
      throw new GradsightError(
        'no-gradient-path',
        `${w} does not influence the explained tensor ${explained}`,
        {
          hint: 'pick a tensor that lies before the explained tensor in the graph (gradsight inspect lists candidates)',
          details: { tensor: w, explained },
        },
      );
    }
  }

  // LSTM / GRU on the path are unrolled into standard ops first (lower-recurrent.ts); the walk
  // differentiates that graph, and the unrolled nodes are appended with the backward ones.
  const lowered = lowerForWalk(model, given, explained, wrt, prefix);
  const { shapes } = lowered;
  const g = lowered.model.graph;
  const back = lowered.model === model ? back0 : upstreamOf(g.producers, explained);
  for (const t of g.producers.keys()) known.add(t);

  const opset = model.opsets.get('') ?? model.opsets.get('ai.onnx') ?? 13;
  const e = new Emitter(opset, prefix);
  const seedName = options.seed ?? uniqueName(known, 'seed');
  // Gradients are declared with their shapes (gradientShapes below) only where rows = the forward's.
  const shapesDeclared = options.gradientShapes === true && !options.repeatRows;
  const walk = walkBackward(lowered.model, {
    e,
    ruleSet,
    profile: options.profile ?? 'cpu',
    shapesDeclared,
    shapes,
    back,
    forward: downstreamOf(g.nodes, wrt, shapes),
    seeds: new Map([[explained, seedName]]),
  });
  if (options.repeatRows) repeatForwardRows(e, g, shapes, seedName, shapeOf(shapes, explained)[0]);

  // With repeatRows the seed (and the gradients) have their own number of rows: declare it symbolic,
  // also for models exported with a fixed batch of 1.
  const rowsOf = (shape: Shape): Shape => (options.repeatRows ? ['rows', ...shape.slice(1)] : shape);
  const exposed = exposeOutputs(e, g, {
    wrt,
    grads: walk.grads,
    explained,
    prefix,
    taken: known,
    shapes,
    rowsOf,
  });
  const seedShape = rowsOf(shapeOf(shapes, explained));
  const seedInfo = [tensorValueInfo(seedName, ONNX_FLOAT, seedShape)];
  const patch: GraphPatch = {
    node: [...lowered.node, ...e.nodes],
    initializer: [...lowered.initializer, ...e.initializers],
    input: options.seed === undefined ? seedInfo : [],
    output: exposed.graphOutputs,
    valueInfo: shapesDeclared ? gradientShapes(walk.grads, shapes, exposed.graphOutputs, seedName) : [],
  };
  // An in-graph seed made by another patch is typed here as an input, for the check only; one the
  // model already computes (an appended TopK selection) needs nothing.
  const external = options.seed !== undefined && !g.producers.has(options.seed);
  checkGradientShapes(
    model,
    patch,
    options.inputShapes,
    walk.contributions,
    shapes,
    external ? seedInfo : [],
    options.repeatRows === true,
  );
  return {
    patch,
    seed: { name: seedName, shape: seedShape },
    explained,
    explainedOutput: exposed.explainedOutput,
    outputs: exposed.outputs,
    ruleSet: ruleSet.name,
    stats: { forwardNodes: walk.forwardNodes, backwardNodes: e.nodes.length },
  };
}

/**
 * Every gradient declared with its tensor's shape (CompileOptions.gradientShapes; rows = the forward's
 * batch, so not with repeatRows), symbolic batch included. ONNX Runtime cannot infer that a
 * gradient's batch is the forward's (a pooling rule reshapes to a shape read at run time; a seed made
 * in the graph has a computed batch), and without it keeps the ReLU masks' Mul out of its blocked
 * NCHWc layout, reordering around every backward Conv: 132 reorders and 7.5× the forward for
 * MobileNetV2's Guided Backprop run, 21 and 4.7× with the shapes declared.
 */
function gradientShapes(
  grads: ReadonlyMap<string, string>,
  shapes: ReadonlyMap<string, ValueInfo>,
  outputs: readonly { readonly name?: string }[],
  seed: string,
) {
  const declared = new Set([seed, ...outputs.map((o) => o.name ?? '')]);
  const infos = [];
  for (const [tensor, grad] of grads) {
    const info = shapes.get(tensor);
    if (declared.has(grad)) continue;
    if (info?.dtype !== 'float32' || !info.shape?.every((d) => d !== undefined)) continue;
    declared.add(grad);
    infos.push(tensorValueInfo(grad, ONNX_FLOAT, info.shape));
  }
  return infos;
}

interface WalkInput {
  readonly e: Emitter;
  readonly ruleSet: RuleSet;
  readonly profile: Profile;
  /** GradContext.shapesDeclared. */
  readonly shapesDeclared: boolean;
  readonly shapes: ReadonlyMap<string, ValueInfo>;
  /** Tensors the explained tensor depends on. */
  readonly back: ReadonlySet<string>;
  /** Float tensors computed from the requested ones. */
  readonly forward: ReadonlySet<string>;
  /** Gradients known before the walk: the explained tensor's seed. */
  readonly seeds: ReadonlyMap<string, string>;
}

/**
 * The reverse walk: every node on a path between the requested tensors and the explained tensor, last first,
 * gets its outputs' gradients and returns one gradient per input; a tensor read by several nodes
 * gets the sum of their gradients. A rule that breaks that contract is an internal error.
 */
function walkBackward(model: Model, w: WalkInput) {
  const { e, back, forward } = w;
  const grads = new Map(w.seeds);
  const contributions: Contribution[] = [];
  let forwardNodes = 0;
  const nodes = model.graph.nodes;
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    const gY = node.outputs.map((o) => (back.has(o) ? grads.get(o) : undefined));
    if (gY.every((x) => x === undefined)) continue;
    const need = node.inputs.map((i) => i !== '' && forward.has(i) && back.has(i));
    if (!need.some(Boolean)) continue;
    const rule = node.domain === '' || node.domain === 'ai.onnx' ? w.ruleSet.rules[node.opType] : undefined;
    if (rule === STOP) continue;
    if (!rule) throw unsupported(node, w.ruleSet);
    forwardNodes++;
    e.enter(node.name.replace(/[^A-Za-z0-9_.:/-]/g, '_'));
    const gX = applyRule(node, () => rule(contextFor(node, e, w, model, need), gY));
    checkRuleResult(node, gX, need);
    node.inputs.forEach((input, i) => {
      const gi = gX[i];
      if (!need[i] || gi === undefined) return;
      contributions.push({ tensor: input, grad: gi, node });
      // Fan-out: a tensor read by several nodes gets the sum of their gradients.
      const prev = grads.get(input);
      grads.set(input, prev === undefined ? gi : e.add(prev, gi));
    });
  }
  return { grads, contributions, forwardNodes };
}

/** Runs a rule; an error that is not already typed becomes `unsupported-op` naming the node. */
function applyRule(node: Node, run: () => readonly (string | undefined)[]): readonly (string | undefined)[] {
  try {
    return run();
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
}

/** One entry per input (tinygrad asserts it), and a gradient for every input that needs one (tfjs). */
function checkRuleResult(node: Node, gX: readonly (string | undefined)[], need: readonly boolean[]): void {
  const broken = (what: string) =>
    new GradsightError('internal-error', `the gradient rule of ${node.opType} node '${node.name}' ${what}`, {
      hint: 'this is a bug in that gradient rule (or in a custom rule set); please report it with the model',
      details: { node: node.name, op: node.opType },
    });
  if (!Array.isArray(gX) || gX.length < node.inputs.length)
    throw broken(
      `returned ${Array.isArray(gX) ? gX.length : 'no'} gradients for ${node.inputs.length} inputs`,
    );
  const missing = node.inputs.filter((_, i) => need[i] && typeof gX[i] !== 'string');
  if (missing.length > 0) throw broken(`returned no gradient for ${missing.join(', ')}, which needs one`);
}

function contextFor(
  node: Node,
  e: Emitter,
  w: WalkInput,
  model: Model,
  need: readonly boolean[],
): GradContext {
  return {
    node,
    e,
    profile: w.profile,
    shapesDeclared: w.shapesDeclared,
    shape: (name) => shapeOf(w.shapes, name),
    constant: (name) => constantValue(model, name),
    need: (i) => need[i] === true,
  };
}
