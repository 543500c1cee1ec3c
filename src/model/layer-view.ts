// Layer views: how a feature map that is not N×C×H×W is read as one, so that every method keeps
// seeing NCHW. A view is data: `nchw` (as is), `nhwc` (channels-last, transposed) or `tokens` (a
// transformer's N×L×C tokens: the `skip` leading class/register tokens dropped, the rest reshaped to
// an h×w grid, channels first, as pytorch-grad-cam's reshape_transform does). Views are emitted as
// ONNX nodes on both the value and its gradient: a view is a selection and permutation, so the view
// of d target / d tensor is the gradient with respect to the viewed map.

import { Emitter } from '../autodiff/emitter.ts';
import { GradsightError } from '../errors.ts';
import type { Shape } from '../onnx/index.ts';

export type LayerView =
  | { readonly kind: 'nchw' }
  | { readonly kind: 'nhwc' }
  | { readonly kind: 'tokens'; readonly skip: number; readonly h: number; readonly w: number };

/** What a user may state (the `--layer-layout` flag, the `layerLayout` option): a view with gaps. */
export type LayerLayout =
  | { readonly kind: 'nchw' }
  | { readonly kind: 'nhwc' }
  | { readonly kind: 'tokens'; readonly skip?: number; readonly h?: number; readonly w?: number };

/** Tensor name → view, for the tensors of a gradient run that are read through a view. */
export type LayerViews = Readonly<Record<string, LayerView>>;

export const LAYOUT_FLAG = '--layer-layout';
export const LAYOUT_SYNTAX = 'nchw | nhwc | tokens[:SKIP[:HxW]]';

/** Parses `nchw`, `nhwc`, `tokens`, `tokens:1`, `tokens:1:14x14`. */
export function parseLayerLayout(text: string): LayerLayout {
  const t = text.trim().toLowerCase();
  if (t === 'nchw' || t === 'nhwc') return { kind: t };
  const m = /^tokens(?::(\d+)(?::(\d+)x(\d+))?)?$/.exec(t);
  if (!m) {
    throw new GradsightError('bad-argument', `unknown layer layout ${JSON.stringify(text)}`, {
      hint: `${LAYOUT_FLAG} takes ${LAYOUT_SYNTAX}, e.g. tokens:1 for a ViT with one class token`,
    });
  }
  return {
    kind: 'tokens',
    ...(m[1] !== undefined ? { skip: Number(m[1]) } : {}),
    ...(m[2] !== undefined ? { h: Number(m[2]), w: Number(m[3]) } : {}),
  };
}

export function formatView(view: LayerView): string {
  return view.kind === 'tokens' ? `tokens:${view.skip}:${view.h}x${view.w}` : view.kind;
}

/** The N×C×H×W shape a tensor of `shape` has when read through `view`. */
export function viewedShape(shape: Shape, view: LayerView): Shape {
  const [n, a, b, c] = shape;
  if (view.kind === 'nchw') return shape;
  if (view.kind === 'nhwc') return [n ?? null, c ?? null, a ?? null, b ?? null];
  return [n ?? null, shape[2] ?? null, view.h, view.w];
}

/**
 * The view a stated layout gives a tensor of `shape`, checked against the shape: a typed error when
 * the layout cannot be right (wrong rank, a token count that is not skip + h·w). `grid` is the patch
 * grid inferred from the graph, used for the parts of a tokens layout the user left out.
 */
export function viewFromLayout(
  name: string,
  shape: Shape,
  layout: LayerLayout,
  grid?: { readonly h: number; readonly w: number },
): LayerView {
  const mismatch = (why: string) =>
    new GradsightError('layout-mismatch', `layer ${name} [${shape.join(', ')}] cannot be read as ${why}`, {
      hint: `${LAYOUT_FLAG} takes ${LAYOUT_SYNTAX}: nchw/nhwc for 4-D maps, tokens for N×L×C`,
      details: { layer: name },
    });
  if (layout.kind !== 'tokens') {
    if (shape.length !== 4) throw mismatch(`${layout.kind} (not a 4-D tensor)`);
    return { kind: layout.kind };
  }
  if (shape.length !== 3) throw mismatch('tokens (not an N×L×C tensor)');
  const l = shape[1];
  if (typeof l !== 'number') throw mismatch('tokens (its token count is not static)');
  const h = layout.h ?? (layout.skip === undefined ? grid?.h : undefined);
  const w = layout.w ?? (layout.skip === undefined ? grid?.w : undefined);
  if (h !== undefined && w !== undefined) {
    const skip = layout.skip ?? l - h * w;
    if (skip < 0 || skip + h * w !== l)
      throw mismatch(`tokens:${skip}:${h}x${w} (${l} ≠ ${skip} + ${h}·${w})`);
    return { kind: 'tokens', skip, h, w };
  }
  const skip = layout.skip ?? 0;
  // Without a stated grid: the patch grid if it fits, else a square one.
  if (grid && grid.h * grid.w === l - skip) return { kind: 'tokens', skip, ...grid };
  const side = Math.round(Math.sqrt(l - skip));
  if (side * side !== l - skip)
    throw mismatch(
      `tokens:${skip} (${l - skip} tokens are not a square grid; state it as tokens:${skip}:HxW)`,
    );
  return { kind: 'tokens', skip, h: side, w: side };
}

/** Emits the nodes reading `x` through `view`; returns the N×C×H×W tensor. */
export function emitView(e: Emitter, x: string, view: LayerView): string {
  if (view.kind === 'nchw') return x;
  if (view.kind === 'nhwc') return e.transpose(x, [0, 3, 1, 2]);
  // N×L×C → drop the leading tokens → N×h×w×C (0 keeps the batch axis, symbolic or not) → N×C×h×w.
  const patches = view.skip > 0 ? e.slice(x, [view.skip], [Number.MAX_SAFE_INTEGER], [1]) : x;
  return e.transpose(e.reshape(patches, e.constI64([0, view.h, view.w, -1])), [0, 3, 1, 2]);
}

/**
 * The inverse: the nodes turning an N×C×H×W tensor `x` back into the layer's own layout. Re-inserting
 * dropped leading tokens would need their values as a second input, so a tokens view with skip > 0
 * has no inverse here: a typed error naming `method` (the one that needs it) and the layer.
 */
export function emitInverseView(
  e: Emitter,
  x: string,
  view: LayerView,
  layer: string,
  method: string,
): string {
  if (view.kind === 'nchw') return x;
  const hwc = e.transpose(x, [0, 2, 3, 1]);
  if (view.kind === 'nhwc') return hwc;
  if (view.skip > 0) {
    throw new GradsightError(
      'method-not-applicable',
      `${method} replaces the activations of ${layer}, whose view drops ${view.skip} leading token(s); they cannot be re-inserted`,
      {
        hint: `use a gradient method (gradcam, hirescam, ...) or Score-CAM on this layer, or pick a layer without class tokens`,
        details: { layer, method },
      },
    );
  }
  return e.reshape(hwc, e.constI64([0, view.h * view.w, -1]));
}

/** A fresh emitter for view nodes, named apart from the backward graph's. */
export function viewEmitter(opset: number, prefix: string): Emitter {
  const e = new Emitter(opset, `${prefix}-view`);
  e.enter('layer-view');
  return e;
}
