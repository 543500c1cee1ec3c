// The browser app served by `gradsight serve`, in headless Chromium: the shared MobileNetV2 on cat.png
// with Grad-CAM, Guided Grad-CAM and the counterfactual, each map equal to Node's explain within 1e-4;
// the class picker gives that class's map; every request stays on the app's origin. The screenshot in
// the README comes from here (UPDATE_SCREENSHOT=1 writes docs/app.png; otherwise a temporary file).

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { Explanation } from '../../src/explain/explainer.ts';
import { loadExplainer } from '../../src/explain/load-node.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { repoRoot, sharedDir, skipNoShared } from '../helpers/shared.ts';
import {
  ensureApp,
  foreignRequests,
  launch,
  maxDiff,
  nextResult,
  type PageMap,
  serve,
  skipNoChromium,
} from './serve-helpers.ts';

const skip = skipNoChromium || skipNoShared;
const modelDir = join(sharedDir, 'models', 'mobilenet_v2_1.0_224_quant');
const catPath = join(sharedDir, 'images', 'cat.png');
let browser: Browser | undefined;

before(async () => {
  if (skip) return;
  await ensureApp();
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

function assertSame(page: PageMap, node: Explanation, what: string): void {
  assert.equal(page.method, node.method, what);
  assert.deepEqual([page.width, page.height], [node.width, node.height], `${what}: size`);
  assert.equal(page.target.index, node.target.index, `${what}: class`);
  assert.equal(page.target.counterfactual, node.target.counterfactual, `${what}: counterfactual`);
  const ref = node.map ?? node.pixels!;
  const d = maxDiff(page.map, ref);
  assert.ok(d <= 1e-4, `${what}: the page's map differs from Node's by ${d}`);
  // Not a blank map: the comparison means something.
  assert.ok(
    ref.some((v) => v > 0),
    `${what}: Node's map is blank`,
  );
}

test('the app explains MobileNetV2 on cat.png as Node does: Grad-CAM, Guided Grad-CAM, counterfactual, class picker', {
  skip,
  timeout: 240_000,
}, async () => {
  const server = await serve([modelDir, catPath]);
  const node = await loadExplainer(modelDir);
  try {
    const cat = await decodeImageFile(catPath);
    const context = await browser!.newContext({ viewport: { width: 1360, height: 1000 } });
    const page = await context.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => problems.push(e.message));
    const origin = new URL(server.url).origin;
    // The printed URL opens with the model and image loaded; the test asks for two methods at once
    // (side by side) and the wasm backend (Node's CPU kernels are the reference).
    await page.goto(`${server.url}&method=gradcam,guided-gradcam&backend=wasm`);
    const first = await nextResult(page);
    assert.equal(
      await page.evaluate(() => crossOriginIsolated),
      true,
      'the page is cross-origin isolated (wasm threads)',
    );
    const ref = await node.explain(cat, { method: ['gradcam', 'guided-gradcam'] });
    assert.equal(first.maps.length, 2);
    assertSame(first.maps[0]!, ref.explanations[0]!, 'Grad-CAM');
    assertSame(first.maps[1]!, ref.explanations[1]!, 'Guided Grad-CAM');
    assert.deepEqual(
      first.predictions.map((p) => p.index),
      ref.predictions[0]!.top.map((p) => p.index),
      'top-5 classes',
    );
    assert.equal(await page.locator('#maps figure').count(), 2, 'two maps side by side');
    assert.equal(await page.locator('#top5 input').count(), 5, 'the class picker shows the top 5');
    const shot = process.env.UPDATE_SCREENSHOT
      ? join(repoRoot, 'docs', 'app.png')
      : join(await mkdtemp(join(tmpdir(), 'gradsight-app-')), 'app.png');
    await page.screenshot({ path: shot, fullPage: false });

    // The class picker: the third class of the top 5 gives that class's map.
    const third = first.predictions[2]!;
    await page.locator('#top5 input').nth(2).check();
    const picked = await nextResult(page, first.seq);
    const refPicked = await node.explain(cat, { method: ['gradcam', 'guided-gradcam'], target: third.index });
    assert.equal(picked.maps[0]!.target.index, third.index);
    assertSame(picked.maps[0]!, refPicked.explanations[0]!, `Grad-CAM of class ${third.label}`);
    assertSame(picked.maps[1]!, refPicked.explanations[1]!, `Guided Grad-CAM of class ${third.label}`);
    assert.ok(maxDiff(picked.maps[0]!.map, first.maps[0]!.map) > 0.05, 'another class, another map');

    // The counterfactual toggle explains −y for that class (the top class's counterfactual is blank
    // here: nothing in the photo argues against "Egyptian cat").
    await page.locator('#counterfactual').check();
    const cf = await nextResult(page, picked.seq);
    const refCf = await node.explain(cat, {
      method: ['gradcam', 'guided-gradcam'],
      target: third.index,
      counterfactual: true,
    });
    assertSame(cf.maps[0]!, refCf.explanations[0]!, 'counterfactual Grad-CAM');
    assertSame(cf.maps[1]!, refCf.explanations[1]!, 'counterfactual Guided Grad-CAM');
    assert.ok(maxDiff(cf.maps[0]!.map, picked.maps[0]!.map) > 0.1, 'the counterfactual map is another map');

    // Cancel: Score-CAM (hundreds of masked forwards) starts, the page stays responsive, Cancel stops it.
    await page.locator('#methods input[value="scorecam"]').check();
    await page.waitForFunction(() => document.body.dataset.state === 'busy');
    const t0 = Date.now();
    assert.equal(await page.evaluate(() => 1 + 1), 2, 'the page answers while the worker explains');
    assert.ok(Date.now() - t0 < 1000, 'the page answered within a second');
    await page.locator('#cancel').click();
    await page.waitForFunction(() => document.body.dataset.state === 'idle', undefined, { timeout: 60_000 });
    assert.equal(await page.locator('#status').textContent(), 'cancelled');
    assert.equal(await page.locator('#message').isVisible(), false, 'a cancel is not an error');

    assert.deepEqual(foreignRequests(requests, origin), [], 'every request is to the app’s own origin');
    assert.ok(
      requests.some((u) => u.endsWith('.wasm')),
      'the wasm came from the app itself',
    );
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await node.release();
    const code = await server.stop();
    assert.equal(code, 130, `Ctrl-C stops the server (exit 130):\n${server.output()}`);
  }
});
