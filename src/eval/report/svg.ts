// Small inline SVG charts for the eval report: line charts (deletion/insertion curves, threshold
// sweeps), grouped bar charts (per-class means by method) and histograms. No script, no external
// fonts; every label goes through `esc`. Colours: one per method, in the method order of the run.

import { esc } from '../../report/html.ts';

/** A colour per series (Okabe-Ito, distinguishable with colour blindness). */
export const SERIES_COLORS = [
  '#0072b2',
  '#e69f00',
  '#009e73',
  '#cc79a7',
  '#d55e00',
  '#56b4e9',
  '#f0e442',
  '#000000',
];

export const seriesColor = (i: number): string => SERIES_COLORS[i % SERIES_COLORS.length]!;

const W = 420;
const H = 240;
const M = { left: 46, right: 12, top: 14, bottom: 40 };

const fmt = (v: number) => {
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  // Small ranges (a ROAD change of a few thousandths) keep two significant digits.
  return a > 0 && a < 0.1 ? String(Number(v.toPrecision(2))) : v.toFixed(2);
};

interface Range {
  readonly lo: number;
  readonly hi: number;
}

function range(values: readonly number[], zero = true): Range {
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(...finite, zero ? 0 : Number.POSITIVE_INFINITY);
  let hi = Math.max(...finite, zero ? 0 : Number.NEGATIVE_INFINITY);
  if (!finite.length) return { lo: 0, hi: 1 };
  if (lo >= 0 && hi <= 1 && hi > 0.05) hi = 1;
  if (hi === lo) hi = lo + 1;
  return { lo, hi };
}

function axes(x: Range, y: Range, xLabel: string, yLabel: string, xTicks = true): string {
  const px = (v: number) => M.left + ((v - x.lo) / (x.hi - x.lo)) * (W - M.left - M.right);
  const py = (v: number) => H - M.bottom - ((v - y.lo) / (y.hi - y.lo)) * (H - M.top - M.bottom);
  const parts: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const v = y.lo + ((y.hi - y.lo) * k) / 4;
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${py(v).toFixed(1)}" y2="${py(v).toFixed(1)}" stroke="#e2e6ed"/>`,
      `<text x="${M.left - 4}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`,
    );
    if (xTicks) {
      const u = x.lo + ((x.hi - x.lo) * k) / 4;
      parts.push(
        `<text x="${px(u).toFixed(1)}" y="${H - M.bottom + 14}" text-anchor="middle">${fmt(u)}</text>`,
      );
    }
  }
  parts.push(
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 6}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(11 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#5d6677"/>`,
    `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#5d6677"/>`,
  );
  return parts.join('');
}

function frame(title: string, body: string, legend: string): string {
  return `<figure class="chart"><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}" font-size="11" fill="#1c2230">${body}</svg>${legend}</figure>`;
}

export interface Series {
  readonly name: string;
  readonly values: readonly number[];
}

function legendOf(series: readonly { name: string }[]): string {
  return `<div class="chart-legend">${series
    .map((s, i) => `<span><i style="background:${seriesColor(i)}"></i>${esc(s.name)}</span>`)
    .join('')}</div>`;
}

/** A line per series over shared x values. */
export function lineChart(
  title: string,
  x: readonly number[],
  series: readonly Series[],
  xLabel: string,
  yLabel: string,
): string {
  const xr = range(x, false);
  const yr = range(series.flatMap((s) => s.values));
  const px = (v: number) => M.left + ((v - xr.lo) / (xr.hi - xr.lo)) * (W - M.left - M.right);
  const py = (v: number) => H - M.bottom - ((v - yr.lo) / (yr.hi - yr.lo)) * (H - M.top - M.bottom);
  const lines = series.map((s, i) => {
    const pts = s.values.flatMap((v, k) =>
      Number.isFinite(v) && k < x.length ? [`${px(x[k]!).toFixed(1)},${py(v).toFixed(1)}`] : [],
    );
    return `<polyline points="${pts.join(' ')}" fill="none" stroke="${seriesColor(i)}" stroke-width="2"><title>${esc(s.name)}</title></polyline>`;
  });
  return frame(title, axes(xr, yr, xLabel, yLabel) + lines.join(''), legendOf(series));
}

/** Groups of bars (one group per category, one bar per series). */
export function barChart(
  title: string,
  categories: readonly string[],
  series: readonly Series[],
  yLabel: string,
): string {
  const yr = range(series.flatMap((s) => s.values));
  const plotW = W - M.left - M.right;
  const group = plotW / Math.max(1, categories.length);
  const bar = (group * 0.8) / Math.max(1, series.length);
  const py = (v: number) => H - M.bottom - ((v - yr.lo) / (yr.hi - yr.lo)) * (H - M.top - M.bottom);
  const parts: string[] = [];
  categories.forEach((c, k) => {
    const x0 = M.left + k * group + group * 0.1;
    series.forEach((s, i) => {
      const v = s.values[k];
      if (v === undefined || !Number.isFinite(v)) return;
      const top = py(Math.max(v, 0));
      const h = Math.abs(py(v) - py(0));
      parts.push(
        `<rect x="${(x0 + i * bar).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(1, bar - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${seriesColor(i)}"><title>${esc(`${s.name}, ${c}: ${fmt(v)}`)}</title></rect>`,
      );
    });
    const label = c.length > 12 ? `${c.slice(0, 11)}…` : c;
    parts.push(
      `<text x="${(x0 + group * 0.4).toFixed(1)}" y="${H - M.bottom + 12}" text-anchor="end" transform="rotate(-30 ${(x0 + group * 0.4).toFixed(1)} ${H - M.bottom + 12})">${esc(label)}</text>`,
    );
  });
  return frame(title, axes({ lo: 0, hi: 1 }, yr, '', yLabel, false) + parts.join(''), legendOf(series));
}

/** Histograms of several series over the same bins, drawn as outlined steps. */
export function histogramChart(
  title: string,
  lo: number,
  hi: number,
  series: readonly Series[],
  xLabel: string,
): string {
  const bins = series[0]?.values.length ?? 0;
  const yr = range(series.flatMap((s) => s.values));
  const xr = { lo, hi: hi > lo ? hi : lo + 1 };
  const px = (v: number) => M.left + ((v - xr.lo) / (xr.hi - xr.lo)) * (W - M.left - M.right);
  const py = (v: number) => H - M.bottom - ((v - yr.lo) / (yr.hi - yr.lo)) * (H - M.top - M.bottom);
  const width = (xr.hi - xr.lo) / Math.max(1, bins);
  const paths = series.map((s, i) => {
    let d = `M${px(xr.lo).toFixed(1)},${py(0).toFixed(1)}`;
    s.values.forEach((v, k) => {
      d += ` V${py(v).toFixed(1)} H${px(xr.lo + (k + 1) * width).toFixed(1)}`;
    });
    d += ` V${py(0).toFixed(1)}`;
    return `<path d="${d}" fill="${seriesColor(i)}" fill-opacity="0.15" stroke="${seriesColor(i)}" stroke-width="1.5"><title>${esc(s.name)}</title></path>`;
  });
  return frame(title, axes(xr, yr, xLabel, 'images') + paths.join(''), legendOf(series));
}
