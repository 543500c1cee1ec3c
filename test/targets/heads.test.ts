// The built-in target heads (softmax, log-softmax, sigmoid, cosine) on a small ReLU-free CNN: the
// gradient gradsight computes of ⟨one-hot, T⟩ w.r.t. the input, through the target graph (GradientRunner,
// as explain, grad and layers run it) and through the Explainer (Guided Backprop, which on a model
// without ReLUs is the plain input gradient), equals central finite differences of the same scalar
// computed here in float64 from the model's logits (the test's own forward pass and softmax). Then
// SmoothGrad: each noisy copy is differentiated exactly through the head, not linearised once at the
// clean input (the two are shown to differ on this model, so the test can fail).

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { Explainer } from '../../src/explain/explainer.ts';
import { GradientRunner } from '../../src/model/gradient-runner.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import {
  cosineHead,
  logSoftmaxHead,
  sigmoidHead,
  softmaxHead,
  type TargetHead,
  type TargetSpec,
} from '../../src/targets/index.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { relError } from '../helpers/grad-run.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { seededValues } from '../helpers/tiny-models.ts';

// ---- the model: input [N,3,4,4] → Conv 3×3 (pad 1, 4 channels) → Tanh → GAP → Gemm (5) → Softmax ----
const S = 4;
const C = 4;
const K = 5;
const CONV_W = seededValues(C * 3 * 9, 21).map((v) => v * 0.6);
const CONV_B = seededValues(C, 22).map((v) => v * 0.2);
const FC_W = seededValues(K * C, 23).map((v) => v * 4);
const FC_B = [0.1, -0.2, 0.3, 0, 0.2];

function tanhCnn(): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['batch', 3, S, S] }],
    outputs: [{ name: 'probs', shape: ['batch', K] }],
    initializers: [
      { name: 'conv.weight', dims: [C, 3, 3, 3], values: CONV_W },
      { name: 'conv.bias', dims: [C], values: CONV_B },
      { name: 'fc.weight', dims: [K, C], values: FC_W },
      { name: 'fc.bias', dims: [K], values: FC_B },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['input', 'conv.weight', 'conv.bias'],
        outputs: ['conv'],
        attrs: { pads: [1, 1, 1, 1] },
      },
      { op: 'Tanh', inputs: ['conv'], outputs: ['features'] },
      { op: 'GlobalAveragePool', inputs: ['features'], outputs: ['pooled'] },
      { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
      { op: 'Gemm', inputs: ['flat', 'fc.weight', 'fc.bias'], outputs: ['logits'], attrs: { transB: 1 } },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probs'], attrs: { axis: 1 } },
    ],
  });
}

// ---- the tests' own float64 arithmetic ----

/** The model's logits for one image [3, S, S], in float64. */
function logits64(x: ArrayLike<number>): number[] {
  const pooled = new Array<number>(C).fill(0);
  for (let o = 0; o < C; o++) {
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        let v = CONV_B[o]!;
        for (let c = 0; c < 3; c++)
          for (let di = -1; di <= 1; di++)
            for (let dj = -1; dj <= 1; dj++) {
              const ii = i + di;
              const jj = j + dj;
              if (ii < 0 || jj < 0 || ii >= S || jj >= S) continue;
              v += CONV_W[((o * 3 + c) * 3 + di + 1) * 3 + dj + 1]! * x[(c * S + ii) * S + jj]!;
            }
        pooled[o]! += Math.tanh(v) / (S * S);
      }
    }
  }
  return FC_B.map((b, k) => b + pooled.reduce((s, p, o) => s + FC_W[k * C + o]! * p, 0));
}

const softmax64 = (z: readonly number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const sigmoid64 = (z: readonly number[]) => z.map((v) => 1 / (1 + Math.exp(-v)));
function cosine64(z: readonly number[], r: readonly number[]): number[] {
  const dot = z.reduce((s, v, i) => s + v * r[i]!, 0);
  const norm = (a: readonly number[]) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
  return [dot / (norm(z) * norm(r))];
}

/** ∂f/∂x by central differences in float64 (f smooth: no ReLU anywhere). */
function finiteDiff(f: (x: Float64Array) => number, x: ArrayLike<number>, h = 1e-5): number[] {
  const p = Float64Array.from(x);
  return Array.from(p, (v, i) => {
    p[i] = v + h;
    const up = f(p);
    p[i] = v - h;
    const down = f(p);
    p[i] = v;
    return (up - down) / (2 * h);
  });
}

const REFERENCE = [0.5, -1, 0.25, 2, -0.75];
const HEADS: readonly {
  name: string;
  head: TargetHead;
  /** T as a function of the logits, in float64. */
  t: (z: readonly number[]) => number[];
  /** The target, as explain takes it, for class c (the cosine head has one element). */
  target: (c: number) => string | TargetSpec;
}[] = [
  { name: 'softmax', head: softmaxHead, t: softmax64, target: (c) => `prob:${c}` },
  {
    name: 'log-softmax',
    head: logSoftmaxHead,
    t: (z) => softmax64(z).map(Math.log),
    target: (c) => `logprob:${c}`,
  },
  { name: 'sigmoid', head: sigmoidHead, t: sigmoid64, target: (c) => `sigmoid:${c}` },
  {
    name: 'cosine',
    head: cosineHead(Float32Array.from(REFERENCE)),
    t: (z) => cosine64(z, REFERENCE),
    target: () => ({ kind: 'cosine', reference: Float32Array.from(REFERENCE) }),
  },
];

/** Two images: smooth values in [−1.5, 1.5). */
const IMAGES = [seededValues(48, 31).map((v) => v * 1.5), seededValues(48, 32).map((v) => v * 1.5)];
const batch = (images: readonly (readonly number[])[]): Float32Tensor => ({
  dtype: 'float32',
  dims: [images.length, 3, S, S],
  data: Float32Array.from(images.flat()),
});

let model: ImageModel;
let explainer: Explainer;
before(async () => {
  const bytes = tanhCnn();
  model = await ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });
  explainer = Explainer.fromModel(model);
});
after(async () => {
  await explainer.release();
});

describe('built-in heads: the input gradient of ⟨one-hot, T⟩ equals float64 finite differences', () => {
  test('the oracle is the model: float64 logits equal ONNX Runtime’s', async () => {
    const out = await model.runTensor(batch(IMAGES), 'logits');
    IMAGES.forEach((img, n) => {
      assert.ok(relError(out.data.subarray(n * K, (n + 1) * K), logits64(img)) < 1e-5, `image ${n}`);
    });
  });

  for (const h of HEADS) {
    test(`${h.name}: T from the target graph, and ∂T_c/∂input through GradientRunner and explain()`, async () => {
      const graph = await model.targetGraph('logits', h.head);
      assert.equal(graph.reads, 'logits');
      assert.notEqual(graph.explained, 'logits');
      const x = batch(IMAGES);
      const { x: xs, t } = await model.runTarget(graph, x);
      const tk = t.data.length / IMAGES.length;
      IMAGES.forEach((img, n) => {
        assert.ok(relError(xs.data.subarray(n * K, (n + 1) * K), logits64(img)) < 1e-5);
        assert.ok(
          relError(t.data.subarray(n * tk, (n + 1) * tk), h.t(logits64(img))) < 1e-5,
          `T of image ${n}`,
        );
      });

      // Class 1 for image 0, class 3 for image 1 (the cosine head has only T_0).
      const classes = tk === 1 ? [0, 0] : [1, 3];
      const runner = await GradientRunner.create(
        model,
        { wrt: ['input'], explained: graph.explained, beforeSoftmax: false },
        undefined,
        graph,
      );
      try {
        const seed = new Float32Array(IMAGES.length * tk);
        classes.forEach((c, n) => {
          seed[n * tk + c] = 1;
        });
        const r = await runner.run(x, { dtype: 'float32', dims: runner.seedDims(IMAGES.length), data: seed });
        for (const [n, img] of IMAGES.entries()) {
          const fd = finiteDiff((p) => h.t(logits64(p))[classes[n]!]!, img);
          const got = r.grads.input!.data.subarray(n * 48, (n + 1) * 48);
          const e = relError(got, fd);
          assert.ok(e < 1e-5, `${h.name} image ${n} class ${classes[n]}: rel. error ${e}`);
          assert.ok(Math.max(...fd.map(Math.abs)) > 1e-3, 'a gradient worth checking');
        }
      } finally {
        await runner.release();
      }

      // The same through explain(): Guided Backprop is the plain input gradient here (no ReLU).
      for (const [n, img] of IMAGES.entries()) {
        const c = classes[n]!;
        const res = await explainer.explain(batch([img]), { method: 'guided-backprop', target: h.target(c) });
        assert.equal(res.explanations.length, 1);
        const e = res.explanations[0]!;
        assert.equal(e.target.tensor, graph.explained, 'the head’s output is differentiated');
        assert.ok(Math.abs(e.target.score - h.t(logits64(img))[c]!) < 1e-5, `score ${e.target.score}`);
        const fd = finiteDiff((p) => h.t(logits64(p))[c]!, img);
        assert.ok(relError(e.pixels!, fd) < 1e-5, `${h.name} via explain, image ${n}`);
      }
    });
  }

  test('the heads are not the identity: ∂p_c differs from ∂y_c (the old linear target)', async () => {
    const img = IMAGES[0]!;
    const fdLogit = finiteDiff((p) => logits64(p)[1]!, img);
    const fdProb = finiteDiff((p) => softmax64(logits64(p))[1]!, img);
    const res = await explainer.explain(batch([img]), { method: 'guided-backprop', target: 'prob:1' });
    assert.ok(relError(res.explanations[0]!.pixels!, fdProb) < 1e-5);
    assert.ok(relError(fdLogit, fdProb) > 0.5, 'the check would catch a missing head');
  });
});

describe('SmoothGrad through a head: each noisy copy differentiated exactly', () => {
  /** Records the inputs fed to GradientRunner.run (the noisy copies). */
  let restore = () => {};
  afterEach(() => restore());
  function spyInputs(): Float32Tensor[] {
    const run = GradientRunner.prototype.run;
    const inputs: Float32Tensor[] = [];
    GradientRunner.prototype.run = function (this: GradientRunner, input, seed, extra) {
      inputs.push({ ...input, data: input.data.slice() });
      return run.call(this, input, seed, extra);
    };
    restore = () => {
      GradientRunner.prototype.run = run;
    };
    return inputs;
  }

  test('prob:c with smooth {samples: 3, noise: 0.1}: the mean of the exact gradients at the copies', async () => {
    const img = IMAGES[0]!;
    const c = 2;
    const spy = spyInputs();
    const res = await explainer.explain(batch([img]), {
      method: 'guided-backprop',
      target: `prob:${c}`,
      smooth: { samples: 3, noise: 0.1 },
    });
    restore();
    assert.equal(spy.length, 1, 'one gradient run for the three copies');
    const noisy = spy[0]!;
    assert.deepEqual(noisy.dims, [3, 3, S, S]);
    const copies = [0, 1, 2].map((s) => Array.from(noisy.data.subarray(s * 48, (s + 1) * 48)));
    // σ = 0.1 × the image's range: the copies really are noisy.
    copies.forEach((cp) => {
      assert.ok(relError(cp, img) > 0.02);
    });

    const p = (x: ArrayLike<number>) => softmax64(logits64(x))[c]!;
    const mean = (vs: readonly number[][]) =>
      vs[0]!.map((_, i) => vs.reduce((s, v) => s + v[i]!, 0) / vs.length);
    const exact = mean(copies.map((cp) => finiteDiff(p, cp)));

    // What a seed linearised once at the clean input would give: ∂p_c/∂y at the clean input, pushed
    // through each copy's logit Jacobian.
    const clean = softmax64(logits64(img));
    const linSeed = clean.map((pk, k) => clean[c]! * ((k === c ? 1 : 0) - pk));
    const linearised = mean(
      copies.map((cp) => finiteDiff((x) => logits64(x).reduce((s, y, k) => s + linSeed[k]! * y, 0), cp)),
    );

    const got = res.explanations[0]!.pixels!;
    const eExact = relError(got, exact);
    const eLin = relError(got, linearised);
    assert.ok(eExact < 1e-5, `vs the exact per-copy gradients: ${eExact}`);
    assert.ok(relError(linearised, exact) > 0.05, `the two oracles differ: ${relError(linearised, exact)}`);
    assert.ok(eLin > 0.05, `not the clean-input linearisation: ${eLin}`);
  });
});
