// The metric table of `gradsight eval`: one list that drives the CLI's --metrics choices and help, the
// runner (what each metric needs and computes per image), the aggregation (means with confidence
// intervals, curves, dataset-level values), the report and the README's metric table. The entries live
// by family (map-metric-entries.ts, faithfulness-entries.ts, session-metrics.ts) and call the metric
// functions of src/eval/metrics/ (formulas there and in docs/metrics.md); what they see and return is
// metric-context.ts. Platform-neutral.
//
// Per image the runner explains, with every method, the model class of each dataset class present
// (the best-scoring of the classes it maps to, or the highest-ranked in the top 5) and the predicted
// class; maps are upsampled to the original image size (bilinear, as pytorch-grad-cam) before a map
// metric sees them, and faithfulness metrics get the map at the model's input size with the input.

import { confidence, curveMetric, roadMetric } from './faithfulness-entries.ts';
import { accuracy, bias, discrimination, localization, pointing, seeds } from './map-metric-entries.ts';
import type { EvalMetric } from './metric-context.ts';
import { adversarialMetric, sanityMetric } from './session-metrics.ts';

export type * from './metric-context.ts';

/** Every metric, in the order of the CLI help, results.json, the report and the docs. */
export const EVAL_METRICS: readonly EvalMetric[] = [
  accuracy,
  localization,
  pointing,
  seeds,
  discrimination,
  bias,
  confidence,
  curveMetric('deletion'),
  curveMetric('insertion'),
  roadMetric,
  sanityMetric,
  adversarialMetric,
];

export const EVAL_METRIC_IDS: readonly string[] = EVAL_METRICS.map((m) => m.id);

export function evalMetricById(id: string): EvalMetric | undefined {
  return EVAL_METRICS.find((m) => m.id === id);
}

/** Whether a dataset whose first samples have boxes / masks / several classes meets the metric's needs. */
export function meetsNeeds(
  metric: EvalMetric,
  has: {
    readonly boxes: boolean;
    readonly masks: boolean;
    readonly twoClasses: boolean;
    readonly region?: boolean;
    /** The model scores classes ([N, K]): what the 'scorer' metrics perturb and read (default true). */
    readonly scores?: boolean;
  },
): boolean {
  return metric.needs.every((n) =>
    n === 'boxes'
      ? has.boxes
      : n === 'masks'
        ? has.masks
        : n === 'boxes-or-masks'
          ? has.boxes || has.masks
          : n === 'two-classes'
            ? has.twoClasses && (has.boxes || has.masks)
            : n === 'region'
              ? has.region === true
              : n === 'scorer'
                ? has.scores !== false
                : true,
  );
}

/** The metric table as Markdown (README, docs), generated, never by hand. */
export function metricTableMarkdown(): string {
  const rows = EVAL_METRICS.map((m) => {
    const values = [...(m.modelValues ?? []), ...(m.values ?? [])].map((v) => v.title);
    if (m.win) values.push(m.win.title);
    for (const r of m.reduce?.(2) ?? []) values.push(r.title);
    const cell = (t: string) => t.replace(/\|/g, '\\|');
    return `| \`${m.id}\` | ${cell(m.summary)} | ${cell(values.join('; '))} | ${m.needs.join(', ') || '—'} | ${m.byDefault ? 'yes' : ''} | ${m.paper} |`;
  });
  return [
    '| id | what it measures | values | needs | default | paper |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
