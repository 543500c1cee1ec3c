// gradsight demo, the README's main command: runs offline on the shipped models, writes the report,
// and recomputes the held-out numbers, which must match demo/metrics.json (the values the models'
// READMEs quote) within tolerances, and show what the demo claims: the biased model fails on
// unbiased data and puts far more Grad-CAM mass on the watermark than the clean model.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DemoMetrics } from '../../src/demo/evaluate.ts';
import { runCli } from '../helpers/cli.ts';
import { repoRoot } from '../helpers/shared.ts';

test('demo: report, numbers within tolerance of the stored ones', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-demo-'));
  try {
    const r = await runCli(['demo', '-o', dir, '--json'], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout) as DemoMetrics;
    const stored = JSON.parse(await readFile(join(repoRoot, 'demo', 'metrics.json'), 'utf8')) as DemoMetrics;
    t.diagnostic(JSON.stringify(got));
    assert.equal(got.images, stored.images);
    const close = (a: number, b: number, tol: number, what: string) =>
      assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs stored ${b}`);
    close(got.accuracy.shapes, stored.accuracy.shapes, 0.01, 'accuracy shapes');
    close(got.accuracy.biasedOnTest, stored.accuracy.biasedOnTest, 0.02, 'biased on test');
    close(got.accuracy.biasedOnBiasedVal, stored.accuracy.biasedOnBiasedVal, 0.01, 'biased on biased val');
    for (const k of ['gradcam', 'cam', 'centreBox', 'fullImage'] as const)
      close(got.localization[k], stored.localization[k], 0.02, `localization ${k}`);
    for (const k of ['gradcam', 'cam', 'centre'] as const)
      close(got.pointing[k], stored.pointing[k], 0.02, `pointing ${k}`);
    close(got.cueMass.biased, stored.cueMass.biased, 0.01, 'cue mass biased');
    close(got.cueMass.clean, stored.cueMass.clean, 0.005, 'cue mass clean');
    // What the demo shows.
    assert.ok(got.accuracy.shapes >= 0.9, 'the clean model works');
    assert.ok(
      got.accuracy.biasedOnTest <= got.accuracy.shapes - 0.2,
      'the biased model fails on unbiased data',
    );
    assert.ok(
      got.cueMass.biased >= 10 * Math.max(got.cueMass.clean, 1e-3),
      'the biased model looks at the watermark',
    );
    // The paper's finding at ILSVRC-like scale: Grad-CAM's 15%-of-max boxes localize better than a
    // centre box of the mean ground-truth size, and far better than the whole image.
    assert.ok(
      got.localization.gradcam >= got.localization.centreBox + 0.1,
      'Grad-CAM well above the centre box',
    );
    assert.ok(got.localization.gradcam >= got.localization.fullImage + 0.2, 'Grad-CAM above the whole image');
    assert.ok(
      got.pointing.gradcam > got.pointing.centre,
      'Grad-CAM points at the object more than the centre',
    );
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    assert.match(html, /Held-out evaluation/);
    assert.match(html, /shapes-biased/);
    assert.doesNotMatch(html, /(src|href)="https?:/);
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as { images: unknown[] };
    assert.ok(results.images.length >= 10);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
