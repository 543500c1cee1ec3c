// The eval table's faithfulness metrics (registry.ts): the input multiplied by the map (Average Drop,
// Increase in Confidence, Win), deletion and insertion (RISE) and ROAD, each on the predicted class's
// map at the model's input size, scored by the class's softmax probability through the one
// perturbation scorer (perturbation.ts); formulas in src/eval/metrics/ and docs/metrics.md.

import { type EvalMetric, predictedMap } from './metric-context.ts';
import { type ConfidenceChange, camMultConfidence, relativeDrop } from './metrics/confidence.ts';
import { perturbationCurve } from './metrics/deletion-insertion.ts';
import { ROAD_PERCENTILES, road } from './metrics/road.ts';

export const confidence: EvalMetric = {
  id: 'confidence',
  title: 'Confidence under the map',
  summary:
    "the input × the map of the predicted class, scored again (softmax): Average Drop, Increase in Confidence and Win (Grad-CAM++); pytorch-grad-cam's confidence change",
  paper: 'Chattopadhay et al. 2018, §5.1',
  needs: ['scorer'],
  byDefault: false,
  values: [
    { key: 'confidence.drop', title: 'Average Drop', better: 'lower', percent: true, primary: true },
    { key: 'confidence.increase', title: 'Increase in Confidence', better: 'higher', percent: true },
    { key: 'confidence.change', title: 'confidence change', better: 'higher' },
  ],
  win: { key: 'confidence.drop', title: 'Win', lowerWins: true },
  method: async (ctx) => {
    const m = predictedMap(ctx);
    if (!m) return {};
    const scorer = await ctx.scorer(m.classIndex, 'softmax');
    const [c] = (await camMultConfidence(scorer, ctx.input, [m.modelMap])) as [ConfidenceChange];
    return {
      values: {
        'confidence.drop': c.clean > 0 ? relativeDrop(c.clean, c.masked) : null,
        'confidence.increase': c.masked > c.clean ? 1 : 0,
        'confidence.change': c.change,
      },
    };
  },
};

/** Deletion or insertion of the predicted class's map (RISE): AUC of the softmax score, and the curve. */
export function curveMetric(mode: 'deletion' | 'insertion'): EvalMetric {
  const deletion = mode === 'deletion';
  return {
    id: mode,
    title: deletion ? 'Deletion' : 'Insertion',
    summary: deletion
      ? "pixels removed most relevant first (one row's worth per step, to zero): area under the class probability, lower is better"
      : 'pixels inserted most relevant first into a blurred input: area under the class probability, higher is better',
    paper: 'Petsiuk et al. 2018 (RISE)',
    needs: ['scorer'],
    byDefault: false,
    values: [
      { key: `${mode}.auc`, title: `${mode} AUC`, better: deletion ? 'lower' : 'higher', primary: true },
    ],
    curves: [
      {
        key: `${mode}.curve`,
        title: `${deletion ? 'Deletion' : 'Insertion'} curve`,
        xLabel: `fraction of pixels ${deletion ? 'removed' : 'inserted'}`,
        yLabel: 'class probability',
      },
    ],
    method: async (ctx) => {
      const m = predictedMap(ctx);
      if (!m) return {};
      const c = await perturbationCurve(
        await ctx.scorer(m.classIndex, 'softmax'),
        ctx.input,
        m.modelMap,
        mode,
      );
      return { values: { [`${mode}.auc`]: c.auc }, curves: { [`${mode}.curve`]: [...c.scores] } };
    },
  };
}

export const roadMetric: EvalMetric = {
  id: 'road',
  title: 'ROAD',
  summary:
    "RemOve And Debias (pytorch-grad-cam's definition): pixels above / below each percentile imputed by noisy linear imputation; the class probability's change, most- and least-relevant first",
  paper: 'Rong et al. 2022',
  needs: ['scorer'],
  byDefault: false,
  values: [
    { key: 'road.morf', title: 'ROAD MoRF change', better: 'lower' },
    { key: 'road.lerf', title: 'ROAD LeRF change', better: 'higher' },
    { key: 'road.combined', title: 'ROAD combined', better: 'higher', primary: true },
  ],
  curves: [
    {
      key: 'road.morfCurve',
      title: 'ROAD, most relevant first',
      x: ROAD_PERCENTILES,
      xLabel: 'percentile removed',
      yLabel: 'probability change',
    },
    {
      key: 'road.lerfCurve',
      title: 'ROAD, least relevant first',
      x: ROAD_PERCENTILES,
      xLabel: 'percentile removed',
      yLabel: 'probability change',
    },
  ],
  method: async (ctx) => {
    const m = predictedMap(ctx);
    if (!m) return {};
    const r = await road(await ctx.scorer(m.classIndex, 'softmax'), ctx.input, m.modelMap);
    return {
      values: { 'road.morf': r.morf.mean, 'road.lerf': r.lerf.mean, 'road.combined': r.combined },
      curves: { 'road.morfCurve': r.morf.changes, 'road.lerfCurve': r.lerf.changes },
    };
  },
};
