// The HTML report in a real browser: headless Chromium (Debian's, driven by playwright-core) opens the
// written file from disk. Checks what only a browser can: every image decodes, the page makes no request
// beyond file: and data:, hostile labels render as text and run nothing, the failed image's error shows,
// boxes sit on the right pixels, and the screenshot is a picture rather than a blank page.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { writeReport } from '../../src/report/write-node.ts';
import { launchChromium, skipNoChromium } from '../helpers/chromium.ts';
import { FAILED_FILE, FAILED_MESSAGE, NASTY_FILE, NASTY_LABEL, sampleReport } from './sample-data.ts';

const skip = skipNoChromium;

test('the report opens from disk in Chromium: images load, no network, text escaped, errors shown', {
  skip,
  timeout: 120_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-report-'));
  const browser = await launchChromium();
  try {
    const path = await writeReport(join(dir, 'report.html'), await sampleReport());
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      // A CSP violation ("Refused to load ...") is a console error: the page tried to fetch something.
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });

    // No broken images (thumbnails, overlays, pixel-method displays).
    const imgs = await page.$$eval('img', (els) =>
      els.map((el) => ({ src: el.src.slice(0, 30), complete: el.complete, w: el.naturalWidth })),
    );
    assert.equal(
      imgs.length,
      3 + 2 * 4 + 1,
      '3 thumbnails, 4 panels on each of 2 images, 1 segmentation panel',
    );
    for (const img of imgs) assert.ok(img.complete && img.w > 0, `broken image ${img.src}...`);

    // No network: only the document itself (file:) and inline images (data:).
    assert.ok(
      requests.some((u) => u.startsWith('file:')),
      'the document request was seen',
    );
    for (const u of requests) assert.match(u, /^(file|data):/, `unexpected request ${u.slice(0, 80)}`);
    assert.deepEqual(problems, []);

    // Hostile text shows as text and runs nothing.
    const scripted = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: unknown }).__pwned,
      scripts: document.scripts.length,
      bold: document.querySelectorAll('main b').length,
      headings: [...document.querySelectorAll('h2')].map((h) => h.textContent),
      labels: [...document.querySelectorAll('.plabel')].map((l) => l.textContent),
      body: document.body.textContent ?? '',
    }));
    assert.equal(scripted.pwned, undefined, 'a script from a label ran');
    assert.equal(scripted.scripts, 0);
    assert.equal(scripted.bold, 0, 'markup in a label became an element');
    assert.ok(scripted.headings.includes(NASTY_FILE), `file name not shown verbatim: ${scripted.headings}`);
    assert.ok(scripted.labels.includes(`${NASTY_LABEL} (1)`), 'label not shown verbatim');
    assert.ok(scripted.body.includes('<i>escaped</i>'), 'option value not shown verbatim');
    assert.ok(scripted.body.includes('21.0% of pixels'), 'segmentation shares say "of pixels"');

    // The failed image: a card with code, message and hint.
    const failed = await page.$eval('.failed-card', (el) => el.textContent ?? '');
    assert.ok(failed.includes(FAILED_FILE), failed);
    assert.ok(failed.includes(`error[bad-image] ${FAILED_MESSAGE}`), failed);
    assert.ok(failed.includes('hint: Re-save it as PNG or JPEG & try again.'), failed);

    // Each box is drawn over the pixels it names: the rectangle's outer edges, scaled to the shown image.
    const boxes = await page.$$eval('.frame:has(svg)', (frames) =>
      frames.map((f) => {
        const img = f.querySelector('img')!.getBoundingClientRect();
        const nat = f.querySelector('img')!;
        const rect = f.querySelector('rect')!;
        const r = rect.getBoundingClientRect();
        // (No named helper functions in here: tsx's esbuild would wrap them in a `__name` call that the
        // page does not define.)
        const [x, y, w, h] = ['x', 'y', 'width', 'height'].map((a) => Number(rect.getAttribute(a)));
        return {
          sx: img.width / nat.naturalWidth,
          sy: img.height / nat.naturalHeight,
          img: { left: img.left, top: img.top },
          attrs: { x: x!, y: y!, w: w!, h: h! },
          // An SVG element's client rect is its geometry, without the stroke.
          r: { left: r.left, top: r.top, width: r.width, height: r.height },
        };
      }),
    );
    assert.equal(boxes.length, 5, 'Grad-CAM and Grad-CAM++ on 2 images, Grad-CAM on the segmentation');
    for (const b of boxes) {
      assert.ok(Math.abs(b.r.left - (b.img.left + b.attrs.x * b.sx)) < 1.5, JSON.stringify(b));
      assert.ok(Math.abs(b.r.top - (b.img.top + b.attrs.y * b.sy)) < 1.5, JSON.stringify(b));
      assert.ok(Math.abs(b.r.width - b.attrs.w * b.sx) < 1.5, JSON.stringify(b));
      assert.ok(Math.abs(b.r.height - b.attrs.h * b.sy) < 1.5, JSON.stringify(b));
    }

    // Each detection's rectangle sits on its continuous edges, its label tag just above it (or inside).
    const dets = await page.$$eval('.frame:has(svg.detection)', (frames) =>
      frames.map((f) => {
        const img = f.querySelector('img')!;
        const box = img.getBoundingClientRect();
        const rect = f.querySelector('svg.detection rect')!;
        const r = rect.getBoundingClientRect();
        const label = f.querySelector('.det-label')!;
        const l = label.getBoundingClientRect();
        const [x, y, w, h] = ['x', 'y', 'width', 'height'].map((a) => Number(rect.getAttribute(a)));
        return {
          s: box.width / img.naturalWidth,
          img: { left: box.left, top: box.top },
          attrs: { x: x!, y: y!, w: w!, h: h! },
          r: { left: r.left, top: r.top, width: r.width, height: r.height },
          half: img.naturalWidth / 2,
          label: {
            left: l.left,
            right: l.right,
            bottom: l.bottom,
            height: l.height,
            text: label.textContent ?? '',
          },
        };
      }),
    );
    assert.equal(dets.length, 2, 'one detection on each classified image');
    for (const d of dets) {
      const j = JSON.stringify(d);
      assert.ok(Math.abs(d.r.left - (d.img.left + d.attrs.x * d.s)) < 1.5, j);
      assert.ok(Math.abs(d.r.top - (d.img.top + d.attrs.y * d.s)) < 1.5, j);
      assert.ok(Math.abs(d.r.width - d.attrs.w * d.s) < 1.5, j);
      assert.ok(Math.abs(d.r.height - d.attrs.h * d.s) < 1.5, j);
      // Anchored to the box's left edge, or to its right edge for a box on the right half.
      const right = d.attrs.x + d.attrs.w / 2 > d.half;
      const gap = right ? d.label.right - (d.r.left + d.r.width) : d.label.left - d.r.left;
      assert.ok(Math.abs(gap) < 1.5, `label at the box's ${right ? 'right' : 'left'} edge: ${j}`);
      assert.ok(Math.abs(d.label.bottom - d.r.top) < 1.5, `label just above the box: ${j}`);
      assert.ok(d.label.height > 8 && d.label.text.endsWith(' 0.91'), j);
    }
    assert.ok(
      dets.some((d) => d.label.text === `${NASTY_LABEL} 0.91`),
      'a hostile label shows as text',
    );

    // The screenshot is a picture: many colours, not a blank page.
    const shot = join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = await decodeImageFile(shot);
    assert.ok(png.width === 1280 && png.height > 900, `screenshot ${png.width}x${png.height}`);
    const colours = new Set<number>();
    for (let i = 0; i < png.data.length; i += 3 * 7) {
      colours.add((png.data[i]! << 16) | (png.data[i + 1]! << 8) | png.data[i + 2]!);
    }
    assert.ok(colours.size > 500, `only ${colours.size} distinct colours in the screenshot`);
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
});
