// Parity with pytorch-grad-cam 1.5.5's faithfulness metrics (../shared/reference/metrics, README
// inside): on the same maps and input tensors, scored by the shared MobileNetV2 through gradsight's
// ImageModel, the cam-mult confidence change (logit and softmax), drop and increase in confidence,
// and ROAD MoRF/LeRF per percentile and combined (imputer noise 0) agree within 1e-4; the imputed
// tensors at the 50th percentile agree with pytorch-grad-cam's. ROAD runs 18 imputations per map:
// a subset of the entries by default (both cat Grad-CAM maps, whose imputed tensors are stored, and
// an Eigen-CAM map whose lowest percentiles remove every pixel), all with GRADSIGHT_ROAD_ALL=1.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { camMultConfidence } from '../../src/eval/metrics/confidence.ts';
import { road, roadImputed } from '../../src/eval/metrics/road.ts';
import { classScorer, type InputRow } from '../../src/eval/perturbation.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { readReference } from '../helpers/reference.ts';
import { modelPath, sharedDir } from '../helpers/shared.ts';

const metricsFile = join(sharedDir, 'reference', 'metrics', 'metrics.json');
const skip = existsSync(metricsFile)
  ? false
  : `pytorch-grad-cam metric references not found at ${metricsFile}`;
const TOL = 1e-4;

interface Entry {
  readonly image: string;
  readonly method: string;
  readonly class: number;
  readonly map: string;
  readonly input: string;
  readonly [metric: string]: unknown;
}

const reference = skip
  ? { entries: [] as Entry[], percentiles: [] as number[], imputer_noise: 0 }
  : (JSON.parse(readFileSync(metricsFile, 'utf8')) as {
      entries: Entry[];
      percentiles: number[];
      imputer_noise: number;
    });

const rowOf = (file: string): InputRow => ({
  data: readReference(file).data as Float32Array,
  channels: 3,
  height: 224,
  width: 224,
  layout: 'NCHW',
});
const mapOf = (file: string) => readReference(file).data as Float32Array;
const name = (e: Entry) => `${e.image} ${e.method} c${e.class}`;

describe('faithfulness metrics: parity with pytorch-grad-cam', { skip }, () => {
  test('cam-mult confidence change, drop and increase (logit and softmax), every entry', async (t) => {
    const model = await openImageModel(modelPath('mobilenet_v2_1.0_224_quant'));
    let worst = 0;
    try {
      for (const e of reference.entries) {
        const input = rowOf(e.input);
        for (const kind of ['logit', 'softmax'] as const) {
          const scorer = await classScorer(model, e.class, kind);
          const [r] = await camMultConfidence(scorer, input, [mapOf(e.map)]);
          const expected = {
            change: e[`cam_mult_change_${kind}`] as number,
            drop: e[`drop_in_confidence_${kind}`] as number,
            increase: e[`increase_in_confidence_${kind}`] as number,
          };
          for (const k of ['change', 'drop', 'increase'] as const) {
            const err = Math.abs(r![k] - expected[k]);
            worst = Math.max(worst, err);
            assert.ok(err <= TOL, `${name(e)} ${kind} ${k}: ${r![k]} vs pytorch-grad-cam ${expected[k]}`);
          }
        }
      }
    } finally {
      await model.release();
    }
    t.diagnostic(
      `${reference.entries.length} entries × logit/softmax: max |error| ${worst.toExponential(2)}`,
    );
  });

  test('ROAD imputed tensors at the 50th percentile (noise 0)', (t) => {
    for (const e of reference.entries.filter((x) => x.imputed_morf50)) {
      for (const order of ['morf', 'lerf'] as const) {
        const got = roadImputed(rowOf(e.input), mapOf(e.map), 50, order, { noise: 0 });
        const want = readReference(`metrics/${e[`imputed_${order}50`]}`).data as Float32Array;
        let err = 0;
        for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
        t.diagnostic(`${name(e)} ${order}: max |error| ${err.toExponential(2)}`);
        assert.ok(err <= TOL, `${name(e)} imputed ${order} 50: max error ${err}`);
      }
    }
  });

  test('ROAD MoRF, LeRF per percentile and combined (softmax, noise 0)', async (t) => {
    const all = process.env.GRADSIGHT_ROAD_ALL === '1';
    const entries = reference.entries.filter(
      (e) =>
        all ||
        (e.image === 'cat.png' && (e.method === 'gradcam' || (e.method === 'eigencam' && e.class === 286))),
    );
    const model = await openImageModel(modelPath('mobilenet_v2_1.0_224_quant'));
    let worst = 0;
    try {
      for (const e of entries) {
        const scorer = await classScorer(model, e.class, 'softmax');
        const r = await road(scorer, rowOf(e.input), mapOf(e.map), {
          noise: reference.imputer_noise,
          percentiles: reference.percentiles,
        });
        for (const [order, curve] of [
          ['morf', r.morf],
          ['lerf', r.lerf],
        ] as const) {
          const want = e[`road_${order}_softmax`] as Record<string, number>;
          reference.percentiles.forEach((p, i) => {
            const err = Math.abs(curve.changes[i]! - want[String(p)]!);
            worst = Math.max(worst, err);
            assert.ok(err <= TOL, `${name(e)} ROAD ${order} ${p}: ${curve.changes[i]} vs ${want[String(p)]}`);
          });
        }
        const err = Math.abs(r.combined - (e.road_combined_softmax as number));
        worst = Math.max(worst, err);
        assert.ok(err <= TOL, `${name(e)} ROAD combined: ${r.combined} vs ${e.road_combined_softmax}`);
      }
    } finally {
      await model.release();
    }
    t.diagnostic(
      `${entries.length} entries × 9 percentiles × MoRF/LeRF: max |error| ${worst.toExponential(2)}`,
    );
  });
});
