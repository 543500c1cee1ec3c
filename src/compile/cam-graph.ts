// The CAM pipeline as ONNX nodes (each method's raw CAM is its `camGraph` in the method table), so a
// compiled explainer outputs the final map with no gradsight code at run time. The same steps and float32 order as src/methods/pipeline.ts (pytorch-grad-cam, see
// reference-semantics.md b1):
//   per layer: cam → ReLU → (x − min)/(1e-7 + max(x − min)) per image → Resize (linear, half_pixel:
//              OpenCV INTER_LINEAR for upsampling) → ReLU
//   fused:     mean over layers → per-image min-max again.
// Only ops every runtime has: ReduceMean/Sum/Min/Max, Mul, Sub, Add, Div, Relu, Resize, Concat, Shape.

import type { Emitter } from '../autodiff/emitter.ts';

const EPS = 1e-7;

/** pytorch-grad-cam's scale_cam_image without the resize, per image of [N,1,h,w]. */
export function minMaxPerImage(e: Emitter, x: string): string {
  const shifted = e.sub(x, e.reduceExtreme('ReduceMin', x, [1, 2, 3], true));
  return e.div(shifted, e.add(e.scalar(EPS), e.reduceExtreme('ReduceMax', shifted, [1, 2, 3], true)));
}

/**
 * Bilinear resize with half-pixel centres of [N,1,h,w] to [N,1,height,width] (batch kept symbolic).
 * With a static `from` [h, w] that divides the output size, by constant scales (the same float scales
 * ONNX Runtime derives from sizes, without the nodes that build the sizes from the batch).
 */
export function resizeLinear(
  e: Emitter,
  x: string,
  height: number,
  width: number,
  from?: readonly unknown[],
): string {
  const attrs = { mode: { s: 'linear' }, coordinate_transformation_mode: { s: 'half_pixel' } };
  // Opsets 11–12 require roi (and scales) as inputs; an empty tensor stands for "not given".
  const none = e.opset >= 13 ? '' : e.constF([], [0]);
  const [h, w] = from ?? [];
  if (typeof h === 'number' && typeof w === 'number' && height % h === 0 && width % w === 0)
    return e.op('Resize', [x, none, e.constF([1, 1, height / h, width / w], [4])], attrs);
  const sizes = e.concat([e.slice(e.shapeOf(x), [0], [2], [0]), e.constI64([height, width])], 0);
  return e.op('Resize', [x, none, none, sizes], attrs);
}

/**
 * Raw per-layer CAMs [N,1,h_l,w_l] → the final map [N,1,height,width] in [0, 1]. `from`: each CAM's
 * [h_l, w_l] where known (resizeLinear).
 */
export function fuseCams(
  e: Emitter,
  cams: readonly string[],
  height: number,
  width: number,
  from: readonly (readonly unknown[])[] = [],
): string {
  const scaled = cams.map((c, i) =>
    e.relu(resizeLinear(e, minMaxPerImage(e, e.relu(c)), height, width, from[i])),
  );
  let sum = scaled[0]!;
  for (const s of scaled.slice(1)) sum = e.add(sum, s);
  const mean = scaled.length > 1 ? e.div(sum, e.scalar(scaled.length)) : sum;
  return minMaxPerImage(e, mean);
}
