// The README's "Evaluation results" tables, rechecked: a representative subset of their numbers is
// computed again and compared with the table cells (parsed from README.md, each table after its
// `<!-- results:ID -->` marker). What is recomputed:
//   - voc-samples × MobileNetV2, the Grad-CAM row of the map metrics and the model row (accuracy,
//     centre-box baseline), through evaluate() as `gradsight eval` runs it;
//   - binary-MNIST accuracy on all 2,115 digits, independently of eval (one batched predict, argmax
//     against the folder's digit);
//   - binary-MNIST sanity checks on every 200th digit (11 images), Grad-CAM and Guided Backprop.
// Tolerance: a cell printed with d decimals matches when |recomputed − cell| ≤ ½·10^−d (the printing's
// rounding; × 1/100 for a % cell) + 1e-4 (ONNX Runtime's float sums differ slightly with its thread
// count). Needs ../shared; skips without it. About 40–80 s on a busy 2-core machine.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { EvalResults } from '../../src/eval/aggregate.ts';
import { openDataset } from '../../src/eval/datasets/index.ts';
import { aggregateFile, evaluate } from '../../src/eval/run.ts';
import type { Explainer } from '../../src/explain/explainer.ts';
import { loadExplainer } from '../../src/explain/load-node.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { imagesToBatch } from '../../src/image/preprocess.ts';
import type { MethodId } from '../../src/methods/types.ts';
import { repoRoot, sharedDir, skipNoShared } from '../helpers/shared.ts';

/** A README cell: its value (a % cell divided by 100) and the tolerance its printed digits allow. */
interface Cell {
  readonly value: number;
  readonly tolerance: number;
}

const FLOAT_SLACK = 1e-4;

/** The first number of a cell ("0.554 (0.47–0.64)", "42.9%"), or undefined for "—" and text. */
function parseCell(text: string): Cell | undefined {
  const m = /(-?\d+(?:\.(\d+))?)\s*(%?)/.exec(text.replace(/\*\*/g, ''));
  if (!m) return undefined;
  const scale = m[3] ? 0.01 : 1;
  const decimals = m[2]?.length ?? 0;
  return { value: Number(m[1]) * scale, tolerance: 0.5 * 10 ** -decimals * scale + FLOAT_SLACK };
}

/** The table after `<!-- results:ID -->`: row key (first cell, backticks removed) → column title → cell. */
function readmeTable(markdown: string, id: string): Map<string, Map<string, Cell>> {
  const marker = `<!-- results:${id} -->`;
  const at = markdown.indexOf(marker);
  assert.ok(at >= 0, `README.md has no ${marker}`);
  const lines = markdown.slice(at + marker.length).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const l of lines.slice(start)) {
    if (!l.startsWith('|')) break;
    rows.push(
      l
        .slice(1, l.endsWith('|') ? -1 : undefined)
        .split('|')
        .map((c) => c.trim()),
    );
  }
  const [header, , ...body] = rows;
  assert.ok(header && body.length, `the table after ${marker} is empty`);
  const table = new Map<string, Map<string, Cell>>();
  for (const r of body) {
    const cells = new Map<string, Cell>();
    header.slice(1).forEach((title, i) => {
      const c = parseCell(r[i + 1] ?? '');
      if (c) cells.set(title, c);
    });
    table.set(r[0]!.replace(/`/g, ''), cells);
  }
  return table;
}

const readme = () => readFileSync(join(repoRoot, 'README.md'), 'utf8');

function cell(table: Map<string, Map<string, Cell>>, row: string, column: string): Cell {
  const c = table.get(row)?.get(column);
  assert.ok(c, `README table has no number in row ${row}, column "${column}"`);
  return c;
}

function near(recomputed: number, c: Cell, what: string): void {
  assert.ok(
    Math.abs(recomputed - c.value) <= c.tolerance,
    `${what}: recomputed ${recomputed}, README ${c.value} (± ${c.tolerance.toExponential(1)})`,
  );
}

/** The mean of a value key for a method (`model` for method-free values). */
function meanOf(results: EvalResults, key: string, method: string): number {
  for (const m of results.metrics) {
    const v = m.values.find((x) => x.key === key);
    if (v?.byMethod[method]) return v.byMethod[method]!.mean;
    const d = m.dataset.find((x) => x.key === key);
    if (d?.byMethod[method] !== undefined) return d.byMethod[method]!;
  }
  assert.fail(`results have no ${key} for ${method}`);
}

/** evaluate() into a temporary records file, aggregated as the CLI does. */
async function run(
  ex: Explainer,
  dataset: string,
  o: {
    methods: MethodId[];
    metrics: string[];
    classMap?: string;
    shard?: { index: number; count: number };
  },
): Promise<EvalResults> {
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-readme-'));
  try {
    const records = join(dir, 'per-image.jsonl');
    const summary = await evaluate(ex, await openDataset(dataset), { ...o, records });
    assert.equal(summary.failed, 0);
    return await aggregateFile(records, { keep: summary.keep });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const MNIST_MODEL = join(sharedDir, 'models', 'binary-mnist');
const MNIST_DATA = join(sharedDir, 'data', 'binary-mnist', 'test');
/** Raw 0–255 pixels (models/binary-mnist/README.md), as the README's commands pass them. */
const MNIST_PREPROCESS = { scale: '0-255', mean: [0], std: [1] } as const;

test('README cells and tables parse as the checks read them', () => {
  assert.deepEqual(parseCell('42.9%'), { value: 0.429, tolerance: 0.0005 + FLOAT_SLACK });
  const c = parseCell('0.554 (0.466–0.642)')!;
  assert.equal(c.value, 0.554);
  assert.ok(Math.abs(c.tolerance - (0.0005 + FLOAT_SLACK)) < 1e-12);
  assert.equal(parseCell('**99.91%** (99.76%–100.00%)')!.value, 0.9991);
  assert.equal(parseCell('n/a'), undefined);
  const md =
    'text\n<!-- results:x -->\n\n| method | a | b |\n|---|---|---|\n| `gradcam` | 0.25 | — |\n\nafter |';
  const t = readmeTable(md, 'x');
  assert.deepEqual([...t.keys()], ['gradcam']);
  assert.equal(t.get('gradcam')!.get('a')!.value, 0.25);
  assert.equal(t.get('gradcam')!.has('b'), false);
  assert.throws(() => readmeTable(md, 'y'), /no <!-- results:y -->/);
});

describe('README evaluation results, recomputed', { skip: skipNoShared }, () => {
  test('voc-samples × MobileNetV2: the Grad-CAM row and the model row', async () => {
    const maps = readmeTable(readme(), 'voc-mobilenetv2-maps');
    const ex = await loadExplainer(join(sharedDir, 'models', 'mobilenet_v2_1.0_224_quant'));
    try {
      const r = await run(ex, join(sharedDir, 'data', 'voc-samples'), {
        methods: ['gradcam'],
        metrics: ['accuracy', 'localization', 'pointing', 'seeds'],
        classMap: 'voc-imagenet',
      });
      const columns: [string, string][] = [
        ['top-1 loc. error', 'localization.top1'],
        ['top-5 loc. error', 'localization.top5'],
        ['box IoU', 'localization.iou'],
        ['pointing game', 'pointing.hit'],
        ['energy pointing', 'pointing.energy'],
        ['seed IoU', 'seeds.iou'],
        ['mIoU', 'seeds.mIoU'],
      ];
      for (const [title, key] of columns)
        near(meanOf(r, key, 'gradcam'), cell(maps, 'gradcam', title), title);
      const model = readmeTable(readme(), 'voc-mobilenetv2-model');
      near(meanOf(r, 'accuracy.top1', 'model'), cell(model, 'MobileNetV2', 'top-1 accuracy'), 'accuracy');
      const centre = meanOf(r, 'localization.centreTop1', 'model');
      near(centre, cell(model, 'MobileNetV2', 'centre box, top-1 loc. error'), 'centre box');
      // The paper's finding at ILSVRC-like object scale: Grad-CAM's box beats the centre box.
      assert.ok(meanOf(r, 'localization.top1', 'gradcam') < centre);
    } finally {
      await ex.release();
    }
  });

  test('binary-MNIST: accuracy on all 2,115 digits, by one batched predict', async () => {
    const table = readmeTable(readme(), 'mnist-model');
    const ex = await loadExplainer(MNIST_MODEL, { preprocess: MNIST_PREPROCESS });
    try {
      let right = 0;
      let total = 0;
      for (const digit of ['0', '1']) {
        const files = readdirSync(join(MNIST_DATA, digit)).filter((f) => f.endsWith('.png'));
        for (let i = 0; i < files.length; i += 256) {
          const images = await Promise.all(
            files.slice(i, i + 256).map((f) => decodeImageFile(join(MNIST_DATA, digit, f))),
          );
          const preds = await ex.model.predict(imagesToBatch(images, ex.model.preprocess), 1);
          for (const p of preds) if (p.top[0]!.index === Number(digit)) right++;
          total += images.length;
        }
      }
      assert.equal(total, 2115);
      near(right / total, cell(table, 'binary-mnist', 'top-1 accuracy'), 'accuracy');
    } finally {
      await ex.release();
    }
  });

  test('binary-MNIST sanity checks on every 200th digit: Grad-CAM and Guided Backprop', async () => {
    const table = readmeTable(readme(), 'mnist-sanity-test');
    const ex = await loadExplainer(MNIST_MODEL, { preprocess: MNIST_PREPROCESS });
    try {
      const r = await run(ex, MNIST_DATA, {
        methods: ['gradcam', 'guided-backprop'],
        metrics: ['sanity'],
        shard: { index: 1, count: 200 },
      });
      assert.equal(r.images.evaluated, 11);
      const curve = r.metrics.find((m) => m.id === 'sanity')!.curves[0]!;
      for (const method of ['gradcam', 'guided-backprop']) {
        const steps = curve.byMethod[method]!;
        steps.forEach((v, i) => {
          near(v, cell(table, method, `ρ, step ${i + 1}`), `${method} step ${i + 1}`);
        });
        near(
          meanOf(r, 'sanity.randomLogit', method),
          cell(table, method, 'ρ, random logit'),
          `${method} random logit`,
        );
      }
      // Adebayo et al.'s finding: with the top layers randomized (steps 1–3) Grad-CAM's maps
      // decorrelate far more than Guided Backprop's, and so does the random logit's.
      const [gc, gbp] = [curve.byMethod.gradcam!, curve.byMethod['guided-backprop']!];
      for (let i = 0; i < 3; i++) assert.ok(gc[i]! + 0.2 < gbp[i]!, `step ${i + 1}: ${gc[i]} vs ${gbp[i]}`);
      assert.ok(
        meanOf(r, 'sanity.randomLogit', 'gradcam') + 0.2 < meanOf(r, 'sanity.randomLogit', 'guided-backprop'),
      );
    } finally {
      await ex.release();
    }
  });
});
