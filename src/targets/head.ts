// A target head: ONNX nodes added before the backward pass, so that a nonlinear explained scalar is
// differentiated exactly at the input being explained (each SmoothGrad copy too) instead of being
// linearised once in TypeScript. The head maps the tensor it reads, X [N, ...], to a tensor
// T [N, ...]; each target row then explains ⟨seed_row, T_row⟩ with its own seed (one-hot for one
// class, one detection, one token). Rows of one run share one head; `key` says when two heads are
// the same nodes.

import type { Emitter } from '../autodiff/emitter.ts';
import type { Shape } from '../onnx/index.ts';

export interface TargetHead {
  /** Same key ⇔ same nodes: runs, compiled gradient models and sessions are cached by it. */
  readonly key: string;
  /** One line for results and reports, e.g. "log-softmax", "obj^0.6·cls^0.4 (FastestDet)". */
  readonly description: string;
  /**
   * Emits the head's nodes reading `x` (shape `xShape`, batch first) and returns the name of T. Only
   * standard ai.onnx ops with gradient rules; the batch axis stays symbolic.
   */
  build(e: Emitter, x: string, xShape: Shape): string;
}
