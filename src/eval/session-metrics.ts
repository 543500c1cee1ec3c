// The metric-table entries that hold models for a whole run (registry.ts `session`): the sanity checks
// (Adebayo et al.: cascading randomization of the weights from the top layer down, and the random
// logit) and adversarial images (PGD from gradsight's own input gradients, the true class's map on the
// adversarial image against the clean one). Their computations live in metrics/sanity.ts and
// metrics/adversarial.ts; this file feeds them one image at a time and names their values.

import type { Explainer } from '../explain/explainer.ts';
import type { MethodId } from '../methods/types.ts';
import type { EvalMetric, MetricOutput } from './metric-context.ts';
import { adversarialLocalization, attack, PixelGradients, pixelImage } from './metrics/adversarial.ts';
import { CascadingRandomization } from './metrics/sanity.ts';

/** The cascade's steps (default of metrics/sanity.ts): the curve's x. */
const SANITY_STEPS = 8;

export const sanityMetric: EvalMetric = {
  id: 'sanity',
  title: 'Sanity checks',
  summary:
    "cascading randomization of the weights from the top layer down, and a random logit: Spearman's ρ of the absolute maps and SSIM of each map with the original's (low = the map depends on the model)",
  paper: 'Adebayo et al. 2018',
  needs: [],
  byDefault: false,
  values: [
    { key: 'sanity.spearman', title: 'ρ, fully randomized', better: 'lower', primary: true },
    { key: 'sanity.ssim', title: 'SSIM, fully randomized', better: 'lower' },
    { key: 'sanity.randomLogit', title: 'ρ, random logit', better: 'lower' },
  ],
  curves: [
    {
      key: 'sanity.cascade',
      title: 'Cascading randomization',
      x: Array.from({ length: SANITY_STEPS }, (_, i) => i + 1),
      xLabel: 'layers randomized (steps, from the top)',
      yLabel: "Spearman's ρ of |map|",
    },
  ],
  session: async (explainer: Explainer, methods: readonly MethodId[], layers) => {
    const checks = CascadingRandomization.create(explainer, {
      methods,
      steps: SANITY_STEPS,
      ...(layers?.length ? { explain: { layers } } : {}),
    });
    return {
      image: async (ctx) => {
        const [r] = await checks.check(ctx.image, [ctx.sample.id]);
        const out: Record<string, MetricOutput> = {};
        for (const m of methods) {
          const steps = r!.cascade.filter((c) => c.method === m).sort((a, b) => a.step - b.step);
          const last = steps.at(-1);
          const logit = r!.randomLogit.find((c) => c.method === m);
          const finite = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);
          out[m] = {
            values: {
              'sanity.spearman': finite(last?.spearmanAbs),
              'sanity.ssim': finite(last?.ssim),
              'sanity.randomLogit': finite(logit?.spearmanAbs),
            },
            curves: { 'sanity.cascade': steps.map((c) => c.spearmanAbs) },
          };
        }
        return { methods: out };
      },
      release: () => checks.release(),
    };
  },
};

/** The budgets of the paper's experiment in pixel units (of 255). */
const EPSILONS = [2, 8] as const;
/** Methods with a CAM map the adversarial localization compares. */
const CAM_METHODS = new Set(['gradcam', 'gradcam++', 'hirescam', 'layercam', 'xgradcam']);

export const adversarialMetric: EvalMetric = {
  id: 'adversarial',
  title: 'Adversarial images',
  summary:
    "untargeted PGD (10 steps, L∞ ε = 2/255 and 8/255, pixels clipped and rounded) from gradsight's input gradients: success rate; the true class's map on the adversarial image vs the clean one (box IoU, ρ)",
  paper: 'Madry et al. 2018; Selvaraju et al. 2017, §6.2',
  needs: [],
  byDefault: false,
  modelValues: EPSILONS.map((e) => ({
    key: `adversarial.success${e}`,
    title: `PGD success, ε = ${e}/255`,
    better: 'lower' as const,
    percent: true,
  })),
  values: [
    {
      key: 'adversarial.boxIou',
      title: 'clean vs adversarial box IoU (ε = 8/255)',
      better: 'higher',
      primary: true,
    },
    { key: 'adversarial.spearman', title: 'clean vs adversarial ρ (ε = 8/255)', better: 'higher' },
  ],
  session: async (explainer: Explainer, methods: readonly MethodId[], layers) => {
    const gradients = await PixelGradients.create(explainer.model);
    const cams = methods.filter((m) => CAM_METHODS.has(m)) as ('gradcam' | 'gradcam++' | 'hirescam')[];
    return {
      image: async (ctx) => {
        if (!ctx.trueClasses.length) return {};
        const clean = pixelImage(ctx.image, explainer.model.preprocess);
        const model: Record<string, number | null> = {};
        let strongest: Awaited<ReturnType<typeof attack>>[number] | undefined;
        for (const epsilon of EPSILONS) {
          const [r] = await attack(gradients, [clean], [ctx.trueClasses], { kind: 'pgd', epsilon });
          model[`adversarial.success${epsilon}`] = r!.success ? 1 : 0;
          strongest = r;
        }
        const out: Record<string, MetricOutput> = {};
        for (const method of cams) {
          const [l] = await adversarialLocalization(explainer, [strongest!], {
            method,
            ...(layers?.length ? { layers } : {}),
          });
          out[method] = {
            values: {
              'adversarial.boxIou': l!.boxIou,
              'adversarial.spearman': Number.isFinite(l!.spearman) ? l!.spearman : null,
            },
          };
        }
        return { model: { values: model }, methods: out };
      },
      release: () => gradients.release(),
    };
  },
};
