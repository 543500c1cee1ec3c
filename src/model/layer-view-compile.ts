// The gradient model with layer views: the backward graph as the autodiff compiler builds it, then
// view nodes on the value and the gradient of each viewed tensor, whose outputs replace the raw ones.
// Callers see every viewed layer as N×C×H×W, its gradient included. Optionally a method's CAM
// pipeline follows in the graph (the method table's `camGraph`, then compile/cam-graph.ts's fusion,
// as in a compiled explainer), so one run also gives each row's final map at input resolution.

import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ValueInfoProtoSchema } from 'onnx-buf';
import {
  type CompileOptions,
  Emitter,
  type GradientModel,
  gradientPatch,
  type RuleSet,
} from '../autodiff/index.ts';
import { repeatToRows } from '../autodiff/repeat-rows.ts';
import { fuseCams } from '../compile/cam-graph.ts';
import { GradsightError } from '../errors.ts';
import { appendGraphPatch, type GraphPatch, type Model, tensorValueInfo } from '../onnx/index.ts';
import { emitView, type LayerViews, viewEmitter, viewedShape } from './layer-view.ts';
import { gatherOneHotHead, type OneHotSeed } from './one-hot-head.ts';

const ONNX_FLOAT = 1;
const ONNX_DOUBLE = 11;

/** A further backward graph from the same explained tensor and seed, under its own rule set. */
export interface AlsoPart {
  readonly wrt: readonly string[];
  readonly ruleSet: RuleSet;
}

/** A method's final map made in the graph from the layers' values and gradients. */
export interface InGraphMap {
  /** The method id: the key of the result. */
  readonly key: string;
  /** The raw CAM [rows, 1, h, w] of one layer from its N×C×H×W value and gradient (the method table's). */
  readonly camGraph: (e: Emitter, a: string, g: string) => string;
  readonly layers: readonly string[];
  /** The map's height and width (the input's). */
  readonly size: readonly [number, number];
}

/** Graph outputs of an in-graph map: the final [rows, 1, H, W] map and each layer's raw CAM. */
export interface InGraphMapOutputs {
  readonly key: string;
  readonly final: string;
  readonly perLayer: readonly { readonly layer: string; readonly cam: string }[];
}

/**
 * Graph output of a layer's gradient check: Σ|∂y/∂A| per row in float64 ([rows]), NaN or ±Inf where a
 * gradient is not finite and 0 where all are zero, so a run with in-graph maps need not fetch the
 * gradients to say why a map is empty (explain/diagnose.ts).
 */
export interface GradientSumOutput {
  readonly layer: string;
  readonly sum: string;
}

export type ViewedGradientModel = GradientModel & {
  readonly maps: readonly InGraphMapOutputs[];
  readonly gradientSums: readonly GradientSumOutput[];
};

export function compileWithViews(
  bytes: Uint8Array,
  model: Model,
  options: CompileOptions,
  views: LayerViews = {},
  also: readonly AlsoPart[] = [],
  maps: readonly InGraphMap[] = [],
  oneHot?: OneHotSeed,
): ViewedGradientModel {
  const { patch, ...compiled } = withOneHotHead(withParts(model, options, also), model, options, oneHot);
  const viewed = compiled.outputs.filter((o) => views[o.tensor] && views[o.tensor]!.kind !== 'nchw');
  if (viewed.length === 0 && maps.length === 0)
    return { bytes: appendGraphPatch(bytes, patch), ...compiled, maps: [], gradientSums: [] };
  const prefix = options.prefix ?? 'gradsight';
  const e = viewEmitter(model.opsets.get('') ?? model.opsets.get('ai.onnx') ?? 13, prefix);
  const replaced = new Set<string>();
  const added: MessageInitShape<typeof ValueInfoProtoSchema>[] = [];
  const outputs = compiled.outputs.map((o) => {
    const view = views[o.tensor];
    if (!view || view.kind === 'nchw') return o;
    const shape = viewedShape(o.shape, view);
    const value = e.emit('Identity', [emitView(e, o.value, view)])[0]!;
    const grad = e.emit('Identity', [emitView(e, o.grad, view)])[0]!;
    replaced.add(o.value);
    replaced.add(o.grad);
    // Gradients carry the seed's rows with repeatRows, as the compiler declares them.
    added.push(
      { name: value },
      tensorValueInfo(grad, ONNX_FLOAT, options.repeatRows ? ['rows', ...shape.slice(1)] : shape),
    );
    return { ...o, value, grad, shape };
  });
  // A map's tensors are graph outputs under their own names; a tensor that is already one (a camGraph
  // returning its input) gets an Identity so each output has one meaning.
  const taken = new Set([
    ...outputs.flatMap((o) => [o.value, o.grad]),
    ...model.graph.outputs.map((o) => o.name),
    ...model.graph.inputs.map((i) => i.name),
  ]);
  const named = (x: string) => (taken.has(x) ? e.emit('Identity', [x])[0]! : x);
  const mapOutputs = maps.map((m) => {
    e.enter(`map/${m.key}`);
    const perLayer = m.layers.map((layer) => {
      const o = outputs.find((x) => x.tensor === layer);
      if (!o) {
        throw new GradsightError('internal-error', `internal: no gradient output for map layer ${layer}`, {
          hint: 'this is a bug in gradsight; please report it',
        });
      }
      // Values come once per forward row; with repeatRows each is repeated to its seed rows.
      const a = options.repeatRows
        ? repeatToRows(e, o.value, e.slice(e.shapeOf(o.grad), [0], [1], [0]))
        : o.value;
      return { layer, cam: named(m.camGraph(e, a, o.grad)), from: o.shape };
    });
    const final = named(
      fuseCams(
        e,
        perLayer.map((c) => c.cam),
        m.size[0],
        m.size[1],
        perLayer.map((c) => [c.from[2], c.from[3]]),
      ),
    );
    added.push(tensorValueInfo(final, ONNX_FLOAT, ['rows', 1, m.size[0], m.size[1]]));
    for (const c of perLayer) added.push({ name: c.cam });
    return { key: m.key, final, perLayer: perLayer.map(({ layer, cam }) => ({ layer, cam })) };
  });
  // Σ|G| per row for each map layer, in float64 (62,720 float32 maxima cannot overflow it).
  const mapLayers = [...new Set(maps.flatMap((m) => m.layers))];
  const gradientSums = mapLayers.map((layer) => {
    e.enter(`gsum/${mapLayers.indexOf(layer)}`);
    const o = outputs.find((x) => x.tensor === layer)!;
    const axes = o.shape.slice(1).map((_, i) => i + 1);
    const sum = e.reduceExtreme('ReduceL1', e.op('Cast', [o.grad], { to: { i: ONNX_DOUBLE } }), axes, false);
    added.push({ name: sum });
    return { layer, sum };
  });
  // Raw outputs that are graph outputs of the model itself stay (they are not in the patch).
  const kept = (patch.output ?? []).filter((out) => !replaced.has(out.name ?? ''));
  const full: GraphPatch = {
    ...patch,
    node: [...(patch.node ?? []), ...e.nodes],
    initializer: [...(patch.initializer ?? []), ...e.initializers],
    output: [...kept, ...added],
  };
  return { bytes: appendGraphPatch(bytes, full), ...compiled, outputs, maps: mapOutputs, gradientSums };
}

/** The parts' classifier-head products under a one-hot seed as Gathers (one-hot-head.ts). */
function withOneHotHead<P extends { readonly patch: GraphPatch }>(
  parts: P,
  model: Model,
  options: CompileOptions,
  oneHot: OneHotSeed | undefined,
): P {
  if (!oneHot) return parts;
  const e = new Emitter(
    model.opsets.get('') ?? model.opsets.get('ai.onnx') ?? 13,
    `${options.prefix ?? 'gradsight'}/head`,
  );
  const { nodes, replaced } = gatherOneHotHead(parts.patch.node ?? [], model, oneHot, e);
  if (replaced === 0) return parts;
  const patch = {
    ...parts.patch,
    node: nodes,
    initializer: [...(parts.patch.initializer ?? []), ...e.initializers],
  };
  return { ...parts, patch };
}

/**
 * The backward graph of `options`, and of each further part (e.g. Guided Backprop to the input beside
 * standard gradients to the layers) sharing its forward pass and seed: one run gives them all.
 */
function withParts(model: Model, options: CompileOptions, also: readonly AlsoPart[]) {
  const first = gradientPatch(model, options);
  if (also.length === 0) return first;
  const parts = also.map((part, i) =>
    gradientPatch(model, {
      ...options,
      wrt: part.wrt,
      ruleSet: part.ruleSet,
      prefix: `${options.prefix ?? 'gradsight'}/part${i + 1}`,
      seed: first.seed.name,
    }),
  );
  const all = [first, ...parts];
  const seen = new Set<string>();
  const output = all
    .flatMap((p) => p.patch.output ?? [])
    .filter((o) => {
      const name = o.name ?? '';
      if (seen.has(name)) return false;
      seen.add(name);
      return true;
    });
  return {
    ...first,
    outputs: all.flatMap((p) => p.outputs),
    stats: {
      forwardNodes: all.reduce((n, p) => n + p.stats.forwardNodes, 0),
      backwardNodes: all.reduce((n, p) => n + p.stats.backwardNodes, 0),
    },
    patch: {
      ...first.patch,
      node: all.flatMap((p) => p.patch.node ?? []),
      initializer: all.flatMap((p) => p.patch.initializer ?? []),
      output,
      // Each part's shape hints (its gradients'), once per name: without the parts' own, ONNX Runtime
      // could not prove a Guided Backprop mask's operands equal-shaped after a strided Conv's rule.
      valueInfo: [...new Map(all.flatMap((p) => p.patch.valueInfo ?? []).map((v) => [v.name, v])).values()],
    },
  };
}
