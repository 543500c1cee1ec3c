// From per-image records to results: per metric value and method, the mean over images with a 95%
// confidence interval (stats.ts), the mean curves, per-class means, histograms, dataset-level values
// (mIoU, Win) and the images for the report's galleries (the k best and worst, kept in a bounded list).
// One pass over the records (records.ts), keeping numbers only: the same records give the same
// results whether they were written in one run, resumed, or merged from shards.

import { VERSION } from '../version.ts';
import { MIN_CONCENTRATION } from './metrics/bias.ts';
import type { ImageRecord, RecordsHeader, RunConfig } from './record-types.ts';
import { evalMetricById, type Reduction } from './registry.ts';
import {
  type CurveResult,
  type DatasetValueResult,
  type EvalResults,
  type GalleryEntry,
  type MetricResult,
  MODEL_SCOPE,
  type ValueResult,
} from './results.ts';
import { type CiOptions, histogram, summarize } from './stats.ts';

export type * from './results.ts';
export { MODEL_SCOPE, resultsCsv } from './results.ts';

export interface AggregateOptions extends CiOptions {
  /** Which records count (limit and shard of the run); default all. */
  readonly keep?: (index: number) => boolean;
  /** Images per gallery side (default 6). */
  readonly galleryImages?: number;
}

const HISTOGRAM_BINS = 20;
/** Class indices a class mask can hold (one byte per pixel): the size of the seeds' confusion matrix. */
const MASK_CLASSES = 256;
const LIST_LIMIT = 100;

/** Collects records one at a time; `results()` gives the aggregate. */
export class Aggregator {
  private readonly values = new Map<string, Map<string, number[]>>();
  private readonly curveSums = new Map<string, Map<string, { sum: Float64Array; n: Float64Array }>>();
  private readonly classSums = new Map<string, Map<string, Map<string, { n: number; sum: number }>>>();
  private readonly reductions = new Map<string, Map<string, readonly Reduction[]>>();
  private readonly wins = new Map<string, { wins: Map<string, number>; images: number }>();
  private readonly perClass = new Map<string, number>();
  private readonly failures: EvalResults['failures'][number][] = [];
  private readonly misclassified: EvalResults['misclassified'][number][] = [];
  private readonly seen = new Set<number>();
  private readonly best: GalleryEntry[] = [];
  private readonly worst: GalleryEntry[] = [];
  private readonly galleryKey: { key: string; title: string; better: 'higher' | 'lower' } | undefined;
  private evaluated = 0;
  private failed = 0;

  constructor(
    private readonly config: RunConfig,
    private readonly options: AggregateOptions = {},
  ) {
    // The gallery ranks images by the first per-method value of the chosen metrics, for the first method.
    for (const id of config.metrics) {
      const values = evalMetricById(id)?.values ?? [];
      const v = values.find((x) => x.primary) ?? values[0];
      if (v) {
        this.galleryKey = { key: v.key, title: v.title, better: v.better };
        break;
      }
    }
  }

  add(r: ImageRecord): void {
    if (this.seen.has(r.index) || !(this.options.keep?.(r.index) ?? true)) return;
    this.seen.add(r.index);
    if (r.error) {
      this.failed++;
      if (this.failures.length < LIST_LIMIT)
        this.failures.push({ index: r.index, id: r.id, image: r.image, error: r.error });
      return;
    }
    this.evaluated++;
    // The bias metric's region class (a watermark) is an annotation, not one of the image's classes.
    const region = (this.config.biasRegion as { label?: string } | undefined)?.label;
    const labels = region === undefined ? r.labels : r.labels.filter((l) => l !== region);
    for (const l of labels) this.perClass.set(l, (this.perClass.get(l) ?? 0) + 1);
    const top1 = r.predicted?.[0];
    if (r.model?.['accuracy.top1'] === 0 && top1 && this.misclassified.length < LIST_LIMIT)
      this.misclassified.push({
        index: r.index,
        id: r.id,
        image: r.image,
        labels: r.labels,
        predicted: top1.label,
      });
    for (const [key, v] of Object.entries(r.model ?? {})) this.addValue(key, 'model', v, labels);
    for (const [method, m] of Object.entries(r.methods ?? {})) {
      for (const [key, v] of Object.entries(m.values)) this.addValue(key, method, v, labels);
      for (const [key, c] of Object.entries(m.curves ?? {})) this.addCurve(key, method, c);
      for (const [metricId, d] of Object.entries(r.data?.[method] ?? {})) {
        for (const red of this.reductionsOf(metricId, method)) red.add(d);
      }
    }
    for (const id of this.config.metrics) {
      const win = evalMetricById(id)?.win;
      if (win) this.addWin(win.key, win.lowerWins, r);
    }
    this.addGallery(r);
  }

  private addValue(key: string, method: string, v: number | null, labels: readonly string[]): void {
    if (v === null || !Number.isFinite(v)) return;
    getOr(
      getOr(this.values, key, () => new Map()),
      method,
      () => [],
    ).push(v);
    const classes = getOr(
      getOr(this.classSums, key, () => new Map()),
      method,
      () => new Map(),
    );
    for (const l of labels) {
      const c = classes.get(l) ?? { n: 0, sum: 0 };
      c.n++;
      c.sum += v;
      classes.set(l, c);
    }
  }

  private addCurve(key: string, method: string, c: readonly number[]): void {
    const acc = getOr(
      getOr(this.curveSums, key, () => new Map()),
      method,
      () => ({
        sum: new Float64Array(c.length),
        n: new Float64Array(c.length),
      }),
    );
    for (let i = 0; i < Math.min(c.length, acc.sum.length); i++) {
      const v = c[i];
      if (typeof v === 'number' && Number.isFinite(v)) {
        acc.sum[i]! += v;
        acc.n[i]!++;
      }
    }
  }

  private reductionsOf(metricId: string, method: string): readonly Reduction[] {
    return getOr(
      getOr(this.reductions, metricId, () => new Map()),
      method,
      () => evalMetricById(metricId)?.reduce?.(MASK_CLASSES) ?? [],
    );
  }

  /** Win: on each image the method(s) with the best value share the win (ties split it). */
  private addWin(key: string, lowerWins: boolean, r: ImageRecord): void {
    const entries = Object.entries(r.methods ?? {}).flatMap(([m, rec]) => {
      const v = rec.values[key];
      return typeof v === 'number' && Number.isFinite(v) ? [[m, v] as const] : [];
    });
    if (entries.length < Object.keys(r.methods ?? {}).length || !entries.length) return;
    const best = lowerWins ? Math.min(...entries.map((e) => e[1])) : Math.max(...entries.map((e) => e[1]));
    const winners = entries.filter((e) => e[1] === best);
    const w = getOr(this.wins, key, () => ({ wins: new Map<string, number>(), images: 0 }));
    w.images++;
    for (const [m] of entries) if (!w.wins.has(m)) w.wins.set(m, 0);
    for (const [m] of winners) w.wins.set(m, w.wins.get(m)! + 1 / winners.length);
  }

  private addGallery(r: ImageRecord): void {
    const g = this.galleryKey;
    const method = this.config.methods[0];
    if (!g || !method) return;
    const value = r.methods?.[method]?.values[g.key];
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    const k = this.options.galleryImages ?? 6;
    const entry: GalleryEntry = { index: r.index, id: r.id, image: r.image, labels: r.labels, value };
    // best: sorted best first; worst: worst first. Ties keep the earlier image (stable by index).
    const better = (a: number, b: number) => (g.better === 'higher' ? a > b : a < b);
    insertBounded(this.best, entry, k, (a, b) => better(a.value, b.value));
    insertBounded(this.worst, entry, k, (a, b) => better(b.value, a.value));
  }

  results(): EvalResults {
    const ci = {
      method: this.options.method ?? 'bootstrap',
      resamples: this.options.resamples ?? 1000,
      seed: this.options.seed ?? 12,
      level: 0.95 as const,
    };
    const methods = [MODEL_SCOPE, ...this.config.methods];
    const metrics: MetricResult[] = this.config.metrics.flatMap((id) => {
      const def = evalMetricById(id);
      if (!def) return [];
      const defs = [
        ...(def.modelValues ?? []).map((v) => ({ ...v, scope: MODEL_SCOPE })),
        ...(def.values ?? []).map((v) => ({ ...v, scope: '' })),
      ];
      const values: ValueResult[] = defs.map((v) => ({
        key: v.key,
        title: v.title,
        better: v.better,
        percent: v.percent ?? false,
        byMethod: Object.fromEntries(
          methods
            .filter((m) => (v.scope === MODEL_SCOPE ? m === MODEL_SCOPE : m !== MODEL_SCOPE))
            .map((m) => [m, summarize(this.values.get(v.key)?.get(m) ?? [], this.options)]),
        ),
      }));
      const curves: CurveResult[] = (def.curves ?? []).map((c) => {
        const byMethod: Record<string, number[]> = {};
        for (const m of this.config.methods) {
          const acc = this.curveSums.get(c.key)?.get(m);
          if (acc) byMethod[m] = [...acc.sum].map((s, i) => (acc.n[i]! > 0 ? s / acc.n[i]! : Number.NaN));
        }
        const points = Math.max(0, ...Object.values(byMethod).map((y) => y.length));
        const x = c.x ?? Array.from({ length: points }, (_, i) => (points > 1 ? i / (points - 1) : 0));
        return { key: c.key, title: c.title, x, xLabel: c.xLabel, yLabel: c.yLabel, byMethod };
      });
      const dataset: DatasetValueResult[] = [];
      const reduced = this.reductions.get(id);
      const template = def.reduce?.(2) ?? [];
      for (const [i, r] of template.entries()) {
        dataset.push({
          key: r.key,
          title: r.title,
          better: r.better,
          percent: r.percent ?? false,
          byMethod: Object.fromEntries(
            this.config.methods.flatMap((m) => {
              const red = reduced?.get(m)?.[i];
              return red ? [[m, red.result()]] : [];
            }),
          ),
        });
      }
      if (def.win) {
        const w = this.wins.get(def.win.key);
        dataset.push({
          key: `${def.id}.win`,
          title: def.win.title,
          better: 'higher',
          percent: true,
          byMethod: Object.fromEntries(
            this.config.methods.map((m) => [m, w?.images ? (w.wins.get(m) ?? 0) / w.images : Number.NaN]),
          ),
        });
      }
      return [{ id, title: def.title, values, curves, dataset }];
    });
    return {
      gradsight: VERSION,
      config: this.config,
      images: { evaluated: this.evaluated, failed: this.failed, perClass: sortedRecord(this.perClass) },
      ci,
      metrics,
      perClass: this.perClassMeans(),
      histograms: this.histograms(),
      ...(this.galleryKey && this.best.length && (this.options.galleryImages ?? 6) > 0
        ? {
            gallery: {
              key: this.galleryKey.key,
              title: this.galleryKey.title,
              method: this.config.methods[0]!,
              best: this.best,
              worst: this.worst,
            },
          }
        : {}),
      ...(this.config.metrics.includes('bias') ? { bias: this.biasRows() } : {}),
      failures: this.failures,
      misclassified: this.misclassified,
    };
  }

  /** biasByClass (metrics/bias.ts) from the per-class means: concentration = mean share / mean area. */
  private biasRows(): NonNullable<EvalResults['bias']> {
    const rows: NonNullable<EvalResults['bias']>[number][] = [];
    for (const method of this.config.methods) {
      const shares = this.classSums.get('bias.share')?.get(method);
      const areas = this.classSums.get('bias.area')?.get(method);
      if (!shares || !areas) continue;
      const mine = [...shares].map(([label, s]) => {
        const share = s.sum / s.n;
        const a = areas.get(label);
        const area = a ? a.sum / a.n : 0;
        const concentration = area > 0 ? share / area : share > 0 ? Number.POSITIVE_INFINITY : 0;
        return {
          method,
          label,
          images: s.n,
          share,
          area,
          concentration,
          flagged: share > 0 && concentration >= MIN_CONCENTRATION,
        };
      });
      rows.push(...mine.sort((a, b) => b.concentration - a.concentration || (a.label < b.label ? -1 : 1)));
    }
    return rows;
  }

  private perClassMeans(): EvalResults['perClass'] {
    const out: Record<string, Record<string, Record<string, { n: number; mean: number }>>> = {};
    for (const [key, byMethod] of this.classSums) {
      out[key] = {};
      for (const [m, classes] of byMethod) {
        out[key]![m] = Object.fromEntries(
          [...classes.entries()]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([l, c]) => [l, { n: c.n, mean: c.sum / c.n }]),
        );
      }
    }
    return out;
  }

  private histograms(): EvalResults['histograms'] {
    const out: Record<string, { lo: number; hi: number; byMethod: Record<string, number[]> }> = {};
    for (const [key, byMethod] of this.values) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const list of byMethod.values())
        for (const v of list) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      // Values in [0, 1] (shares, IoUs, hits) get the fixed range, so methods and runs compare.
      if (lo >= 0 && hi <= 1) {
        lo = 0;
        hi = 1;
      }
      out[key] = {
        lo,
        hi,
        byMethod: Object.fromEntries(
          [...byMethod].map(([m, list]) => [m, histogram(list, HISTOGRAM_BINS, lo, hi)]),
        ),
      };
    }
    return out;
  }
}

function getOr<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

/** Inserts into a list kept sorted by `before` and at most `k` long. */
function insertBounded<T>(list: T[], item: T, k: number, before: (a: T, b: T) => boolean): void {
  let i = list.length;
  while (i > 0 && before(item, list[i - 1]!)) i--;
  if (i >= k) return;
  list.splice(i, 0, item);
  if (list.length > k) list.pop();
}

function sortedRecord(m: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The results of a header and its records (from a file: records.ts readRecords). */
export function aggregateRecords(
  header: RecordsHeader,
  records: Iterable<ImageRecord>,
  options: AggregateOptions = {},
): EvalResults {
  const a = new Aggregator(header.config, options);
  for (const r of records) a.add(r);
  return a.results();
}
