// The report's language layouts without a browser: a captioned image shows the caption, then one strip
// per method with the input first and each word's map in caption order with the word under it (the
// paper's Fig. 6), and no class ranking; a VQA image shows the question and the answer above its maps
// (Fig. 7); words, questions and answers are escaped.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rgbImage } from '../../src/image/rgb-image.ts';
import { renderImageCard } from '../../src/report/html.ts';
import type { ReportImage, ReportPanel } from '../../src/report/types.ts';
import { pngDataUrl } from './sample-data.ts';

const png = (v: number) => pngDataUrl(rgbImage(4, 4, new Uint8Array(48).fill(v)));

async function panel(method: string, title: string, v: number): Promise<ReportPanel> {
  return { method, title, image: await png(v), size: { width: 4, height: 4 } };
}

test('a caption: the input, then one map per word with the word under it, per method', async () => {
  const words = ['a', 'red', '<circle>'];
  const img: ReportImage = {
    file: 'scene.png',
    width: 4,
    height: 4,
    thumbnail: await png(1),
    predictions: [{ label: 'a', index: 3, score: 0.9 }],
    predictionKind: 'classification',
    caption: words.join(' '),
    targets: await Promise.all(
      words.map(async (w, i) => ({
        description: `log p("${w}")`,
        word: { position: i + 1, text: w },
        panels: [
          await panel('gradcam', 'Grad-CAM', 10 + i),
          await panel('guided-gradcam', 'Guided Grad-CAM', 20 + i),
        ],
      })),
    ),
  };
  const html = renderImageCard(img, 0);
  assert.match(html, /caption<\/span> “a red &lt;circle&gt;”/);
  const strips = html.split('class="caption-strip"').slice(1);
  assert.equal(strips.length, 2);
  for (const [k, strip] of strips.entries()) {
    assert.match(strip, new RegExp(`<h4>${k === 0 ? 'Grad-CAM' : 'Guided Grad-CAM'}</h4>`));
    const captions = [...strip.matchAll(/<figcaption[^>]*>([^<]*)<\/figcaption>/g)].map((m) => m[1]);
    assert.deepEqual(captions, ['input', 'a', 'red', '&lt;circle&gt;']);
    // Each word's own map, in caption order.
    const images = [...strip.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(images.length, 4);
    assert.deepEqual(images.slice(1), await Promise.all(words.map((_, i) => png((k === 0 ? 10 : 20) + i))));
  }
  assert.doesNotMatch(html, /class="preds"/, 'no class ranking for a caption');
});

test('a question: question and answer above the answer maps', async () => {
  const img: ReportImage = {
    file: 'scene.png',
    width: 4,
    height: 4,
    thumbnail: await png(1),
    predictions: [{ label: 'blue', index: 2, score: 0.8 }],
    predictionKind: 'classification',
    question: 'what colour is the <b>square</b>?',
    answer: 'blue',
    targets: [{ description: 'blue (2)', panels: [await panel('gradcam', 'Grad-CAM', 5)] }],
  };
  const html = renderImageCard(img, 0);
  const qa = html.indexOf('class="qa"');
  assert.ok(qa > 0 && qa < html.indexOf('class="target"'), 'question before the maps');
  assert.match(
    html,
    /Q:<\/span> what colour is the &lt;b&gt;square&lt;\/b&gt;\? <span class="muted">A:<\/span> <strong>blue<\/strong>/,
  );
});
