// The faithfulness metrics read one class score per image: on a segmentation model (DeepLabV3's dense
// per-pixel output) they are left out of the defaults, and asked for by name they are a typed error
// before any image is explained (not a softmax over the whole dense row, which would mean nothing).

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDataset } from '../../src/eval/datasets/index.ts';
import { EVAL_METRICS, meetsNeeds } from '../../src/eval/registry.ts';
import { defaultMetrics, evaluate } from '../../src/eval/run.ts';
import { loadExplainer } from '../../src/explain/load-node.ts';
import { sharedDir, skipNoShared } from '../helpers/shared.ts';

test('a segmentation model gets no faithfulness metrics', { skip: skipNoShared }, async () => {
  const dataset = await openDataset(join(sharedDir, 'data', 'voc-samples'));
  // No default metric of a VOC dataset needs a score, and none that does passes without one.
  assert.deepEqual(defaultMetrics(dataset, 20, false), defaultMetrics(dataset, 20, true));
  const has = { boxes: true, masks: true, twoClasses: true };
  for (const m of EVAL_METRICS.filter((m) => m.needs.includes('scorer'))) {
    assert.equal(meetsNeeds(m, { ...has, scores: false }), false, m.id);
    assert.equal(meetsNeeds(m, has), true, m.id);
  }

  const ex = await loadExplainer(join(sharedDir, 'models', 'deeplabv3_mnv2_pascal_quant'));
  const out = await mkdtemp(join(tmpdir(), 'gradsight-eval-scores-'));
  let explained = 0;
  const explain = ex.explain.bind(ex);
  ex.explain = (...args: Parameters<typeof ex.explain>) => {
    explained++;
    return explain(...args);
  };
  try {
    await assert.rejects(
      evaluate(ex, dataset, {
        metrics: ['localization', 'deletion'],
        records: join(out, 'r.jsonl'),
        limit: 1,
      }),
      { code: 'method-not-applicable', message: /deletion perturb the input and read one class score/ },
    );
    assert.equal(explained, 0);
  } finally {
    await ex.release();
    await rm(out, { recursive: true, force: true });
  }
});
