// Targets say WHAT is explained; methods say HOW. One contract: a target names the tensor it reads
// (an output, the scores before a final softmax by default, or any tensor), optionally adds ONNX nodes
// (a head) that map it to T before the backward pass, and yields rows: one explained scalar
// ⟨seed, T_row⟩ per row, each row one image and one seed. A linear target (a logit, A − B, a region's
// sum) has no head; a nonlinear one (a probability, a log-probability, a detection score, a cosine
// similarity) is differentiated exactly, in the graph, at every input it is explained at. Every method
// works with every target, and a user-defined Target needs no library edit.

import type { Detection } from '../detect/types.ts';
import type { Feeds } from '../tensor/rows.ts';
import type { TargetHead } from './head.ts';

export type ClassRef = number | string;

/** A target as the library takes it: a class index, a CLI string, a spec, or a Target of the user's own. */
export type TargetInput = number | string | TargetSpec | Target;

/** Target specs as data (what `parseTarget` reads from the CLI); each becomes a Target. */
export type TargetSpec = BaseSpec & {
  /** Explain −y instead of y (the paper's counterfactual): a modifier of any target. */
  readonly counterfactual?: boolean;
};

type BaseSpec =
  /** The top-1 class of each image (pytorch-grad-cam's default); every detection for a detector. */
  | { readonly kind: 'predicted' }
  /** The k best classes. */
  | { readonly kind: 'top'; readonly k: number }
  | { readonly kind: 'class'; readonly index: number }
  /** A class named by (part of) its label. */
  | { readonly kind: 'label'; readonly text: string }
  /** y_a − y_b: what makes it a rather than b. */
  | { readonly kind: 'contrast'; readonly a: ClassRef; readonly b: ClassRef }
  /** softmax(y)_c in the graph (default c: the predicted class). */
  | { readonly kind: 'probability'; readonly of?: ClassRef }
  /** log softmax(y)_c in the graph: a class's or a token's log-probability. */
  | { readonly kind: 'log-probability'; readonly of?: ClassRef }
  /** sigmoid(y_c) in the graph: one label of a multi-label model. */
  | { readonly kind: 'sigmoid'; readonly of?: ClassRef }
  /** Sum of a class's scores over a region of a dense [N, C, H, W] output (segmentation). */
  | { readonly kind: 'region'; readonly of: ClassRef; readonly mask?: Float32Array }
  /**
   * Detections after score threshold and NMS: all of them, the `count` best, those of one class, or
   * the one best matching a box (in original image pixels when images are given).
   */
  | {
      readonly kind: 'detection';
      readonly count?: number;
      readonly of?: ClassRef;
      readonly box?: readonly [number, number, number, number];
    }
  /** Cosine similarity of the output row to a reference embedding, in the graph. */
  | { readonly kind: 'cosine'; readonly reference: Float32Array; readonly description?: string }
  /** A regression output pushed up (+1) or down (−1); `index` picks one output (default: all, summed). */
  | { readonly kind: 'direction'; readonly sign: 1 | -1; readonly index?: number }
  /** A raw seed row: the gradient of anything linear in the output. */
  | { readonly kind: 'seed'; readonly seed: Float32Array; readonly description?: string }
  /**
   * Words of a caption (captioning models): each word's log-probability given its prefix; all words,
   * the word at a 1-based position, or every occurrence of a word.
   */
  | { readonly kind: 'caption'; readonly word?: number | string }
  /** A user-defined target. */
  | { readonly kind: 'custom'; readonly target: Target };

/** What a target sees of one image at the clean input, to choose its rows. */
export interface TargetValues {
  readonly image: number;
  /** The read tensor's row and its dims without the batch axis. */
  readonly x: Float32Array;
  readonly xDims: readonly number[];
  /** T's row (= x without a head) and its dims. */
  readonly t: Float32Array;
  readonly tDims: readonly number[];
  readonly labels: readonly string[] | undefined;
  /** [height, width] of the model input. */
  readonly inputSize: readonly [number, number];
  /** [height, width] of the decoded image, when the input came from an image. */
  readonly originalSize: readonly [number, number] | undefined;
  /** This image's row of each extra input (a caption's or a question's tokens). */
  readonly feeds?: Feeds;
}

export interface Target {
  /** The tensor read: a graph output or any tensor (default: the model's output). */
  readonly output?: string;
  /** Read the scores before a final Softmax/LogSoftmax (default true). */
  readonly beforeSoftmax?: boolean;
  /** Nodes mapping the read tensor to T before the backward pass (default: none, T = x). */
  readonly head?: TargetHead;
  /** The rows explained for one image. */
  rows(values: TargetValues): readonly TargetRowInit[];
  /**
   * For a classifier output [N, K]: the rows are the k best classes of x, one-hot on T (negated when
   * sign is −1), so the graph can choose them (TopK) and one run gives scores and gradients.
   */
  readonly select?: { readonly k: number; readonly sign: 1 | -1 };
  /** For a classifier output [N, K]: the rows do not depend on the values (a class, A − B, a seed). */
  readonly fixed?: boolean;
}

/** What a target returns per row; `image` is filled in by the resolver. */
export interface TargetRowInit {
  /** The class, when the target is one class (or the first of a contrast). */
  readonly index: number | undefined;
  readonly label: string;
  /** Human-readable, e.g. "Egyptian cat (286)", "p(tabby (281))". */
  readonly description: string;
  /** A short kind for results and file names, e.g. 'class', 'probability', 'detection'. */
  readonly kind: string;
  /** d(explained scalar)/d(T row), same size as one row of T. */
  readonly seed: Float32Array;
  readonly detection?: Detection;
  /** A caption word: its 1-based position and the caption's words. */
  readonly word?: CaptionWord;
}

export interface CaptionWord {
  readonly position: number;
  readonly words: readonly string[];
}

export interface TargetRow extends TargetRowInit {
  /** Which image of the batch this row explains. */
  readonly image: number;
  readonly counterfactual: boolean;
}
