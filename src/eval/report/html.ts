// The eval report: one self-contained HTML file (inline CSS, SVG charts, images as data URLs, the same
// Content-Security-Policy as the explain report: no request can leave it). A method × value table with
// 95% intervals, dataset-level values, curves, per-class bars, histograms, the galleries of the best
// and worst images with each method's overlay, and the failed and misclassified images.
// Platform-neutral: overlays arrive as data URLs from the caller.

import { isImageDataUrl } from '../../report/data-url.ts';
import { esc } from '../../report/html.ts';
import { REPORT_CSS } from '../../report/style.ts';
import type { EvalResults, GalleryEntry, ValueResult } from '../aggregate.ts';
import { MODEL_SCOPE } from '../aggregate.ts';
import { evalMetricById } from '../registry.ts';
import type { Summary } from '../stats.ts';
import { barChart, histogramChart, lineChart } from './svg.ts';

const CSP =
  "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/** One image's pictures for a gallery: its thumbnail and each method's overlay. */
export interface GalleryImage {
  readonly thumbnail?: string;
  readonly overlays: readonly { readonly method: string; readonly title: string; readonly image: string }[];
}

export interface EvalReportInput {
  readonly results: EvalResults;
  readonly title: string;
  readonly generatedAt: string;
  /** Facts shown in the header (model path, dataset path, options). */
  readonly facts: Readonly<Record<string, string>>;
  /** Pictures of the gallery's images, by sample index (absent: the lists only). */
  readonly images?: ReadonlyMap<number, GalleryImage>;
  /** Pictures of misclassified images (predicted, true, contrast), by sample index. */
  readonly failures?: ReadonlyMap<number, GalleryImage>;
  /** Method titles by id (from the method table). */
  readonly methodTitles?: Readonly<Record<string, string>>;
}

const EXTRA_CSS = `
.metrics { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
.metrics th, .metrics td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
.metrics th:first-child, .metrics td:first-child { text-align: left; white-space: normal; }
.metrics thead th { color: var(--muted); font-weight: 600; }
.metrics tr.group th { text-align: left; padding-top: 12px; color: var(--fg); }
.metrics .best { font-weight: 700; }
.metrics .ci { color: var(--muted); font-size: 11.5px; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; }
.chart { margin: 0; }
.chart figcaption { font-weight: 600; font-size: 13px; margin-bottom: 4px; }
.chart-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; color: var(--muted); }
.chart-legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 14px; }
.gallery .item { border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
.gallery .item h3 { font-size: 12.5px; overflow-wrap: anywhere; margin-bottom: 6px; }
.gallery .pics { display: flex; flex-wrap: wrap; gap: 6px; }
.gallery figure { margin: 0; font-size: 11px; color: var(--muted); text-align: center; }
.gallery img { display: block; width: 96px; height: auto; border-radius: 4px; }
.list { margin: 0; padding-left: 18px; }
`;

export function renderEvalReport(input: EvalReportInput): string {
  const r = input.results;
  const titleOf = (m: string) => input.methodTitles?.[m] ?? m;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="gradsight ${esc(r.gradsight)}">
<title>${esc(input.title)}</title>
<style>${REPORT_CSS}${EXTRA_CSS}</style>
</head>
<body>
<main>
${header(input)}
${valueTable(r, titleOf)}
${datasetTable(r, titleOf)}
${curves(r, titleOf)}
${perClass(r, titleOf)}
${histograms(r, titleOf)}
${biasTable(r, titleOf)}
${gallery(r, input.images)}
${lists(r, input.failures)}
<footer>gradsight ${esc(r.gradsight)} · ${r.images.evaluated} images evaluated${r.images.failed ? `, ${r.images.failed} failed` : ''} · a self-contained file: it makes no network requests</footer>
</main>
</body>
</html>
`;
}

function header(input: EvalReportInput): string {
  const r = input.results;
  const facts = {
    ...input.facts,
    images: `${r.images.evaluated} evaluated${r.images.failed ? `, ${r.images.failed} failed` : ''}`,
    methods: r.config.methods.join(', '),
    metrics: r.config.metrics.join(', '),
    intervals: `95% ${r.ci.method}${r.ci.method === 'bootstrap' ? ` (${r.ci.resamples} resamples, seed ${r.ci.seed})` : ''} over images`,
  };
  const rows = Object.entries(facts).map(
    ([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`,
  );
  return `<header class="card report-head">
<h1>${esc(input.title)}</h1>
<div class="sub">generated <time datetime="${esc(input.generatedAt)}">${esc(input.generatedAt)}</time> by gradsight ${esc(r.gradsight)}</div>
<table class="options" style="margin-top:14px"><tbody>${rows.join('')}</tbody></table>
</header>`;
}

function cell(s: Summary | undefined, percent: boolean, best: boolean): string {
  if (!s || s.n === 0 || !Number.isFinite(s.mean)) return '<td class="muted">–</td>';
  const f = (v: number) => (percent ? `${(100 * v).toFixed(1)}%` : v.toFixed(3));
  return `<td${best ? ' class="best"' : ''}>${f(s.mean)} <span class="ci">[${f(s.ci[0])}, ${f(s.ci[1])}] n=${s.n}</span></td>`;
}

function bestMethod(v: ValueResult, methods: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const m of methods) {
    const s = v.byMethod[m];
    if (!s || !Number.isFinite(s.mean)) continue;
    const b = best === undefined ? undefined : v.byMethod[best]!.mean;
    if (b === undefined || (v.better === 'higher' ? s.mean > b : s.mean < b)) best = m;
  }
  return methods.length > 1 ? best : undefined;
}

function valueTable(r: EvalResults, titleOf: (m: string) => string): string {
  const methods = r.config.methods;
  const head = `<tr><th>value</th>${methods.map((m) => `<th>${esc(titleOf(m))}</th>`).join('')}</tr>`;
  const body: string[] = [];
  const modelRows: string[] = [];
  for (const metric of r.metrics) {
    const rows = metric.values.filter((v) => !(MODEL_SCOPE in v.byMethod));
    for (const v of metric.values.filter((v) => MODEL_SCOPE in v.byMethod)) {
      modelRows.push(
        `<tr><td>${esc(v.title)}${arrow(v.better)}</td>${cell(v.byMethod[MODEL_SCOPE], v.percent, false)}</tr>`,
      );
    }
    if (!rows.length) continue;
    body.push(`<tr class="group"><th colspan="${methods.length + 1}">${esc(metric.title)}</th></tr>`);
    for (const v of rows) {
      const best = bestMethod(v, methods);
      body.push(
        `<tr><td>${esc(v.title)}${arrow(v.better)}</td>${methods.map((m) => cell(v.byMethod[m], v.percent, m === best)).join('')}</tr>`,
      );
    }
  }
  const model = modelRows.length
    ? `<h3 style="margin-top:16px">Model and baselines (no method)</h3><table class="metrics"><tbody>${modelRows.join('')}</tbody></table>`
    : '';
  return `<section class="card"><h2>Methods × metrics</h2>
<p class="muted">Mean over images with its 95% interval; the best method per row in bold.</p>
${body.length ? `<table class="metrics"><thead>${head}</thead><tbody>${body.join('')}</tbody></table>` : '<p class="empty">No per-method values.</p>'}
${model}</section>`;
}

const arrow = (better: 'higher' | 'lower') =>
  ` <span class="muted" title="${better} is better">${better === 'higher' ? '↑' : '↓'}</span>`;

function datasetTable(r: EvalResults, titleOf: (m: string) => string): string {
  const rows = r.metrics.flatMap((m) => m.dataset);
  if (!rows.length) return '';
  const methods = r.config.methods;
  const f = (v: number | undefined, percent: boolean) =>
    v === undefined || !Number.isFinite(v) ? '–' : percent ? `${(100 * v).toFixed(1)}%` : v.toFixed(3);
  return `<section class="card"><h2>Dataset-level values</h2><table class="metrics"><thead><tr><th>value</th>${methods
    .map((m) => `<th>${esc(titleOf(m))}</th>`)
    .join('')}</tr></thead><tbody>${rows
    .map(
      (d) =>
        `<tr><td>${esc(d.title)}${arrow(d.better)}</td>${methods.map((m) => `<td>${f(d.byMethod[m], d.percent)}</td>`).join('')}</tr>`,
    )
    .join('')}</tbody></table></section>`;
}

function curves(r: EvalResults, titleOf: (m: string) => string): string {
  const charts = r.metrics.flatMap((m) =>
    m.curves
      .filter((c) => Object.keys(c.byMethod).length)
      .map((c) =>
        lineChart(
          c.title,
          c.x,
          Object.entries(c.byMethod).map(([name, values]) => ({ name: titleOf(name), values })),
          c.xLabel,
          c.yLabel,
        ),
      ),
  );
  return charts.length
    ? `<section class="card"><h2>Curves (mean over images)</h2><div class="charts">${charts.join('')}</div></section>`
    : '';
}

/** Each metric's graded per-method value (registry `primary`), else its first. */
function primaryValues(r: EvalResults): ValueResult[] {
  return r.metrics.flatMap((m) => {
    const values = m.values.filter((v) => !(MODEL_SCOPE in v.byMethod));
    const def = evalMetricById(m.id)?.values ?? [];
    const primary = values.find((v) => def.find((d) => d.key === v.key)?.primary) ?? values[0];
    return primary ? [primary] : [];
  });
}

function perClass(r: EvalResults, titleOf: (m: string) => string): string {
  // The most frequent classes, at most 16, so a bar chart stays readable.
  const classes = Object.entries(r.images.perClass)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 16)
    .map(([c]) => c)
    .sort();
  if (classes.length < 2) return '';
  const charts = primaryValues(r).map((v) => {
    const byMethod = r.perClass[v.key] ?? {};
    const series = r.config.methods
      .filter((m) => byMethod[m])
      .map((m) => ({
        name: titleOf(m),
        values: classes.map((c) => (byMethod[m]![c]?.mean ?? Number.NaN) * (v.percent ? 100 : 1)),
      }));
    return barChart(`${v.title} per class`, classes, series, v.percent ? `${v.title} (%)` : v.title);
  });
  return `<section class="card"><h2>Per class</h2><div class="charts">${charts.join('')}</div></section>`;
}

function histograms(r: EvalResults, titleOf: (m: string) => string): string {
  const charts = primaryValues(r).flatMap((v) => {
    const h = r.histograms[v.key];
    if (!h) return [];
    const series = r.config.methods
      .filter((m) => h.byMethod[m])
      .map((m) => ({ name: titleOf(m), values: h.byMethod[m]! }));
    return series.length
      ? [histogramChart(`${v.title}: distribution over images`, h.lo, h.hi, series, v.title)]
      : [];
  });
  return charts.length
    ? `<section class="card"><h2>Histograms</h2><div class="charts">${charts.join('')}</div></section>`
    : '';
}

function biasTable(r: EvalResults, titleOf: (m: string) => string): string {
  if (!r.bias?.length) return '';
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const rows = r.bias.map(
    (b) =>
      `<tr${b.flagged ? ' class="best"' : ''}><td>${esc(titleOf(b.method))}</td><td>${esc(b.label)}</td><td>${b.images}</td><td>${pct(b.share)}</td><td>${pct(b.area)}</td><td>${Number.isFinite(b.concentration) ? `${b.concentration.toFixed(1)}×` : '∞'}</td><td>${b.flagged ? 'flagged' : ''}</td></tr>`,
  );
  return `<section class="card"><h2>Bias: map mass in the region</h2>
<p class="muted">A class is flagged when its mean share of the map's mass in the region is at least 5× the region's mean share of the image (what an evenly spread map would give).</p>
<table class="metrics"><thead><tr><th>method</th><th>class</th><th>images</th><th>share</th><th>area</th><th>concentration</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function picture(src: string | undefined, caption: string): string {
  if (!isImageDataUrl(src)) return '';
  return `<figure><img src="${esc(src)}" alt="${esc(caption)}">${esc(caption)}</figure>`;
}

function galleryItem(
  e: { id: string; image: string; labels: readonly string[] },
  note: string,
  img: GalleryImage | undefined,
): string {
  const pics = img
    ? `<div class="pics">${picture(img.thumbnail, 'image')}${img.overlays.map((o) => picture(o.image, o.title)).join('')}</div>`
    : '';
  return `<div class="item"><h3>${esc(e.image)} <span class="muted">${esc(e.labels.join(', '))} · ${esc(note)}</span></h3>${pics}</div>`;
}

function gallery(r: EvalResults, images: ReadonlyMap<number, GalleryImage> | undefined): string {
  const g = r.gallery;
  if (!g) return '';
  const item = (e: GalleryEntry) => galleryItem(e, `${g.title} ${e.value.toFixed(3)}`, images?.get(e.index));
  return `<section class="card"><h2>Best and worst images by ${esc(g.title)} (${esc(g.method)})</h2>
<h3 style="margin:10px 0 6px">Best</h3><div class="gallery">${g.best.map(item).join('')}</div>
<h3 style="margin:14px 0 6px">Worst</h3><div class="gallery">${g.worst.map(item).join('')}</div></section>`;
}

function lists(r: EvalResults, images: ReadonlyMap<number, GalleryImage> | undefined): string {
  const parts: string[] = [];
  if (r.misclassified.length) {
    parts.push(
      `<section class="card"><h2>Misclassified (${r.misclassified.length}${r.misclassified.length >= 100 ? '+' : ''})</h2><div class="gallery">${r.misclassified
        .map((m) => galleryItem(m, `predicted ${m.predicted}`, images?.get(m.index)))
        .join('')}</div></section>`,
    );
  }
  if (r.failures.length) {
    parts.push(
      `<section class="card failed-card"><h2>Failed images</h2><ul class="list">${r.failures
        .map((f) => {
          const e = f.error as { code?: string; message?: string };
          return `<li><code>${esc(f.image)}</code>: <code>error[${esc(e.code ?? '?')}]</code> ${esc(e.message ?? '')}</li>`;
        })
        .join('')}</ul></section>`,
    );
  }
  return parts.join('\n');
}
