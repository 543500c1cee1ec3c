// explain()'s signal, progress callback and gradient profile: an aborted call rejects with the
// signal's reason between runs and computes nothing more; progress counts one run per target group
// and one step per method; the 'web' recipes give the 'cpu' maps; bad values are typed errors.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExplainProgress } from '../../src/explain/explainer.ts';
import { methodById } from '../../src/methods/table.ts';
import {
  DENSE_FC,
  DENSE_IMAGE,
  denseModel,
  explainerFor,
  inputTensor,
  maxAbsDiff,
} from '../helpers/hand-models.ts';

const x = () => inputTensor([DENSE_IMAGE], 3);

test('progress: the run, then each method, counted against the total', async () => {
  const ex = await explainerFor(denseModel(DENSE_FC, 3));
  const seen: ExplainProgress[] = [];
  const r = await ex.explain(x(), {
    method: ['gradcam', 'hirescam', 'guided-backprop'],
    onProgress: (p) => seen.push(p),
  });
  assert.equal(r.explanations.length, 3);
  assert.deepEqual(
    seen.map((p) => [p.done, p.total, p.step]),
    [
      [1, 4, 'run'],
      [2, 4, 'gradcam'],
      [3, 4, 'hirescam'],
      [4, 4, 'guided-backprop'],
    ],
  );
  await ex.release();
});

test('an aborted signal rejects with its reason, before any run or between methods', async () => {
  const ex = await explainerFor(denseModel(DENSE_FC, 3));
  const before = new AbortController();
  before.abort();
  await assert.rejects(ex.explain(x(), { signal: before.signal }), { name: 'AbortError' });

  // Aborted after Grad-CAM's maps: Score-CAM (masked forward runs of its own) is never computed.
  const scorecam = methodById('scorecam')! as { compute: (...a: unknown[]) => unknown };
  const compute = scorecam.compute;
  let computed = 0;
  scorecam.compute = (...args: unknown[]) => {
    computed++;
    return compute.apply(scorecam, args);
  };
  try {
    const c = new AbortController();
    const reason = new Error('user pressed cancel');
    const steps: string[] = [];
    await assert.rejects(
      ex.explain(x(), {
        method: ['gradcam', 'scorecam'],
        target: 'top:2',
        signal: c.signal,
        onProgress: (p) => {
          steps.push(p.step);
          if (p.step === 'gradcam') c.abort(reason);
        },
      }),
      (e) => e === reason,
    );
    assert.deepEqual(steps, ['run', 'gradcam']);
    assert.equal(computed, 0, 'Score-CAM ran after the abort');
    // Unaborted, the same call computes it.
    await ex.explain(x(), { method: ['gradcam', 'scorecam'], target: 'top:2' });
    assert.equal(computed, 1);
  } finally {
    scorecam.compute = compute;
    await ex.release();
  }
});

test("the 'web' profile's gradient graphs give the 'cpu' maps", async () => {
  const ex = await explainerFor(denseModel(DENSE_FC, 3));
  for (const method of ['gradcam', 'guided-backprop', 'hirescam'] as const) {
    const cpu = await ex.explain(x(), { method, target: 'top:2', profile: 'cpu' });
    const web = await ex.explain(x(), { method, target: 'top:2', profile: 'web' });
    for (let i = 0; i < 2; i++) {
      const a = cpu.explanations[i]!;
      const b = web.explanations[i]!;
      assert.ok(maxAbsDiff((a.map ?? a.pixels)!, (b.map ?? b.pixels)!) <= 1e-6, `${method} row ${i}`);
    }
  }
  await ex.release();
});

test('bad profile, signal or onProgress values are typed errors', async () => {
  const ex = await explainerFor(denseModel(DENSE_FC, 3));
  const bad = [{ profile: 'gpu' }, { signal: 'stop' }, { onProgress: 3 }];
  for (const o of bad) {
    // biome-ignore lint/suspicious/noExplicitAny: wrong types on purpose
    await assert.rejects(ex.explain(x(), o as any), { name: 'GradsightError', code: 'bad-argument' });
  }
  await ex.release();
});
