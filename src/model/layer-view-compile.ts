// The gradient model with layer views: the backward graph as the autodiff compiler builds it, then
// view nodes on the value and the gradient of each viewed tensor, whose outputs replace the raw ones.
// Callers see every viewed layer as N×C×H×W, its gradient included.

import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ValueInfoProtoSchema } from 'onnx-buf';
import { type CompileOptions, type GradientModel, gradientPatch, type RuleSet } from '../autodiff/index.ts';
import { appendGraphPatch, type GraphPatch, type Model, tensorValueInfo } from '../onnx/index.ts';
import { emitView, type LayerViews, viewEmitter, viewedShape } from './layer-view.ts';

const ONNX_FLOAT = 1;

/** A further backward graph from the same explained tensor and seed, under its own rule set. */
export interface AlsoPart {
  readonly wrt: readonly string[];
  readonly ruleSet: RuleSet;
}

export function compileWithViews(
  bytes: Uint8Array,
  model: Model,
  options: CompileOptions,
  views: LayerViews = {},
  also: readonly AlsoPart[] = [],
): GradientModel {
  const { patch, ...compiled } = withParts(model, options, also);
  const viewed = compiled.outputs.filter((o) => views[o.tensor] && views[o.tensor]!.kind !== 'nchw');
  if (viewed.length === 0) return { bytes: appendGraphPatch(bytes, patch), ...compiled };
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
  // Raw outputs that are graph outputs of the model itself stay (they are not in the patch).
  const kept = (patch.output ?? []).filter((out) => !replaced.has(out.name ?? ''));
  const full: GraphPatch = {
    ...patch,
    node: [...(patch.node ?? []), ...e.nodes],
    initializer: [...(patch.initializer ?? []), ...e.initializers],
    output: [...kept, ...added],
  };
  return { bytes: appendGraphPatch(bytes, full), ...compiled, outputs };
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
    },
  };
}
