// explain()'s signal inside Score-CAM: its masked forward batches (explain/perturb.ts) stop at the
// next batch once the signal is aborted, so a long Score-CAM can be cancelled (the browser app's
// Cancel button), not only between methods.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DENSE_FC, DENSE_IMAGE, denseModel, explainerFor, inputTensor } from '../helpers/hand-models.ts';

test('Score-CAM stops between its forward batches when the signal is aborted', async () => {
  const ex = await explainerFor(denseModel(DENSE_FC, 3));
  const model = ex.model as unknown as { runTarget: (...a: unknown[]) => Promise<unknown> };
  const run = model.runTarget;
  let runs = 0;
  let abort: (() => void) | undefined;
  model.runTarget = function (this: unknown, ...args: unknown[]) {
    runs++;
    abort?.();
    return run.apply(this, args);
  };
  try {
    // One channel per batch: unaborted, Score-CAM makes several runs.
    const options = { method: 'scorecam' as const, batchSize: 1 };
    runs = 0;
    await ex.explain(inputTensor([DENSE_IMAGE], 3), options);
    const all = runs;
    assert.ok(all >= 2, `Score-CAM made ${all} forward batches`);
    const c = new AbortController();
    const reason = new Error('user pressed cancel');
    abort = () => c.abort(reason);
    runs = 0;
    await assert.rejects(
      ex.explain(inputTensor([DENSE_IMAGE], 3), { ...options, signal: c.signal }),
      (e) => e === reason,
    );
    assert.equal(runs, 1, 'no forward batch ran after the abort');
  } finally {
    model.runTarget = run;
    await ex.release();
  }
});
