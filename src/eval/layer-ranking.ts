// "Which layer?" answered with numbers. For every candidate layer, one batched gradient run gives
// Grad-CAM at that layer; the input masked by the layer's map (x ⊙ map, as Score-CAM masks) is run
// forward, and the drop of the target's probability measures how much of the evidence the map keeps
// (the "average drop" of Chattopadhay et al., Grad-CAM++; above 100% kept is their "increase in
// confidence"). Layers are ranked by probability kept, highest first; the
// map's spatial resolution is reported next to it (finer maps localize more precisely).

import { GradsightError } from '../errors.ts';
import { targetGradients } from '../explain/gradients.ts';
import { gradcam } from '../methods/gradcam.ts';
import { fuseLayers } from '../methods/pipeline.ts';
import type { MethodContext } from '../methods/types.ts';
import type { ImageModel } from '../model/image-model.ts';
import { type LayerLayout, parseLayerLayout, viewedShape } from '../model/layer-view.ts';
import { type LayerInfo, withLayout } from '../model/layers.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';
import { Masker } from './mask-model.ts';
import { relativeDrop } from './metrics/confidence.ts';
import { logSoftmaxAt, modelScorer } from './perturbation.ts';

export interface LayerScore {
  readonly layer: LayerInfo;
  /** h·w of the layer's maps. */
  readonly resolution: number;
  /** max(0, p − p_masked)/p for the explained class, in [0, 1]; undefined without an image. */
  readonly drop: number | undefined;
  /** p_masked / p. */
  readonly kept: number | undefined;
  readonly isDefault: boolean;
}

export interface RankOptions {
  /** The class to explain (default: the top-1 class). */
  readonly classIndex?: number;
  /** Score at most this many layers (the latest ones), to bound the work. */
  readonly limit?: number;
  /** Read every candidate with this layout (default: each layer's inferred view). */
  readonly layerLayout?: string | LayerLayout;
}

/** Ranks candidate layers for one preprocessed image [1, ...]; without an image, by resolution only. */
export async function rankLayers(
  model: ImageModel,
  input: Float32Tensor | undefined,
  opts: RankOptions = {},
): Promise<{
  readonly scores: LayerScore[];
  readonly classIndex: number | undefined;
}> {
  // Layers are ranked through their views (layer-view.ts); those whose layout is ambiguous, or that a
  // stated layout does not fit, are left out.
  const layout = typeof opts.layerLayout === 'string' ? parseLayerLayout(opts.layerLayout) : opts.layerLayout;
  const all = (await model.layers()).flatMap((l) => {
    try {
      return [withLayout(l, layout)];
    } catch {
      return [];
    }
  });
  const def = await model.defaultLayer().catch(() => undefined);
  const spatial = (l: LayerInfo) => {
    const s = viewedShape(l.shape, l.view!);
    const h = s[2];
    const w = s[3];
    return typeof h === 'number' && typeof w === 'number' ? h * w : 0;
  };
  const layers = opts.limit ? all.slice(-opts.limit) : all;
  if (!input) {
    const scores = layers.map((layer) => ({
      layer,
      resolution: spatial(layer),
      drop: undefined,
      kept: undefined,
      isDefault: layer.name === def?.name,
    }));
    return { scores: scores.sort((a, b) => b.resolution - a.resolution), classIndex: undefined };
  }
  // The class's logit, through the same targets as explain and grad.
  const r = await targetGradients(model, input, {
    wrt: layers.map((l) => l.name),
    target: opts.classIndex !== undefined ? { kind: 'class', index: opts.classIndex } : 'pred',
    views: Object.fromEntries(layers.map((l) => [l.name, l.view!])),
  });
  const target = r.graph.reads;
  const logits = r.explained;
  const c = r.rows[0]!.index!;
  // Log-probabilities: a class whose probability underflows float32 still has a ratio (not 0 / 0).
  const lp = logSoftmaxAt(logits.data, c);
  if (!Number.isFinite(lp)) {
    throw new GradsightError(
      'non-finite',
      `the model's output for the image is not finite (class ${c}: ${lp})`,
      {
        hint: 'check the model weights and the input for NaN/Inf; layers cannot be ranked on non-finite scores',
      },
    );
  }
  // The input masked by each layer's Grad-CAM map, scored as one perturbation.
  const [height, width] = (
    model.preprocess.layout === 'NCHW' ? input.dims.slice(2, 4) : input.dims.slice(1, 3)
  ) as [number, number];
  const plane = height * width;
  const maps = new Float32Array(layers.length * plane);
  for (const [i, layer] of layers.entries()) {
    const ctx = {
      layers: [layer.name],
      activations: async () => r.values[layer.name]!,
      gradients: async () => r.grads[layer.name]!,
    } as unknown as MethodContext;
    const result = await gradcam.compute(ctx);
    if (result.kind !== 'cam') continue;
    maps.set(fuseLayers(result.perLayer, height, width, 'per-image').data, i * plane);
  }
  const rowDims = input.dims.slice(1);
  const masker = await Masker.create(model.runtime, {
    from: [height, width],
    row: rowDims,
    layout: model.preprocess.layout,
    normalize: false,
  });
  let pm: Float32Array;
  try {
    const scorer = await modelScorer(model, {
      run: (batch) => model.runTensor(batch, target),
      score: (logitsRow) => logSoftmaxAt(logitsRow, c),
    });
    pm = await scorer.masked(masker, input, {
      dtype: 'float32',
      dims: [layers.length, height, width],
      data: maps,
    });
  } finally {
    await masker.release();
  }
  const scores: LayerScore[] = layers.map((layer, i) => ({
    layer,
    resolution: spatial(layer),
    drop: relativeDrop(1, Math.exp(pm[i]! - lp)),
    kept: Math.exp(pm[i]! - lp),
    isDefault: layer.name === def?.name,
  }));
  return { scores: scores.sort((a, b) => b.kept! - a.kept! || b.resolution - a.resolution), classIndex: c };
}
