// Why a map came out empty. An all-zero (or NaN) map is the most reported "bug" of every CAM tool;
// gradsight says which of the usual causes it is, with what to do.

import type { MethodId } from '../methods/types.ts';
import { allFinite } from '../tensor/finite.ts';

export interface Diagnostic {
  readonly code: 'non-finite' | 'zero-gradient' | 'all-weights-negative' | 'empty-map';
  readonly message: string;
  readonly suggestion: string;
}

export interface DiagnoseInput {
  readonly method: MethodId;
  /** The final map of one row (input resolution), or the pixel map. */
  readonly map: Float32Array;
  /** This row's raw per-layer CAMs before the ReLU (feature resolution). */
  readonly rawCams: readonly Float32Array[];
  /** What this row's gradients at the layers are (gradient methods only): gradientCheck of each. */
  readonly gradients: readonly GradientCheck[];
  /** The explained probability, for probability targets only (a logit's gradient never saturates). */
  readonly probability: number | undefined;
  /** The row explains −y (a counterfactual): the advice differs. */
  readonly counterfactual?: boolean;
  /** The explained scalar at the clean input: NaN or ±Inf means the model's output is not finite. */
  readonly score?: number;
}

/** Whether a row's gradient at a layer is finite, and whether it is zero everywhere. */
export interface GradientCheck {
  readonly finite: boolean;
  readonly zero: boolean;
}

/** The check of a gradient read out of the run. */
export function gradientCheck(g: Float32Array): GradientCheck {
  return { finite: allFinite(g), zero: g.every((v) => v === 0) };
}

/** The check from Σ|g| in float64 (a run with in-graph maps): NaN or ±Inf iff some g is, 0 iff all are. */
export function gradientCheckOfSum(sum: number): GradientCheck {
  return { finite: Number.isFinite(sum), zero: sum === 0 };
}

export function diagnose(d: DiagnoseInput): Diagnostic | undefined {
  const finite = allFinite(d.map);
  const nonzero = d.map.some((v) => v !== 0);
  const suggestion =
    'check the input and the model weights for NaN/Inf (gradsight inspect) and for overflowing activations (e.g. an fp16 model)';
  if (d.score !== undefined && !Number.isFinite(d.score)) {
    return {
      code: 'non-finite',
      message: `the explained score is ${d.score}: the model's output is not finite`,
      suggestion,
    };
  }
  if (!finite || d.gradients.some((g) => !g.finite)) {
    return { code: 'non-finite', message: 'the map contains NaN or infinite values', suggestion };
  }
  // Before the ReLU: a −Inf CAM (infinite activations) becomes an all-zero map, which is not negative evidence.
  if (d.rawCams.some((c) => !allFinite(c))) {
    return {
      code: 'non-finite',
      message: "the layer's weighted activations are NaN or infinite (the map shows nothing)",
      suggestion,
    };
  }
  if (nonzero) return undefined;
  if (d.gradients.length && d.gradients.every((g) => g.zero)) {
    const saturated = d.probability !== undefined && d.probability > 0.9999;
    return {
      code: 'zero-gradient',
      message: saturated
        ? 'the gradient at the layer is zero: the softmax is saturated'
        : 'the gradient at the layer is zero: the layer does not influence this target',
      suggestion: saturated
        ? 'explain the logit (the default) rather than the probability'
        : 'pick a layer on the path to the output (gradsight inspect lists candidates)',
    };
  }
  // Exactly zero everywhere (dead activations) is not negative evidence: the counterfactual is empty too.
  if (
    d.rawCams.length &&
    d.rawCams.every((c) => c.every((v) => v <= 0)) &&
    d.rawCams.some((c) => c.some((v) => v < 0))
  ) {
    return {
      code: 'all-weights-negative',
      message: 'every location of the weighted activation sum is negative, so the ReLU leaves nothing',
      suggestion: d.counterfactual
        ? 'nothing in the image lowers this class at this layer: removing any region would not raise its score'
        : 'the evidence speaks against this class here: try the counterfactual (--counterfactual)',
    };
  }
  return {
    code: 'empty-map',
    message: 'the map is zero everywhere',
    suggestion: `try another layer or method than ${d.method}`,
  };
}
