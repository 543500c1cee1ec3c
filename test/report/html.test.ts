// The report's HTML without a browser: escaping, the data-URL filter that keeps it offline, PNG sizes and
// box geometry, segmentation wording, failed cards, and the atomic writer. (report.test.ts opens it in
// Chromium.)

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { rgbImage } from '../../src/image/rgb-image.ts';
import { isImageDataUrl, pngDataUrlSize } from '../../src/report/data-url.ts';
import { esc, renderReport } from '../../src/report/html.ts';
import type { ReportData, ReportImage } from '../../src/report/types.ts';
import { writeReport } from '../../src/report/write-node.ts';
import { NASTY_FILE, NASTY_LABEL, pngDataUrl, sampleReport } from './sample-data.ts';

async function tinyPng(width: number, height: number): Promise<string> {
  return pngDataUrl(rgbImage(width, height, new Uint8Array(width * height * 3).fill(90)));
}

function report(images: ReportImage[], options: Record<string, string> = {}): ReportData {
  return {
    title: 't',
    generatedAt: '2025-01-02T03:04:05Z',
    version: '0.0.0',
    model: { name: 'm', path: 'm.onnx', input: '1×3×8×8 NCHW', layers: ['a', 'b'], reads: 'logits' },
    options,
    images,
    summary: 's',
  };
}

test('esc escapes the five HTML metacharacters and nothing else', () => {
  assert.equal(esc(`<a href="x">'&'</a> é ≥`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; é ≥');
  assert.equal(esc(42), '42');
});

test('user text never reaches the HTML unescaped', async () => {
  const html = renderReport(await sampleReport());
  assert.ok(!html.includes(NASTY_LABEL) && !html.includes(NASTY_FILE));
  assert.ok(html.includes(esc(NASTY_LABEL)) && html.includes(esc(NASTY_FILE)));
  assert.doesNotMatch(html, /<script/i);
  // Attribute values blanked, no tag may carry an event handler.
  assert.doesNotMatch(html.replace(/"[^"]*"/g, '""'), /<[^>]*\son\w+=/i, 'an event-handler attribute');
  assert.ok(html.includes('&lt;i&gt;escaped&lt;/i&gt;'), 'option values are escaped');
  assert.ok(html.includes('note &lt;&amp;&gt;'), 'option keys are escaped');
});

test('only inline raster images get in: URLs, SVG and malformed data URLs are dropped', async () => {
  const ok = await tinyPng(4, 3);
  assert.ok(isImageDataUrl(ok));
  for (const bad of [
    'https://example.com/a.png',
    '//example.com/a.png',
    'file:///etc/passwd',
    'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=',
    'data:image/png;base64,AAAA" onerror="alert(1)',
    'data:text/html;base64,PGI+',
    `${ok} `,
  ]) {
    assert.ok(!isImageDataUrl(bad), bad);
  }
  const html = renderReport(
    report([
      {
        file: 'a.png',
        width: 4,
        height: 3,
        thumbnail: 'https://example.com/thumb.png',
        predictions: [],
        predictionKind: 'classification',
        targets: [
          {
            description: 'x',
            panels: [{ method: 'gradcam', title: 'Grad-CAM', image: 'http://example.com/p.png' }],
          },
        ],
      },
    ]),
  );
  assert.ok(!html.includes('example.com'));
  assert.ok(html.includes('no preview') && html.includes('image unavailable'));
  assert.match(html, /Content-Security-Policy" content="default-src &#39;none&#39;; img-src data:/);
  // Every src and href in the document is a data: URL or an in-page anchor.
  for (const m of html.matchAll(/\s(?:src|href)="([^"]*)"/g)) assert.match(m[1]!, /^(data:|#)/, m[1]);
});

test('pngDataUrlSize reads the IHDR size; other formats and junk give undefined', async () => {
  assert.deepEqual(pngDataUrlSize(await tinyPng(37, 5)), { width: 37, height: 5 });
  assert.equal(pngDataUrlSize('data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ'), undefined);
  assert.equal(pngDataUrlSize('data:image/png;base64,AAAA'), undefined);
  assert.equal(pngDataUrlSize('data:image/png;base64,!!!!'), undefined);
});

test('a box is an SVG over the panel in its PNG pixel coordinates, inclusive on both ends', async () => {
  const image = await tinyPng(40, 30);
  const img: ReportImage = {
    file: 'a.png',
    width: 400, // original size: not the panel's; the box must use the PNG's 40×30
    height: 300,
    thumbnail: image,
    predictions: [],
    predictionKind: 'classification',
    targets: [
      {
        description: 'cat (1)',
        panels: [
          { method: 'gradcam', title: 'Grad-CAM', image, box: { x0: 5, y0: 2, x1: 14, y1: 2 } },
          { method: 'x', title: 'X', image, box: { x0: 5, y0: 2, x1: 4, y1: 2 } }, // empty: not drawn
        ],
      },
    ],
  };
  const html = renderReport(report([img]));
  const svgs = [...html.matchAll(/<svg viewBox="([^"]+)"[^>]*>(.*?)<\/svg>/g)];
  assert.equal(svgs.length, 1);
  assert.equal(svgs[0]![1], '0 0 40 30');
  assert.match(svgs[0]![2]!, /<rect x="5" y="2" width="10" height="1" /);
  assert.match(
    html,
    /<img src="data:image\/png;base64,[^"]+" alt="Grad-CAM: cat \(1\)" title="gradcam" width="40" height="30">/,
  );
});

test('a detection: its continuous box as an SVG rectangle in its colour, its label as escaped text', async () => {
  const image = await tinyPng(40, 30);
  const panel = (detection: NonNullable<ReportImage['targets'][number]['panels'][number]['detection']>) => ({
    method: 'gradcam',
    title: 'Grad-CAM',
    image,
    detection,
  });
  const img: ReportImage = {
    file: 'a.png',
    width: 400,
    height: 300,
    predictions: [],
    predictionKind: 'classification',
    targets: [
      {
        description: 'kite (38)',
        panels: [
          panel({ box: { x0: 4.5, y0: 6, x1: 14.25, y1: 20 }, text: 'kite <0.87>', color: '#ff3df0' }),
          // Right half, at the top edge: label anchored right, inside; a bad colour is drawn white.
          panel({ box: { x0: 25, y0: 1, x1: 39, y1: 9 }, text: 'b', color: 'red" onload="x' }),
          panel({ box: { x0: 5, y0: 2, x1: 5, y1: 9 }, text: 'empty' }), // no width: not drawn
        ],
      },
    ],
  };
  const html = renderReport(report([img]));
  const svgs = [...html.matchAll(/<svg class="detection" viewBox="([^"]+)"[^>]*>(.*?)<\/svg>/g)];
  assert.equal(svgs.length, 2);
  assert.equal(svgs[0]![1], '0 0 40 30');
  assert.match(svgs[0]![2]!, /<rect x="4.5" y="6" width="9.75" height="14" [^>]*stroke="#ff3df0"/);
  assert.match(
    html,
    /<span class="det-label" style="left:11.25%;top:20.00%;background:#ff3df0;color:#fff">kite &lt;0.87&gt;<\/span>/,
  );
  assert.match(
    html,
    /<span class="det-label inside" style="right:2.50%;top:3.33%;background:#ffffff;color:#111">b<\/span>/,
  );
  assert.doesNotMatch(html, /onload/);
  assert.doesNotMatch(html, />empty</);
});

test('predictions: bars and percentages; segmentation says "of pixels"; a failed image shows its error', async () => {
  const base = { file: 'a.png', width: 8, height: 8, targets: [] };
  const html = renderReport(
    report([
      {
        ...base,
        predictionKind: 'classification',
        predictions: [
          { label: 'cat', index: 281, score: 0.781 },
          { label: 'rare', index: 7, score: 0.0004 },
          { label: 'over', index: 8, score: 1.5 },
        ],
      },
      { ...base, predictionKind: 'segmentation', predictions: [{ label: 'road', index: 0, score: 0.25 }] },
      {
        ...base,
        file: 'bad.png',
        predictionKind: 'classification',
        predictions: [],
        error: { code: 'bad-image', message: 'cannot decode <x>', hint: 'use PNG' },
      },
    ]),
  );
  assert.match(
    html,
    /cat <span class="muted">\(281\)<\/span><\/span><span class="pval">78\.1%<\/span><span class="pbar"><span style="width:78\.1%">/,
  );
  assert.match(html, /<span class="pval">&lt;0\.1%<\/span>/);
  assert.match(html, /style="width:100\.0%"/, 'bars are clamped');
  assert.match(html, /Top 1 classes, share of pixels/);
  assert.match(html, /25\.0% of pixels/);
  assert.match(html, /<section class="card failed-card" id="image-3">/);
  assert.match(html, /<code>error\[bad-image\]<\/code> cannot decode &lt;x&gt;/);
  assert.match(html, /hint: use PNG/);
  assert.match(html, /<a href="#image-3" class="failed"/, 'the index marks the failure');
});

test('the legend shows the colormap in the options (jet when absent or unknown)', () => {
  assert.match(renderReport(report([], { colormap: 'viridis' })), /heatmap \(viridis\)/);
  assert.match(renderReport(report([], { colormap: 'nope' })), /heatmap \(jet\)/);
  assert.match(renderReport(report([])), /No images\./);
});

test('writeReport writes atomically, creates folders and returns the absolute path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-report-'));
  try {
    const data = report([]);
    const path = await writeReport(join(dir, 'out', 'report.html'), data);
    assert.equal(path, join(dir, 'out', 'report.html'));
    assert.equal(await readFile(path, 'utf8'), renderReport(data));
    assert.deepEqual(await readdir(join(dir, 'out')), ['report.html'], 'no temp file left');

    await writeFile(join(dir, 'file'), 'x');
    await assert.rejects(
      writeReport(join(dir, 'file', 'report.html'), data),
      (e) => isGradsightError(e) && e.message.includes(join(dir, 'file', 'report.html')),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
