// Raw gradients of a target, for `gradsight grad` and research use: the same targets as explain()
// (one target graph: the read tensor and its head), one gradient run for every row, the values and
// gradients of the requested tensors per row.

import { explainedTensor, type Profile, RULE_SETS, type RuleSetName } from '../autodiff/index.ts';
import { GradsightError } from '../errors.ts';
import { type GradientResult, GradientRunner } from '../model/gradient-runner.ts';
import type { ImageModel } from '../model/image-model.ts';
import type { LayerViews } from '../model/layer-view.ts';
import type { TargetGraph } from '../model/target-graph.ts';
import {
  counterfactual,
  resolveRows,
  type TargetInput,
  type TargetRow,
  targetFrom,
} from '../targets/index.ts';
import { type Feeds, selectFeeds, selectRows } from '../tensor/rows.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';
import { perImageValues } from './rows.ts';
import { targetEnvOf } from './target-env.ts';
import { checkFinite, DEFAULT_MAX_TARGETS, rowCounter } from './validate-options.ts';

export interface GradientOptions {
  /** Tensors whose value and gradient to return (graph inputs or intermediate tensors). */
  readonly wrt: readonly string[];
  readonly target?: TargetInput;
  readonly counterfactual?: boolean;
  /** The tensor targets read (default: the model's output, before softmax). */
  readonly targetOutput?: string;
  readonly rule?: RuleSetName;
  readonly profile?: Profile;
  readonly feeds?: Feeds;
  /** Layers read through a view (model/layer-view.ts): their values and gradients come out N×C×H×W. */
  readonly views?: LayerViews;
  /** [height, width] of the decoded images, for detection targets given a box in original pixels. */
  readonly originalSizes?: readonly (readonly [number, number])[];
  /** The most rows per image (default 100, as explain()): each row is one more input row in the run. */
  readonly maxTargets?: number;
  /** Differentiate at an input holding NaN or ±Infinity (default false: a 'non-finite' error). */
  readonly allowNonFinite?: boolean;
}

export interface TargetGradients extends GradientResult {
  /** One row per explained scalar (values and gradients are per row, in this order). */
  readonly rows: readonly TargetRow[];
  readonly graph: TargetGraph;
}

export async function targetGradients(
  model: ImageModel,
  batch: Float32Tensor,
  opts: GradientOptions,
): Promise<TargetGradients> {
  if (!opts.allowNonFinite) checkFinite(batch, 'the input');
  const env = targetEnvOf(model);
  const input = opts.target ?? 'pred';
  let target = targetFrom(input, env);
  if (opts.counterfactual) target = counterfactual(target);
  const reads = explainedTensor(
    model.model.graph,
    target.output ?? opts.targetOutput ?? model.output.name,
    target.beforeSoftmax ?? true,
  );
  const { [model.input.name]: _image, ...feeds } = model.feedsFor(batch, opts.feeds);
  const graph = await model.targetGraph(reads, target.head);
  const { x, t } = await model.runTarget(graph, batch, feeds);
  const rows = resolveRows([target], perImageValues(x, t, 1, batch, opts.originalSizes, model.labels, feeds));
  rowCounter(opts.maxTargets ?? DEFAULT_MAX_TARGETS).add(rows);
  const ts = t.data.length / batch.dims[0]!;
  if (rows.length === 0) {
    throw new GradsightError('bad-argument', 'the target selects nothing to explain in these images', {
      hint: 'for detections, lower the score threshold (--score-threshold) or pick another target',
    });
  }
  const runner = await GradientRunner.create(
    model,
    {
      wrt: opts.wrt,
      explained: graph.explained,
      beforeSoftmax: false,
      ruleSet: RULE_SETS[opts.rule ?? 'standard'],
      ...(opts.views ? { views: opts.views } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
    },
    model.threads,
    graph,
  );
  try {
    // One input row per target row: images with several rows are repeated.
    const images = rows.map((r) => r.image);
    const seed = new Float32Array(rows.length * ts);
    rows.forEach((r, i) => {
      seed.set(r.seed, i * ts);
    });
    const result = await runner.run(
      selectRows(batch, images),
      { dtype: 'float32', dims: runner.seedDims(rows.length, t.dims.slice(1)), data: seed },
      selectFeeds(feeds, images),
    );
    return { ...result, rows, graph };
  } finally {
    await runner.release();
  }
}
