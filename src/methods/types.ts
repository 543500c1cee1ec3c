// What a method is: an entry of the method table (id, needs, paper) plus a compute function that turns
// what it needs (activations, gradients, input gradients, masked forwards) into either per-layer CAMs
// at feature resolution or a pixel-space map. Methods never choose targets: a row's seed does.

import type { Emitter, RuleSetName } from '../autodiff/index.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';

export type MethodId =
  | 'gradcam'
  | 'hirescam'
  | 'gradcam-elementwise'
  | 'gradcam++'
  | 'xgradcam'
  | 'layercam'
  | 'eigencam'
  | 'eigengradcam'
  | 'scorecam'
  | 'ablationcam'
  | 'cam'
  | 'guided-backprop'
  | 'deconvnet'
  | 'guided-gradcam';

export interface Paper {
  readonly title: string;
  readonly url: string;
  readonly year: number;
}

/** What a method needs computed; the explainer prepares exactly the union of its methods' needs. */
export interface Needs {
  /** Activations of the target layers. */
  readonly activations?: boolean;
  /** Gradients of the target w.r.t. the layers (standard rules). */
  readonly gradients?: boolean;
  /** The input gradient under this rule set. */
  readonly inputGradient?: RuleSetName;
  /** Forward runs on perturbed inputs or activations (Score-CAM, Ablation-CAM). */
  readonly forwardBatches?: boolean;
  /** A global-average-pooling + linear head whose weights are read from the graph (CAM). */
  readonly gapHead?: boolean;
  /** Another method's final map (Guided Grad-CAM uses Grad-CAM's). */
  readonly finalMapOf?: MethodId;
}

export interface MethodSpec {
  readonly id: MethodId;
  readonly title: string;
  /** One line for CLI help and the web app's menu. */
  readonly summary: string;
  readonly paper: Paper;
  /** 'cam': per-layer maps at feature resolution; 'pixels': a [3, H, W] map at input resolution. */
  readonly output: 'cam' | 'pixels';
  readonly needs: Needs;
  /**
   * The method's raw CAM as ONNX nodes: [N, 1, h, w] from activations A and gradients G [N, C, h, w],
   * the same math as `compute` (compiled explainers run it with no gradsight code). Pixel methods
   * compile from `needs` (the input-gradient rule and the map they multiply by) instead.
   */
  readonly camGraph?: (e: Emitter, a: string, g: string) => string;
}

/** Everything a method may ask for, computed lazily and shared between the methods of one run. */
export interface MethodContext {
  /** Rows: one per (image, target) pair. */
  readonly rows: number;
  readonly layers: readonly string[];
  activations(layer: string): Promise<Float32Tensor>;
  gradients(layer: string): Promise<Float32Tensor>;
  inputGradient(rule: RuleSetName): Promise<Float32Tensor>;
  /**
   * Target scores of a row for its input masked by each of the maps [n, h, w]: x ⊙ m_i, m_i the map
   * upsampled to the input (bilinear, align corners) and min-max normalised (Score-CAM's masks),
   * built in the runtime.
   */
  scoreMasked(row: number, maps: Float32Tensor): Promise<Float32Array>;
  /** Target scores of each row when the layer's activations of that row are replaced. */
  scoreActivations(
    row: number,
    layer: string,
    count: number,
    variant: (k: number, out: Float32Array) => void,
  ): Promise<Float32Array>;
  /** The target scores of the unmodified rows. */
  scores(): Promise<Float32Array>;
  /** The input rows [rows, ...] fed to the model. */
  readonly input: Float32Tensor;
  /** Weights [K, C] of a GAP + linear head on top of `layer`, for CAM. */
  gapHeadWeights(layer: string): { weights: Float32Array; classes: number; channels: number };
  /** The seed (target gradient) of each row, [rows, K]. */
  readonly seeds: Float32Tensor;
  /** The final normalised map of another method, [rows, H, W]. */
  finalMap(method: MethodId): Promise<Float32Tensor>;
}

export type MethodResult =
  | { readonly kind: 'cam'; readonly perLayer: ReadonlyMap<string, Float32Tensor> }
  | { readonly kind: 'pixels'; readonly pixels: Float32Tensor };

export interface Method extends MethodSpec {
  compute(ctx: MethodContext): Promise<MethodResult>;
}
