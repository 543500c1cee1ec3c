// The eval report from hand-made records: the table's numbers, the best method in bold, an SVG curve's
// coordinates worked out by hand, user text escaped, only inline raster images, galleries in order.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Aggregator } from '../../src/eval/aggregate.ts';
import type { ImageRecord, RunConfig } from '../../src/eval/record-types.ts';
import { EVAL_METRICS, metricTableMarkdown } from '../../src/eval/registry.ts';
import { renderEvalReport } from '../../src/eval/report/html.ts';
import { lineChart } from '../../src/eval/report/svg.ts';
import { repoRoot } from '../helpers/shared.ts';

const config: RunConfig = {
  model: 'm',
  dataset: { name: 'd<b>', size: 3 },
  methods: ['gradcam', 'cam'],
  metrics: ['accuracy', 'pointing'],
  layers: [],
};

const hostile = '<script>alert(1)</script>.png';

function rec(index: number, hit: [number, number], energy: [number, number]): ImageRecord {
  return {
    index,
    id: `i${index}`,
    image: index === 0 ? hostile : `i${index}.png`,
    labels: [index === 2 ? 'dog' : '"><img src=x>'],
    predicted: [{ index: 1, label: 'x', score: 0.9 }],
    model: { 'accuracy.top1': index === 1 ? 0 : 1, 'accuracy.top5': 1 },
    methods: {
      gradcam: { values: { 'pointing.hit': hit[0], 'pointing.energy': energy[0] } },
      cam: { values: { 'pointing.hit': hit[1], 'pointing.energy': energy[1] } },
    },
  };
}

function results() {
  const a = new Aggregator(config, { galleryImages: 2 });
  a.add(rec(0, [1, 0], [0.8, 0.4]));
  a.add(rec(1, [1, 1], [0.2, 0.5]));
  a.add(rec(2, [0, 0], [0.5, 0.1]));
  return a.results();
}

test('the table: means with intervals, the best method in bold; method-free values apart', () => {
  const html = renderEvalReport({
    results: results(),
    title: 't',
    generatedAt: '2026-01-01T00:00:00Z',
    facts: {},
  });
  // gradcam: hits 2/3, cam 1/3; energy 0.5 vs 0.333.
  assert.match(html, /<td class="best">66\.7% <span class="ci">\[[^\]]+\] n=3<\/span><\/td><td>33\.3%/);
  assert.match(html, /<td class="best">50\.0% /);
  assert.match(html, /top-1 accuracy[\s\S]*?66\.7%/);
  assert.match(html, /Content-Security-Policy" content="default-src &#39;none&#39;; img-src data:;/);
});

test('user text is escaped; only inline raster images are shown', () => {
  const r = results();
  const images = new Map([
    [
      0,
      {
        thumbnail: 'data:image/jpeg;base64,AAAA',
        overlays: [{ method: 'gradcam', title: 'Grad-CAM', image: 'javascript:alert(1)' }],
      },
    ],
  ]);
  const html = renderEvalReport({
    results: r,
    title: '<t>',
    generatedAt: 'now',
    facts: { '<k>': '<v>' },
    images,
  });
  assert.ok(!html.includes('<script>alert'), 'a file name is escaped');
  assert.ok(!html.includes('"><img src=x>'), 'a label is escaped');
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;.png'));
  assert.ok(html.includes('<title>&lt;t&gt;</title>'));
  assert.ok(!html.includes('javascript:'), 'a non-data URL is dropped');
  assert.ok(html.includes('src="data:image/jpeg;base64,AAAA"'));
  for (const m of html.matchAll(/src="([^"]*)"/g)) assert.match(m[1]!, /^data:image\//);
});

test('galleries: the k best and worst by the primary value (energy pointing) of the first method', () => {
  const g = results().gallery!;
  assert.equal(g.key, 'pointing.energy');
  assert.equal(g.method, 'gradcam');
  assert.deepEqual(
    g.best.map((e) => [e.index, e.value]),
    [
      [0, 0.8],
      [2, 0.5],
    ],
  );
  assert.deepEqual(
    g.worst.map((e) => [e.index, e.value]),
    [
      [1, 0.2],
      [2, 0.5],
    ],
  );
});

test('a line chart: points at the pixel positions worked out by hand', () => {
  // Plot area x 46..408 (420 − 12), y 200 (value 0) .. 14 (value 1): x = 0, 0.5, 1 → 46, 227, 408.
  const svg = lineChart('c', [0, 0.5, 1], [{ name: 'a', values: [1, 0.5, 0] }], 'x', 'y');
  assert.match(svg, /<polyline points="46\.0,14\.0 227\.0,107\.0 408\.0,200\.0"/);
});

test("the README's metric table is the registry's (scripts/metric-table.ts)", async () => {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  assert.ok(
    readme.includes(metricTableMarkdown()),
    'rerun node --import tsx scripts/metric-table.ts into the README',
  );
  for (const m of EVAL_METRICS) assert.ok(readme.includes(`| \`${m.id}\` |`), m.id);
});
