// The self-contained HTML report: one file with inline CSS and images as data URLs, no script, and a
// Content-Security-Policy that forbids every request except data: images, so it opens from disk with no
// server and cannot reach the network. Platform-neutral (no node: imports): the web app renders the same
// page. Every piece of text goes through `esc`, because labels, file names and messages come from users.

import { COLORMAPS, type ColormapId, DEFAULT_COLORMAP, isColormapId } from '../render/colormaps.ts';
import { isImageDataUrl, pngDataUrlSize } from './data-url.ts';
import { renderCaption, renderQuestion } from './language.ts';
import { REPORT_CSS } from './style.ts';
import type {
  ReportData,
  ReportDetection,
  ReportImage,
  ReportPanel,
  ReportPrediction,
  ReportSection,
  ReportTarget,
} from './types.ts';

const CSP =
  "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/** Renders `data` as a complete HTML document. */
export function renderReport(data: ReportData): string {
  const cards = data.images.length === 0 ? '' : data.images.map(renderImageCard).join('\n');
  return `${renderReportHead(data, data.images)}${cards}${renderReportFoot(data, data.images)}`;
}

/** What the table of contents and the footer need of an image (the stream keeps only this per image). */
export type ReportTocEntry = Pick<ReportImage, 'file' | 'error'>;

/**
 * The document up to the first image card, and the one after the last (renderReport is head, the
 * cards joined by newlines, foot): a report can be written card by card (stream-node.ts).
 */
export function renderReportHead(
  data: Omit<ReportData, 'images'>,
  images: readonly ReportTocEntry[],
): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="generator" content="gradsight ${esc(data.version)}">
<title>${esc(data.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
${renderHeader(data)}
${renderSections(data.sections ?? [])}
${images.length > 1 ? renderToc(images) : ''}
${images.length === 0 ? '<p class="card empty">No images.</p>' : ''}`;
}

export function renderReportFoot(
  data: Pick<ReportData, 'version'>,
  images: readonly ReportTocEntry[],
): string {
  const failed = images.filter((img) => img.error).length;
  return `
<footer>gradsight ${esc(data.version)} · ${images.length} image${images.length === 1 ? '' : 's'}${
    failed ? `, ${failed} failed` : ''
  } · a self-contained file: it makes no network requests</footer>
</main>
</body>
</html>
`;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function renderHeader(data: Omit<ReportData, 'images'>): string {
  const { model } = data;
  const layers = model.layers.length
    ? `<ul class="layers">${model.layers.map((l) => `<li><code>${esc(l)}</code></li>`).join('')}</ul>`
    : '<span class="muted">—</span>';
  const options = Object.entries(data.options);
  const optionRows = options.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`);
  return `<header class="card report-head">
<h1>${esc(data.title)}</h1>
<div class="sub">generated <time datetime="${esc(data.generatedAt)}">${esc(displayDate(data.generatedAt))}</time> by gradsight ${esc(data.version)}</div>
<div class="meta">
<dl class="facts">
<dt>model</dt><dd><strong>${esc(model.name)}</strong> <code class="muted">${esc(model.path)}</code></dd>
<dt>input</dt><dd>${esc(model.input)}</dd>
<dt>layer${model.layers.length === 1 ? '' : 's'}</dt><dd>${layers}</dd>
<dt>scores read</dt><dd>${esc(model.reads)}</dd>
</dl>
${options.length ? `<table class="options"><caption>options</caption><tbody>${optionRows.join('')}</tbody></table>` : '<div></div>'}
</div>
<div class="summary-row">
<span class="summary">${esc(data.summary)}</span>
${renderLegend(data.options.colormap)}
</div>
</header>`;
}

/** "2024-05-01T12:34:56.789Z" → "2024-05-01 12:34:56 UTC"; anything else is shown as given. */
function displayDate(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(iso);
  if (!m) return iso;
  return `${m[1]} ${m[2]}${m[3] === 'Z' ? ' UTC' : m[3] ? ` ${m[3]}` : ''}`;
}

function renderLegend(colormap: string | undefined): string {
  const id: ColormapId = colormap !== undefined && isColormapId(colormap) ? colormap : DEFAULT_COLORMAP;
  return `<div class="legend">
<span class="nowrap">heatmap (${esc(id)}): low <i class="cbar" style="background:${gradient(id)}"></i> high relevance</span>
<span><i class="box-sample"></i> box: largest region ≥ 15% of the map's max, as in the Grad-CAM paper</span>
</div>`;
}

/** A CSS linear-gradient sampling the colormap's LUT at 17 stops. */
function gradient(id: ColormapId): string {
  const { lut } = COLORMAPS[id];
  const stops: string[] = [];
  for (let s = 0; s <= 16; s++) {
    const k = Math.min(255, s * 16) * 3;
    stops.push(`rgb(${lut[k]},${lut[k + 1]},${lut[k + 2]}) ${((s / 16) * 100).toFixed(2)}%`);
  }
  return `linear-gradient(90deg,${stops.join(',')})`;
}

function renderToc(images: readonly ReportTocEntry[]): string {
  const items = images.map(
    (img, i) =>
      `<li><a href="#${imageId(i)}"${img.error ? ' class="failed"' : ''} title="${esc(img.file)}">${
        img.error ? '✕ ' : ''
      }${esc(baseName(img.file))}</a></li>`,
  );
  return `<nav aria-label="images"><ol class="toc">${items.join('')}</ol></nav>`;
}

const imageId = (i: number) => `image-${i + 1}`;

function baseName(file: string): string {
  return file.split(/[/\\]/).filter(Boolean).pop() ?? file;
}

/** One image's card; `i` is its position in the report (its anchor, image-(i+1)). */
export function renderImageCard(img: ReportImage, i: number): string {
  const head = `<div class="image-head"><h2>${esc(img.file)}</h2>${img.width > 0 && img.height > 0 ? `<span class="muted">${img.width}×${img.height}</span>` : ''}</div>`;
  if (img.error) {
    const { code, message, hint } = img.error;
    return `<section class="card failed-card" id="${imageId(i)}">
${head}
<p class="error"><code>error[${esc(code)}]</code> ${esc(message)}</p>
${hint ? `<p class="hint">hint: ${esc(hint)}</p>` : ''}
</section>`;
  }
  const thumb = isImageDataUrl(img.thumbnail)
    ? `<img src="${esc(img.thumbnail)}" alt="input ${esc(img.file)}"${sizeAttrs(img.thumbnail)}>`
    : '<div class="no-image">no preview</div>';
  const captioned = img.targets.some((t) => t.word);
  const targets = captioned
    ? renderCaption(img, thumb)
    : img.targets.length
      ? renderQuestion(img) + img.targets.map((t) => renderTarget(t, img)).join('\n')
      : '<p class="empty">No explanations for this image.</p>';
  return `<section class="card" id="${imageId(i)}">
${head}
<div class="image-body">
<div class="input">
${thumb}
${img.predictionNote ? `<div class="note">${esc(img.predictionNote)}</div>` : ''}${captioned ? '' : renderPredictions(img.predictions, img.predictionKind)}
</div>
<div class="targets">
${targets}
</div>
</div>
</section>`;
}

function renderPredictions(preds: readonly ReportPrediction[], kind: ReportImage['predictionKind']): string {
  if (!preds.length) return '';
  const title =
    kind === 'segmentation' ? `Top ${preds.length} classes, share of pixels` : `Top ${preds.length}`;
  const unit = kind === 'segmentation' ? ' of pixels' : '';
  const items = preds.map(
    (p) =>
      `<li><span class="plabel">${esc(p.label)} <span class="muted">(${esc(p.index)})</span></span>` +
      `<span class="pval">${percent(p.score)}${unit}</span>` +
      `<span class="pbar"><span style="width:${barWidth(p.score)}%"></span></span></li>`,
  );
  return `<h3 class="preds-title">${title}</h3>\n<ol class="preds">${items.join('')}</ol>`;
}

function renderTarget(target: ReportTarget, img: ReportImage): string {
  const prob =
    target.probability === undefined ? '' : ` <span class="muted">${percent(target.probability)}</span>`;
  const panels = target.panels.map((p) => renderPanel(p, target, img)).join('\n');
  return `<div class="target">
<h3>${esc(target.description)}${prob}</h3>
<div class="panels">
${panels}
</div>
</div>`;
}

function renderPanel(panel: ReportPanel, target: ReportTarget, img: ReportImage): string {
  let frame: string;
  if (isImageDataUrl(panel.image)) {
    const size = panel.size ??
      pngDataUrlSize(panel.image) ??
      (img.thumbnail ? pngDataUrlSize(img.thumbnail) : undefined) ?? { width: img.width, height: img.height };
    frame = `<div class="frame"><img src="${esc(panel.image)}" alt="${esc(`${panel.title}: ${target.description}`)}" title="${esc(panel.method)}" width="${size.width}" height="${size.height}">${renderBox(panel.box, size)}${renderBox(panel.truth, size, true)}${renderDetection(panel.detection, size)}</div>`;
  } else {
    frame = '<div class="no-image">image unavailable</div>';
  }
  const note = panel.note ? `<div class="note">${esc(panel.note)}</div>` : '';
  const stats = panel.stats ? `<div class="stats">${esc(panel.stats)}</div>` : '';
  return `<figure class="panel"><figcaption>${esc(panel.title)}</figcaption>${frame}${stats}${note}</figure>`;
}

/** The box as an SVG over the image: a white rectangle with a dark rim, visible on any colormap. */
function renderBox(box: ReportPanel['box'], size: { width: number; height: number }, truth = false): string {
  if (!box) return '';
  const { x0, y0, x1, y1 } = box;
  if (![x0, y0, x1, y1].every(Number.isFinite) || x1 < x0 || y1 < y0) return '';
  // Inclusive pixel coordinates: the rectangle spans the pixels' outer edges.
  const r = `x="${x0}" y="${y0}" width="${x1 - x0 + 1}" height="${y1 - y0 + 1}" fill="none" vector-effect="non-scaling-stroke"`;
  if (truth) {
    return `<svg viewBox="0 0 ${size.width} ${size.height}" preserveAspectRatio="none" aria-label="ground truth ${x0},${y0}–${x1},${y1}" role="img"><rect ${r} stroke="#111" stroke-width="4"/><rect ${r} stroke="#3ddc84" stroke-width="2" stroke-dasharray="4 3"/></svg>`;
  }
  return `<svg viewBox="0 0 ${size.width} ${size.height}" preserveAspectRatio="none" aria-label="box ${x0},${y0}–${x1},${y1}" role="img"><rect ${r} stroke="#111" stroke-width="4"/><rect ${r} stroke="#fff" stroke-width="2"/></svg>`;
}

/**
 * A detection: its continuous-edge box as an SVG rectangle in its colour (dark rim, like the other
 * boxes), and its label as HTML text on a tag of the same colour above the box (inside it at the top
 * edge; anchored to the box's right edge on the right half, so it stays over the image).
 */
function renderDetection(d: ReportDetection | undefined, size: { width: number; height: number }): string {
  if (!d) return '';
  const { x0, y0, x1, y1 } = d.box;
  if (![x0, y0, x1, y1].every(Number.isFinite) || x1 <= x0 || y1 <= y0) return '';
  const color = d.color !== undefined && /^#[0-9a-f]{6}$/i.test(d.color) ? d.color : '#ffffff';
  const n = (v: number) => String(Number(v.toFixed(2)));
  const r = `x="${n(x0)}" y="${n(y0)}" width="${n(x1 - x0)}" height="${n(y1 - y0)}" fill="none" vector-effect="non-scaling-stroke"`;
  const svg = `<svg class="detection" viewBox="0 0 ${size.width} ${size.height}" preserveAspectRatio="none" aria-label="detection ${esc(d.text)}" role="img"><rect ${r} stroke="#111" stroke-width="4"/><rect ${r} stroke="${color}" stroke-width="2"/></svg>`;
  const pct = (v: number, of: number) => `${Math.min(100, Math.max(0, (100 * v) / of)).toFixed(2)}%`;
  const inside = y0 / size.height < 0.08;
  const horizontal =
    (x0 + x1) / 2 > size.width / 2
      ? `right:${pct(size.width - x1, size.width)}`
      : `left:${pct(x0, size.width)}`;
  const ink = luminance(color) > 140 ? '#111' : '#fff';
  const label = `<span class="det-label${inside ? ' inside' : ''}" style="${horizontal};top:${pct(y0, size.height)};background:${color};color:${ink}">${esc(d.text)}</span>`;
  return svg + label;
}

function luminance(hex: string): number {
  const v = (k: number) => Number.parseInt(hex.slice(k, k + 2), 16);
  return 0.299 * v(1) + 0.587 * v(3) + 0.114 * v(5);
}

function sizeAttrs(url: string): string {
  const size = pngDataUrlSize(url);
  return size ? ` width="${size.width}" height="${size.height}"` : '';
}

function percent(score: number): string {
  if (!Number.isFinite(score)) return '–';
  const pct = score * 100;
  if (pct > 0 && pct < 0.1) return '&lt;0.1%';
  return `${pct.toFixed(1)}%`;
}

function barWidth(score: number): string {
  const pct = Number.isFinite(score) ? Math.min(100, Math.max(0, score * 100)) : 0;
  return pct.toFixed(1);
}

function renderSections(sections: readonly ReportSection[]): string {
  return sections
    .map(
      (sec) => `<section class="card section">
<h2>${esc(sec.title)}</h2>
${sec.text ? `<p>${esc(sec.text)}</p>` : ''}
<table class="options">${sec.rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
</section>`,
    )
    .join('\n');
}
