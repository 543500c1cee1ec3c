// The gradient CAMs on tiny hand-weighted models, against maps computed by hand:
// - a GAP + linear head, where ∂y_c/∂A_k,ij = W[c,k]/16 exactly, on the "blocks" image (expected maps
//   written out as numbers);
// - a Flatten + Gemm head, where the gradient varies over space and the features can be negative, so
//   Grad-CAM, HiResCAM, element-wise Grad-CAM, Grad-CAM++, XGrad-CAM and LayerCAM all differ (expected
//   maps from the papers' formulas, a few lines of float64 arithmetic here).
// Input size = feature size and normalize 'none', so the final map is ReLU(raw map) with no resize.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Explainer, ExplainResult } from '../../src/explain/explainer.ts';
import type { MethodId } from '../../src/methods/types.ts';
import {
  assertClose,
  BLOCK_FC,
  BLOCK_IMAGE,
  DENSE_FC,
  DENSE_IMAGE,
  denseModel,
  explainerFor,
  gapModel,
  inputTensor,
  mapOf,
  maxAbsDiff,
  mean,
  relu,
  sum,
  weighted,
} from '../helpers/hand-models.ts';

const GRADIENT_METHODS: MethodId[] = [
  'gradcam',
  'hirescam',
  'gradcam-elementwise',
  'gradcam++',
  'xgradcam',
  'layercam',
];

describe('gradient CAMs on a GAP + linear head (maps by hand)', () => {
  let ex: Explainer;
  let none: ExplainResult;
  let scaled: ExplainResult;
  before(async () => {
    ex = await explainerFor(gapModel({ fc: BLOCK_FC, size: 4 }));
    const x = inputTensor([BLOCK_IMAGE], 4);
    const common = { method: GRADIENT_METHODS, target: ['0', '1'], layers: ['features'] } as const;
    none = await ex.explain(x, { ...common, normalize: 'none' });
    scaled = await ex.explain(x, { ...common, normalize: 'per-image' });
  });
  after(() => ex.release());

  // Class 0, g = [1, 2, −1]/16: (0,0) = (4 − 2)/16, rest of the top-left block 4/16, top-right 2/16,
  // bottom −8/16 → 0 after the ReLU.
  const gradcam0 = [0.125, 0.25, 0.125, 0.125, 0.25, 0.25, 0.125, 0.125, 0, 0, 0, 0, 0, 0, 0, 0];
  // Class 1, g = [−1, 0.5, 2]/16: (0,0) = (−4 + 4)/16, top-left −0.25 → 0, top-right 0.5/16, bottom 1.
  const gradcam1 = [0, 0, 0.03125, 0.03125, 0, 0, 0.03125, 0.03125, 1, 1, 1, 1, 1, 1, 1, 1];

  test('Grad-CAM: ReLU(Σ_k mean(g_k)·A_k)', () => {
    assertClose(mapOf(none, 'gradcam', 0), gradcam0, 1e-7, 'class 0');
    assertClose(mapOf(none, 'gradcam', 1), gradcam1, 1e-7, 'class 1');
  });

  test('Grad-CAM per-image: (x − min)/(max − min + 1e-7), twice (feature map, then fused map)', () => {
    const once = gradcam0.map((v) => v / (0.25 + 1e-7));
    const twice = once.map((v) => v / (Math.max(...once) + 1e-7));
    assertClose(mapOf(scaled, 'gradcam', 0), twice, 1e-7, 'class 0');
    const once1 = gradcam1.map((v) => v / (1 + 1e-7));
    assertClose(
      mapOf(scaled, 'gradcam', 1),
      once1.map((v) => v / (Math.max(...once1) + 1e-7)),
      1e-7,
      'class 1',
    );
  });

  test('HiResCAM equals Grad-CAM when the gradient is constant over space', () => {
    assertClose(mapOf(none, 'hirescam', 0), gradcam0, 1e-7, 'class 0');
    assertClose(mapOf(none, 'hirescam', 1), gradcam1, 1e-7, 'class 1');
  });

  test('element-wise Grad-CAM and LayerCAM drop the negative term at (0,0): 4/16, not 2/16', () => {
    const want0 = [0.25, 0.25, 0.125, 0.125, 0.25, 0.25, 0.125, 0.125, 0, 0, 0, 0, 0, 0, 0, 0];
    // Class 1: (0,0) keeps 2·2/16 = 0.25, the top-left block drops −4/16.
    const want1 = [0.25, 0, 0.03125, 0.03125, 0, 0, 0.03125, 0.03125, 1, 1, 1, 1, 1, 1, 1, 1];
    for (const m of ['gradcam-elementwise', 'layercam'] as const) {
      assertClose(mapOf(none, m, 0), want0, 1e-7, `${m} class 0`);
      assertClose(mapOf(none, m, 1), want1, 1e-7, `${m} class 1`);
    }
  });

  test('XGrad-CAM: w_k = Σ g·A/(Σ A + 1e-7) = g·S/(S + 1e-7)', () => {
    // S = [16 + 2... per channel]: S0 = 16, S1 = 4, S2 = 2 + 64 = 66.
    const s = [16, 4, 66];
    const a = BLOCK_IMAGE.map(relu);
    for (const c of [0, 1]) {
      const w = BLOCK_FC[c]!.map((wk, k) => ((wk / 16) * s[k]!) / (s[k]! + 1e-7));
      assertClose(mapOf(none, 'xgradcam', c), relu(weighted(a, w)), 1e-7, `class ${c}`);
    }
  });

  test('Grad-CAM++: α = g²/(2g² + Σ_ij A · g³ + 1e-6), w_k = Σ_ij ReLU(g)·α', () => {
    // Class 0: g = 1/16 on channel 0 (S = 16), 1/8 on channel 1 (S = 4), −1/16 on channel 2 (ReLU → 0).
    const alpha0 = 1 / 256 / (2 / 256 + 16 / 4096 + 1e-6);
    const alpha1 = 1 / 64 / (2 / 64 + 4 / 512 + 1e-6);
    const w0 = 16 * (1 / 16) * alpha0;
    const w1 = 16 * (1 / 8) * alpha1;
    const want0 = [4 * w0, 4 * w0, w1, w1, 4 * w0, 4 * w0, w1, w1, 0, 0, 0, 0, 0, 0, 0, 0];
    assertClose(mapOf(none, 'gradcam++', 0), want0, 1e-6, 'class 0');
    // Without the 1e-6 the weights would be 1/3 and 0.4; check the ε is the one used.
    assert.ok(Math.abs(mapOf(none, 'gradcam++', 0)[0]! - 4 / 3) > 1e-4);
    // Class 1: g = 1/32 on channel 1 (S = 4), 1/8 on channel 2 (S = 66), channel 0 negative.
    const b1 = 1 / 1024 / (2 / 1024 + 4 / 32768 + 1e-6);
    const b2 = 1 / 64 / (2 / 64 + 66 / 512 + 1e-6);
    const a = BLOCK_IMAGE.map(relu);
    assertClose(
      mapOf(none, 'gradcam++', 1),
      relu(weighted(a, [0, (16 * b1) / 32, (16 * b2) / 8])),
      1e-6,
      'class 1',
    );
  });
});

const SIZE = 3;
const HW = SIZE * SIZE;
const WD = DENSE_FC;
const XD = DENSE_IMAGE;
/** ∂y_c/∂A_k as a [3][9] array. */
const grad = (c: number) => [0, 1, 2].map((k) => WD[c]!.slice(k * HW, (k + 1) * HW));

/** Each method's raw map from A = XD and G = grad(c), as the papers write them. */
const FORMULAS: Record<string, (g: number[][], a: number[][]) => number[]> = {
  gradcam: (g, a) => weighted(a, g.map(mean)),
  hirescam: (g, a) => a[0]!.map((_, p) => sum(a.map((ak, k) => g[k]![p]! * ak[p]!))),
  'gradcam-elementwise': (g, a) =>
    a[0]!.map((_, p) => sum(a.map((ak, k) => Math.max(g[k]![p]! * ak[p]!, 0)))),
  'gradcam++': (g, a) =>
    weighted(
      a,
      g.map((gk, k) => {
        const s = sum(a[k]!);
        return sum(gk.map((v) => (v === 0 ? 0 : (Math.max(v, 0) * v * v) / (2 * v * v + s * v ** 3 + 1e-6))));
      }),
    ),
  xgradcam: (g, a) =>
    weighted(
      a,
      g.map((gk, k) => sum(gk.map((v, p) => v * a[k]![p]!)) / (sum(a[k]!) + 1e-7)),
    ),
  layercam: (g, a) => a[0]!.map((_, p) => sum(a.map((ak, k) => Math.max(g[k]![p]!, 0) * ak[p]!))),
};

describe('gradient CAMs on a Flatten + Gemm head (spatially varying gradient, signed features)', () => {
  let ex: Explainer;
  let none: ExplainResult;
  before(async () => {
    ex = await explainerFor(denseModel(WD, SIZE));
    none = await ex.explain(inputTensor([XD], SIZE), {
      method: GRADIENT_METHODS,
      target: ['0', '1', '2', '3'],
      layers: ['features'],
      normalize: 'none',
    });
  });
  after(() => ex.release());

  for (const m of GRADIENT_METHODS) {
    test(`${m}: every class against the formula`, () => {
      for (let c = 0; c < 4; c++) {
        const want = relu(FORMULAS[m]!(grad(c), XD));
        assert.ok(Math.max(...want) > 0, 'a non-trivial case');
        assertClose(mapOf(none, m, c), want, 1e-6 * Math.max(...want), `${m} class ${c}`);
      }
    });
  }

  test('the six methods give six different maps here', () => {
    const maps = GRADIENT_METHODS.map((m) => [...mapOf(none, m, 2)]);
    for (let i = 0; i < maps.length; i++)
      for (let j = i + 1; j < maps.length; j++)
        assert.ok(maxAbsDiff(maps[i]!, maps[j]!) > 1e-3, `${GRADIENT_METHODS[i]} vs ${GRADIENT_METHODS[j]}`);
  });
});
