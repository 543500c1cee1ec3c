// Whole-model conformance against PyTorch: for each torchvision model exported by
// conformance/export_models.py (dynamic batch, height and width), gradsight's gradients (standard and
// guided rules) w.r.t. its default Grad-CAM layer, a mid-level layer and the input, at batch 2 with a
// different one-hot seed per row and a non-square size the export was not traced at (256×320), must
// match PyTorch float64 autograd to max|Δ|/max|ref| ≤ 1e-4. The gradient model is compiled for that
// size (as GradientRunner does), and once more from the symbolic shapes alone: that one model must
// give the same gradients. Writes the table to conformance/RESULTS.md. Skipped when the export script
// has not been run.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { guided, type RuleSet, standard } from '../../src/autodiff/index.ts';
import { isGradsightError } from '../../src/errors.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { decodeNpy } from '../../src/tensor/npy.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { relError, runGradients } from '../helpers/grad-run.ts';
import { repoRoot } from '../helpers/shared.ts';
import { pickLayers } from './pick-layers.ts';

const TOLERANCE = 1e-4;
/** A ReLU or MaxPool decision may differ between float32 ORT and float64 PyTorch only where the
 * float64 alternatives are this close (|x − bound| or the gap between the two largest values in the
 * window, over max|x|), in units of the model's own float32 forward error (at least 1e-6). */
const FLIP_FACTOR = 10;
/** The ORT activations must match the captured PyTorch ones to this: a wrong mapping gives O(1). */
const VALUE_TOLERANCE = 1e-3;
const KEYS = ['default', 'mid', 'input'] as const;
type Key = (typeof KEYS)[number];

interface Manifest {
  readonly arch: string;
  readonly onnx: string;
  readonly inputShape: number[];
  readonly tensors: Record<Key, string>;
  readonly classes: number[];
  readonly preparation: string[];
  readonly decisionsDiffering: {
    op: string;
    tensor: string;
    index: number;
    x: number;
    relDistance: number;
  }[];
  readonly seconds: { export: number; references: number };
  /** torch.onnx dynamic_axes of the export (absent in exports before dynamic H, W). */
  readonly dynamicAxes?: { readonly input: Readonly<Record<string, string>> };
}
interface Index {
  readonly models: string[];
  readonly torch: string;
  readonly torchvision: string;
  readonly onnx: string;
}

const cacheDir = process.env.GRADSIGHT_CONFORMANCE ?? join(repoRoot, 'conformance', '.cache');
const indexPath = join(cacheDir, 'manifest.json');
const skip: false | string = existsSync(indexPath)
  ? false
  : `no conformance cache at ${cacheDir}: run \`/usr/bin/python3 conformance/export_models.py\` (or conformance/setup.sh)`;

const readNpy = (arch: string, file: string): Tensor => {
  const path = join(cacheDir, arch, file);
  return decodeNpy(readFileSync(path), path);
};

/** How two gradients differ: the relative error, and what a failure looks like. */
interface Comparison {
  readonly rel: number;
  /** Fraction of elements with |Δ| > TOLERANCE · max|ref|. */
  readonly beyond: number;
  readonly count: number;
  readonly cosine: number;
}

function compare(got: ArrayLike<number>, ref: ArrayLike<number>): Comparison {
  const rel = relError(got, ref);
  let max = 0;
  for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(ref[i]!));
  let count = 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = got[i]!;
    const b = ref[i]!;
    if (Math.abs(a - b) > TOLERANCE * max) count++;
    dot += a * b;
    na += a * a;
    nb += b * b;
  }
  const cosine = na === 0 && nb === 0 ? 1 : dot / Math.sqrt(na * nb);
  return { rel, beyond: count / ref.length, count, cosine };
}

interface Row {
  arch: string;
  manifest: Manifest;
  logits: number;
  values: Partial<Record<Key, number>>;
  /** Against the pure float64 reference, and against the one with ORT's ReLU/MaxPool decisions. */
  grads: Record<string, Partial<Record<Key, Comparison>>>;
  matched: Record<string, Partial<Record<Key, Comparison>>>;
  /** The standard gradients of the model compiled from symbolic shapes vs the sized compile (max rel). */
  symbolic: number | string;
  seconds: number;
}
const rows: Row[] = [];

describe('torchvision models: gradients equal PyTorch float64 autograd', { skip }, () => {
  const index: Index | undefined = skip ? undefined : JSON.parse(readFileSync(indexPath, 'utf8'));
  for (const arch of index?.models ?? []) {
    test(arch, async (t) => {
      const start = performance.now();
      const m: Manifest = JSON.parse(readFileSync(join(cacheDir, arch, 'manifest.json'), 'utf8'));
      const bytes = new Uint8Array(readFileSync(join(cacheDir, arch, m.onnx)));
      const layers = pickLayers(bytes, [m.inputShape[2]!, m.inputShape[3]!]);
      assert.equal(
        layers.default,
        m.tensors.default,
        'gradsight’s default layer changed since the export: re-run conformance/export_models.py',
      );
      const input = readNpy(arch, 'input.npy');
      const seed = readNpy(arch, 'seed.npy');
      const wrt = KEYS.map((k) => m.tensors[k]);
      const row: Row = {
        arch,
        manifest: m,
        logits: Number.NaN,
        values: {},
        grads: {},
        matched: {},
        symbolic: Number.NaN,
        seconds: 0,
      };
      // Every export is dynamic in N, H and W but those the export script lists in STATIC_HW.
      const declared = decodeModel(bytes).graph.inputs[0]!.shape ?? [];
      const dynamicAxes = Object.keys(m.dynamicAxes?.input ?? {}).map(Number);
      const dynamicHW = dynamicAxes.includes(2) && dynamicAxes.includes(3);
      assert.ok(
        dynamicAxes.includes(0) && dynamicAxes.every((a) => typeof declared[a] === 'string'),
        `the export must have symbolic ${dynamicAxes} (got [${declared.join(', ')}]): re-run conformance/export_models.py`,
      );
      let sized: Record<string, Tensor> = {};
      const flips = m.decisionsDiffering;
      const failures: string[] = [];
      const notes: string[] = [];
      for (const ruleSet of [standard, guided] as RuleSet[]) {
        // Sized and with the gradients' shapes declared, as GradientRunner compiles (some rules then
        // take other forms: a strided depthwise Conv's input gradient); like GradientRunner, without
        // the declarations where ONNX Runtime refuses them (its optimizer faults on AlexNet's).
        const sizedOptions = { wrt, ruleSet, inputShapes: { [layers.input]: m.inputShape } };
        const feeds = { [layers.input]: input };
        const run = await runGradients(bytes, { ...sizedOptions, gradientShapes: true }, feeds, seed).catch(
          (e: unknown) => {
            if (!isGradsightError(e, 'model-invalid')) throw e;
            notes.push(`${ruleSet.name}: shapes undeclared (ONNX Runtime refused them)`);
            return runGradients(bytes, sizedOptions, feeds, seed);
          },
        );
        const grads: Partial<Record<Key, Comparison>> = {};
        const matched: Partial<Record<Key, Comparison>> = {};
        for (const key of KEYS) {
          const name = m.tensors[key];
          const got = run.grads[name]!;
          const ref = readNpy(arch, `${key}.${ruleSet.name}.npy`);
          const refOrt = readNpy(arch, `${key}.${ruleSet.name}-ort.npy`);
          assert.deepEqual(got.dims, ref.dims, `${key} gradient shape`);
          const c = compare(got.data as Float32Array, ref.data as Float64Array);
          const cm = compare(got.data as Float32Array, refOrt.data as Float64Array);
          grads[key] = c;
          matched[key] = cm;
          const what = `${ruleSet.name} ${key} (${name})`;
          if (!(c.rel <= TOLERANCE)) {
            // Expected only where ORT's float32 forward pass took another branch at a ReLU or MaxPool.
            (flips.length ? notes : failures).push(
              `${what}: rel ${c.rel.toExponential(2)}, ${c.count} elements beyond ` +
                `(${(100 * c.beyond).toPrecision(2)}%), cosine ${c.cosine.toFixed(7)}; ` +
                `with ORT's decisions rel ${cm.rel.toExponential(2)}`,
            );
          }
          if (!(cm.rel <= TOLERANCE)) {
            failures.push(`${what}, ORT's decisions: rel ${cm.rel.toExponential(2)}, cosine ${cm.cosine}`);
          }
          if (ruleSet === standard && key !== 'input') {
            // The captured PyTorch activation is the ONNX tensor: checks the name mapping.
            const v = readNpy(arch, `${key}.value.npy`);
            row.values[key] = relError(run.values[name]!.data as Float32Array, v.data as Float64Array);
          }
        }
        row.grads[ruleSet.name] = grads;
        row.matched[ruleSet.name] = matched;
        if (ruleSet === standard) sized = run.grads;
        if (ruleSet === standard) {
          const ref = readNpy(arch, 'logits.npy');
          const logits = run.all[run.compiled.explained]!;
          row.logits = relError(logits.data as Float32Array, ref.data as Float64Array);
        }
      }
      // One gradient model for every size: compiled from the export's symbolic shapes alone.
      if (!dynamicHW) row.symbolic = 'static H, W export';
      else
        try {
          const run = await runGradients(bytes, { wrt }, { [layers.input]: input }, seed);
          row.symbolic = Math.max(
            ...wrt.map((w) => relError(run.grads[w]!.data as Float32Array, sized[w]!.data as Float32Array)),
          );
        } catch (e) {
          // Only a rule whose geometry depends on the size may refuse, with a typed error.
          if (!isGradsightError(e) || !/static spatial sizes/.test(e.message)) throw e;
          row.symbolic = `sized per run (${String(e.details.op)})`;
        }
      if (typeof row.symbolic === 'number' && !(row.symbolic <= 1e-5))
        failures.push(`symbolic compile differs from the sized one: rel ${row.symbolic}`);
      row.seconds = (performance.now() - start) / 1000;
      rows.push(row);
      t.diagnostic(
        `logits ${fmt(row.logits)}; values default ${fmt(row.values.default)} mid ${fmt(row.values.mid)}; ` +
          ['standard', 'guided']
            .map((r) => `${r}: ${KEYS.map((k) => `${k} ${fmt(row.grads[r]?.[k]?.rel)}`).join(', ')}`)
            .join('; ') +
          `; symbolic ${typeof row.symbolic === 'number' ? fmt(row.symbolic) : row.symbolic}; ${row.seconds.toFixed(1)}s`,
      );
      for (const f of [...notes, ...failures]) t.diagnostic(f);
      const forwardError = Math.max(row.logits, row.values.default!, row.values.mid!, 1e-7);
      const far = flips.filter((f) => !(f.relDistance <= FLIP_FACTOR * forwardError));
      assert.deepEqual(
        far,
        [],
        `ORT and PyTorch decide differently beyond ${FLIP_FACTOR}× the forward error`,
      );
      assert.ok(row.logits < 1e-3, `logits differ from PyTorch: ${row.logits}`);
      for (const k of ['default', 'mid'] as const) {
        assert.ok(
          row.values[k]! < VALUE_TOLERANCE,
          `${k} value differs: the layer mapping is wrong (${row.values[k]})`,
        );
      }
      assert.deepEqual(failures, [], `${arch}: gradients beyond ${TOLERANCE}`);
    });
  }

  after(() => {
    if (!index || rows.length === 0) return;
    const report = resultsMarkdown(index, rows);
    console.log(report);
    if (rows.length === index.models.length) {
      const path = join(repoRoot, 'conformance', 'RESULTS.md');
      writeFileSync(path, report);
    }
  });
});

const fmt = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : x.toExponential(1));

/** "pure" alone when it passes, else "**pure** (n el., cos) → decision-matched". */
function mark(pure: Comparison | undefined, matched: Comparison | undefined): string {
  if (!pure || !matched) return '—';
  if (pure.rel <= TOLERANCE) return fmt(pure.rel);
  return `**${fmt(pure.rel)}** (${pure.count} el., cos ${pure.cosine.toFixed(7)}) → ${fmt(matched.rel)}`;
}

function flipSummary(m: Manifest): string {
  const f = m.decisionsDiffering;
  if (f.length === 0) return '0';
  const n = (op: string) => f.filter((x) => x.op === op).length;
  return `${n('Relu')} + ${n('MaxPool')} (≤ ${Math.max(...f.map((x) => x.relDistance)).toExponential(1)})`;
}

function resultsMarkdown(index: Index, rows: readonly Row[]): string {
  const ort = JSON.parse(
    readFileSync(join(repoRoot, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8'),
  ).version;
  const order = new Map(index.models.map((m, i) => [m, i]));
  const sorted = [...rows].sort((a, b) => order.get(a.arch)! - order.get(b.arch)!);
  const lines = [
    '# Conformance against PyTorch (torchvision, random weights)',
    '',
    `Date: ${new Date().toISOString().slice(0, 10)}. PyTorch ${index.torch}, torchvision ${index.torchvision}, ` +
      `onnx ${index.onnx} (export, opset 14, float64 references); onnxruntime-node ${ort} (CPU EP, float32).`,
    '',
    'Every model but AlexNet is exported with dynamic batch, height and width (`dynamic_axes` {0: N,',
    '2: H, 3: W}), traced at 224×224 (Inception v3: 299×299) and checked at the size in the second table',
    '(256×320; Inception v3 320×384), so no check runs at a size the graph was traced at, and H ≠ W.',
    'AlexNet has a static H, W export at 232×248 (why: in the preparation notes below).',
    '',
    'Relative error max|Δ|/max|ref| of gradsight’s gradient of Σ_b ⟨seed_b, logits_b⟩ (batch 2, one-hot',
    `seed on a different class per row) against PyTorch float64 autograd. Pass: ≤ ${TOLERANCE.toExponential(0)} for every`,
    'gradient. "guided" replaces every ReLU and ReLU6 by Guided Backprop in both. "logits" and "values"',
    '(the default and mid activations) compare ORT float32 forward results with PyTorch float64. The',
    'gradient models are compiled for the input size (static shapes, as GradientRunner compiles per',
    'size); "symbolic" is the largest relative difference of the standard gradients of ONE gradient',
    'model compiled from the symbolic shapes alone (valid at any size) from those (must be ≤ 1e-5).',
    '',
    'A ReLU whose input lies within float32 rounding of its bound can be active in ORT and inactive in',
    'PyTorch (or the reverse), and a MaxPool window whose two largest values are that close can pick',
    'the other one; both gradients are then right for their own forward pass, and differ over that',
    'unit’s receptive field. The export therefore reads ORT’s decision at every ReLU-like node and',
    'MaxPool (in gradsight’s gradient model) and writes a second float64 reference that takes the same',
    'decisions ("decision-matched"). "flips" counts the units where the two forward passes decide',
    'differently, with the largest float64 distance to the other choice over max|x| of the tensor',
    '(|x − bound| for a ReLU, the gap between the two candidates for a MaxPool). Where a gradient exceeds',
    'the tolerance against the pure reference, the cell shows that error in bold (elements beyond the',
    'tolerance, cosine similarity) → the error against the decision-matched reference. The test',
    'asserts: every gradient ≤ 1e-4 against the decision-matched reference, and against the pure one',
    `when nothing flipped; every flip within ${FLIP_FACTOR}× the model’s forward error (largest of the`,
    '"logits" and "values" columns); ORT values within 1e-3 of the captured PyTorch activations.',
    '',
    '| model | logits | values (default / mid) | flips (ReLU + MaxPool) | default | mid | input | default guided | mid guided | input guided | symbolic |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...sorted.map((r) =>
      [
        r.arch,
        fmt(r.logits),
        `${fmt(r.values.default)} / ${fmt(r.values.mid)}`,
        flipSummary(r.manifest),
        ...['standard', 'guided'].flatMap((s) => KEYS.map((k) => mark(r.grads[s]?.[k], r.matched[s]?.[k]))),
        typeof r.symbolic === 'number' ? fmt(r.symbolic) : r.symbolic,
      ]
        .join(' | ')
        .replace(/^/, '| ')
        .replace(/$/, ' |'),
    ),
    '',
    'Layers (ONNX tensor names; "default" is gradsight’s `defaultLayer`, "mid" a module output near the',
    'middle of `candidateLayers`), and seconds to export + write references (Python) and to compile and',
    'run both rule sets (this test):',
    '',
    '| model | input | default layer | mid layer | classes | export s | refs s | test s |',
    '|---|---|---|---|---|---|---|---|',
    ...sorted.map(
      (r) =>
        `| ${r.arch} | ${r.manifest.inputShape.join('×')} | \`${r.manifest.tensors.default}\` | ` +
        `\`${r.manifest.tensors.mid}\` | ${r.manifest.classes.join(', ')} | ${r.manifest.seconds.export} | ` +
        `${r.manifest.seconds.references} | ${r.seconds.toFixed(1)} |`,
    ),
    '',
    'Preparation of the random nets (see conformance/export_models.py): ' +
      [...new Set(sorted.flatMap((r) => r.manifest.preparation))].join('; ') +
      '.',
    '',
    'Reproduce:',
    '',
    '```sh',
    'npm ci',
    'sudo conformance/setup.sh            # apt python3-torch python3-torchvision python3-onnx, then the export',
    '# or: /usr/bin/python3 conformance/export_models.py   (writes conformance/.cache/)',
    'node --import tsx --test test/conformance/torchvision.test.ts',
    '```',
    '',
  ];
  return lines.join('\n');
}
