// Targets say WHAT is explained; methods say HOW. A target turns the model's output for one image into
// one or more rows, each with a seed (the gradient of the explained scalar w.r.t. the output) and a
// score function (the scalar itself, for the gradient-free methods). Every method works with every
// target.

export type TargetSpec =
  /** The top-1 class of each image (pytorch-grad-cam's default). */
  | { readonly kind: 'predicted' }
  /** The k best classes, explained in one batched run. */
  | { readonly kind: 'top'; readonly k: number }
  | { readonly kind: 'class'; readonly index: number }
  /** A class named by (part of) its label. */
  | { readonly kind: 'label'; readonly text: string }
  /** y_a − y_b: what makes it a rather than b. */
  | { readonly kind: 'contrast'; readonly a: ClassRef; readonly b: ClassRef }
  /** The softmax probability of a class (default: the predicted one) instead of its logit. */
  | { readonly kind: 'probability'; readonly of?: ClassRef }
  /** Sum of a class's scores over a region of a dense [N, C, H, W] output (segmentation). */
  | { readonly kind: 'region'; readonly of: ClassRef; readonly mask?: Float32Array }
  /** A raw seed row, the gradient of anything linear in the output. */
  | { readonly kind: 'seed'; readonly seed: Float32Array; readonly description?: string };

export type ClassRef = number | string;

export interface TargetRow {
  /** Which image of the batch this row explains. */
  readonly image: number;
  /** The class, when the target is one class (or the first of a contrast). */
  readonly index: number | undefined;
  readonly label: string;
  /** Human-readable, e.g. "Egyptian cat (286)", "tabby (281) vs tiger cat (282)". */
  readonly description: string;
  readonly kind: TargetSpec['kind'];
  readonly counterfactual: boolean;
  /** d(explained scalar)/d(output row), same size as one output row. */
  readonly seed: Float32Array;
  /** The explained scalar for an output row (gradient-free methods use it). */
  score(output: Float32Array): number;
}
