// evaluate()'s signal stops a run inside an image (between ONNX Runtime runs, not after the image):
// the run rejects with the signal's reason, the finished images stay in the records, and a rerun
// resumes from them to the same results as an uninterrupted run.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDataset } from '../../src/eval/datasets/index.ts';
import { aggregateFile, evaluate } from '../../src/eval/run.ts';
import { loadExplainer } from '../../src/explain/load-node.ts';
import { demoManifest, SHAPES_MODEL } from './demo-data.ts';

test('an aborted run keeps its finished images and resumes to the same results', async () => {
  const root = await demoManifest(4);
  const out = await mkdtemp(join(tmpdir(), 'gradsight-eval-abort-'));
  const ex = await loadExplainer(SHAPES_MODEL);
  try {
    const dataset = await openDataset(join(root, 'manifest.jsonl'));
    const base = { methods: ['gradcam', 'scorecam'] as const, metrics: ['accuracy', 'localization'] };
    const whole = join(out, 'whole.jsonl');
    await evaluate(ex, dataset, { ...base, records: whole });

    // Abort during the third image's Score-CAM: after its Grad-CAM run, before its masked batches end.
    const c = new AbortController();
    const reason = new Error('stop now');
    let calls = 0;
    const explain = ex.explain.bind(ex);
    ex.explain = (image, options) => {
      if (++calls === 3) {
        return explain(image, {
          ...options,
          onProgress: (p) => {
            if (p.step === 'gradcam') c.abort(reason);
          },
        });
      }
      return explain(image, options);
    };
    const records = join(out, 'aborted.jsonl');
    await assert.rejects(evaluate(ex, dataset, { ...base, records, signal: c.signal }), (e) => e === reason);
    const lines = (await readFile(records, 'utf8')).trim().split('\n');
    assert.equal(lines.length, 1 + 2, 'the header and the two finished images');

    ex.explain = explain;
    const resumed = await evaluate(ex, dataset, { ...base, records });
    assert.equal(resumed.resumed, 2);
    const [a, b] = [await aggregateFile(whole), await aggregateFile(records)];
    assert.deepEqual(b.metrics, a.metrics);
  } finally {
    await ex.release();
    await rm(root, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  }
});
