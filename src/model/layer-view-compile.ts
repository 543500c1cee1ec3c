// The gradient model with layer views: the backward graph as the autodiff compiler builds it, then
// view nodes on the value and the gradient of each viewed tensor, whose outputs replace the raw ones.
// Callers see every viewed layer as N×C×H×W, its gradient included.

import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ValueInfoProtoSchema } from 'onnx-buf';
import { type CompileOptions, type GradientModel, gradientPatch } from '../autodiff/index.ts';
import { appendGraphPatch, type GraphPatch, type Model, tensorValueInfo } from '../onnx/index.ts';
import { emitView, type LayerViews, viewEmitter, viewedShape } from './layer-view.ts';

const ONNX_FLOAT = 1;

export function compileWithViews(
  bytes: Uint8Array,
  model: Model,
  options: CompileOptions,
  views: LayerViews = {},
): GradientModel {
  const { patch, ...compiled } = gradientPatch(model, options);
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
