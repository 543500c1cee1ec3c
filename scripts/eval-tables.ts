// The README's eval table: `gradsight eval`'s library run on ../shared/data/voc-samples with the shared
// MobileNetV2 (VOC → ImageNet class map), printed as Markdown (test/cli/eval.test.ts reruns Grad-CAM's
// and Grad-CAM++'s rows and checks them against the README).
//   node --import tsx scripts/eval-tables.ts [methods]

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalResults } from '../src/eval/aggregate.ts';
import { openDataset } from '../src/eval/datasets/index.ts';
import { aggregateFile, evaluate } from '../src/eval/run.ts';
import { loadExplainer } from '../src/explain/load-node.ts';
import { methodById } from '../src/methods/table.ts';
import type { MethodId } from '../src/methods/types.ts';

export const TABLE_METHODS: readonly MethodId[] = [
  'gradcam',
  'gradcam++',
  'hirescam',
  'layercam',
  'xgradcam',
  'eigencam',
  'cam',
];
export const TABLE_METRICS = ['accuracy', 'localization', 'pointing', 'seeds', 'confidence'];

/** Columns: value key, heading, shown as a percentage. */
const COLUMNS: readonly [string, string, boolean][] = [
  ['localization.top1', 'top-1 loc. error', true],
  ['localization.top5', 'top-5 loc. error', true],
  ['localization.iou', 'box IoU', false],
  ['pointing.hit', 'pointing game', true],
  ['pointing.energy', 'energy pointing', true],
  ['seeds.iou', 'seed IoU', false],
  ['seeds.mIoU', 'seed mIoU', false],
  ['confidence.drop', 'Average Drop', true],
  ['confidence.increase', 'Increase in Conf.', true],
  ['confidence.win', 'Win', true],
];

/** The mean (or dataset value) of `key` for `method`, as the table prints it. */
export function tableCell(r: EvalResults, key: string, method: string, percent: boolean): string {
  for (const m of r.metrics) {
    const v =
      m.values.find((x) => x.key === key)?.byMethod[method]?.mean ??
      m.dataset.find((x) => x.key === key)?.byMethod[method];
    if (v === undefined) continue;
    if (!Number.isFinite(v)) return '–';
    return percent ? `${(100 * v).toFixed(1)}%` : v.toFixed(3);
  }
  return '–';
}

export function evalTable(r: EvalResults, methods: readonly string[]): string {
  const head = `| method | ${COLUMNS.map((c) => c[1]).join(' | ')} |`;
  const rule = `|---|${COLUMNS.map(() => '---').join('|')}|`;
  const rows = methods.map(
    (m) =>
      `| ${methodById(m)?.title ?? m} | ${COLUMNS.map(([k, , p]) => tableCell(r, k, m, p)).join(' | ')} |`,
  );
  return [head, rule, ...rows, ''].join('\n');
}

export async function runVocTable(shared: string, methods: readonly MethodId[]): Promise<EvalResults> {
  const ex = await loadExplainer(join(shared, 'models', 'mobilenet_v2_1.0_224_quant'));
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-eval-table-'));
  try {
    const dataset = await openDataset(join(shared, 'data', 'voc-samples'));
    const records = join(dir, 'per-image.jsonl');
    await evaluate(ex, dataset, { methods, metrics: TABLE_METRICS, classMap: 'voc-imagenet', records });
    return await aggregateFile(records);
  } finally {
    await ex.release();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const methods = (process.argv[2]?.split(',') ?? TABLE_METHODS) as MethodId[];
  const r = await runVocTable(join(import.meta.dirname, '..', '..', 'shared'), methods);
  const top1 = tableCell(r, 'accuracy.top1', 'model', true);
  const top5 = tableCell(r, 'accuracy.top5', 'model', true);
  process.stdout.write(`classification top-1 / top-5: ${top1} / ${top5}\n\n${evalTable(r, methods)}`);
}
