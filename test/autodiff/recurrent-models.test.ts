// End to end through recurrent exports: tiny torch models shaped like the demo's language models
// (conformance/recurrent_models.py): CNN + LSTM, CNN + two-layer GRU and CNN + two-layer
// bidirectional GRU captioners whose image initialises the recurrent state, and a CNN + bidirectional
// GRU question encoder, exported by torch 1.13 with dynamic batch and sequence axes. The gradient of
// one token's (or answer's) logit with respect to the image and to the last conv ReLU must equal
// float64 PyTorch autograd: one row per image; with repeatRows three rows (three words) of one
// image; with profile 'web' (and no op a WebGPU backend lacks). A sequence length left symbolic is a
// typed error when the recurrent node is on the image's path, and no concern when it is not (VQA).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compileGradients } from '../../src/autodiff/index.ts';
import { isGradsightError } from '../../src/errors.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { repoRoot } from '../helpers/shared.ts';

interface Reference {
  readonly picks: readonly (readonly number[])[];
  readonly image: readonly number[];
  readonly layer: readonly number[];
}
interface Fixture {
  readonly model: string;
  readonly inputs: readonly [string, string];
  readonly ops: readonly string[];
  readonly recurrentOnPath: boolean;
  readonly layer: string;
  readonly image: readonly number[];
  readonly imageShape: readonly number[];
  readonly tokens: readonly number[];
  readonly tokenShape: readonly number[];
  readonly logits: readonly number[];
  readonly logitShape: readonly number[];
  readonly rows: Reference;
  readonly repeat: Reference;
}

const dir = join(repoRoot, 'test', 'autodiff', 'fixtures');
const fixtures = JSON.parse(readFileSync(join(dir, 'recurrent-models.json'), 'utf8')) as Record<
  string,
  Fixture
>;

/** max|a − b| / max|b|. */
function relErr(a: ArrayLike<number>, b: readonly number[]): number {
  assert.equal(a.length, b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  assert.ok(den > 0, 'the reference gradient is not all zero');
  return num / den;
}

/** Rows of the image / token inputs of the given images. */
function feeds(f: Fixture, images: readonly number[]): Record<string, Tensor> {
  const [imageName, tokenName] = f.inputs;
  const per = f.imageShape.slice(1).reduce((a, b) => a * b, 1);
  const len = f.tokenShape[1]!;
  return {
    [imageName]: {
      dtype: 'float32',
      dims: [images.length, ...f.imageShape.slice(1)],
      data: Float32Array.from(images.flatMap((b) => f.image.slice(b * per, (b + 1) * per))),
    },
    [tokenName]: {
      dtype: 'int64',
      dims: [images.length, len],
      data: BigInt64Array.from(
        images.flatMap((b) => f.tokens.slice(b * len, (b + 1) * len)),
        BigInt,
      ),
    },
  };
}

/** One-hot seed rows over the logits [rows, ...logitShape[1:]] at each pick (after the image index). */
function seed(f: Fixture, picks: readonly (readonly number[])[]): Tensor {
  const dims = f.logitShape.slice(1);
  const per = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(picks.length * per);
  picks.forEach(([, ...at], r) => {
    let k = 0;
    at.forEach((v, i) => {
      k = k * dims[i]! + v;
    });
    data[r * per + k] = 1;
  });
  return { dtype: 'float32', dims: [picks.length, ...dims], data };
}

/** Ops some WebGPU backend lacks (docs/autodiff.md, Profiles). */
const NOT_ON_WEBGPU = ['Sum', 'And', 'Or', 'Max', 'Min', 'ScatterElements', 'ScatterND', 'LogSoftmax'];

async function gradients(f: Fixture, ref: Reference, repeatRows: boolean, profile: 'cpu' | 'web' = 'cpu') {
  const bytes = new Uint8Array(readFileSync(join(dir, f.model)));
  const [imageName, tokenName] = f.inputs;
  const compiled = compileGradients(bytes, decodeModel(bytes), {
    wrt: [imageName, f.layer],
    explained: 'logits',
    beforeSoftmax: false,
    repeatRows,
    profile,
    // The sequence length must be static to unroll the recurrence; the batch stays symbolic.
    inputShapes: { [imageName]: ['N', ...f.imageShape.slice(1)], [tokenName]: ['N', f.tokenShape[1]!] },
  });
  const images = repeatRows ? [ref.picks[0]![0]!] : ref.picks.map((p) => p[0]!);
  const s = await nodeRuntime.createSession(compiled.bytes, { threads: 1 });
  try {
    const out = await s.run({ ...feeds(f, images), [compiled.seed.name]: seed(f, ref.picks) });
    const grad = (t: string) => out[compiled.outputs.find((o) => o.tensor === t)!.grad]!.data as Float32Array;
    const ops = decodeModel(compiled.bytes)
      .graph.nodes.filter((n) => n.name.startsWith('gradsight/'))
      .map((n) => n.opType);
    return {
      image: grad(imageName),
      layer: grad(f.layer),
      logits: out[compiled.explainedOutput]!.data,
      ops: new Set(ops),
    };
  } finally {
    await s.release();
  }
}

for (const [name, f] of Object.entries(fixtures)) {
  describe(`${name} (torch export: ${f.ops.join(', ')})`, () => {
    it('one logit per image: d/d image and d/d the last conv ReLU equal float64 PyTorch', async (t) => {
      const got = await gradients(f, f.rows, false);
      assert.ok(relErr(got.logits as Float32Array, f.logits) < 1e-5, 'forward logits');
      const eImage = relErr(got.image, f.rows.image);
      const eLayer = relErr(got.layer, f.rows.layer);
      t.diagnostic(
        `max rel err vs PyTorch: image ${eImage.toExponential(2)}, layer ${eLayer.toExponential(2)}`,
      );
      assert.ok(eImage < 1e-4 && eLayer < 1e-4, `rel err image ${eImage}, layer ${eLayer}`);
    });

    it('three words of one image in one run (repeatRows) equal float64 PyTorch', async (t) => {
      const got = await gradients(f, f.repeat, true);
      const eImage = relErr(got.image, f.repeat.image);
      const eLayer = relErr(got.layer, f.repeat.layer);
      t.diagnostic(
        `max rel err vs PyTorch: image ${eImage.toExponential(2)}, layer ${eLayer.toExponential(2)}`,
      );
      assert.ok(eImage < 1e-4 && eLayer < 1e-4, `rel err image ${eImage}, layer ${eLayer}`);
    });

    it("profile 'web': the same gradients, with no op a WebGPU backend lacks", async () => {
      const got = await gradients(f, f.rows, false, 'web');
      const missing = NOT_ON_WEBGPU.filter((op) => got.ops.has(op));
      assert.deepEqual(missing, []);
      assert.ok(relErr(got.image, f.rows.image) < 1e-4 && relErr(got.layer, f.rows.layer) < 1e-4);
    });

    const symbolic = () => {
      const bytes = new Uint8Array(readFileSync(join(dir, f.model)));
      return compileGradients(bytes, decodeModel(bytes), {
        wrt: [f.inputs[0]],
        explained: 'logits',
        inputShapes: { [f.inputs[0]]: ['N', ...f.imageShape.slice(1)] },
      });
    };
    if (f.recurrentOnPath) {
      it('a symbolic sequence length is a typed error naming the recurrent node', () => {
        assert.throws(
          symbolic,
          (e: unknown) =>
            isGradsightError(e, 'unsupported-op') &&
            /sequence length/.test(e.message) &&
            /(LSTM|GRU) node/.test(e.message),
        );
      });
    } else {
      it('the question encoder is off the image path: nothing is unrolled, any sequence length', () => {
        const compiled = symbolic();
        assert.ok(!decodeModel(compiled.bytes).graph.nodes.some((n) => n.name.includes('/lower/')));
      });
    }
  });
}
