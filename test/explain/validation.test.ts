// The library's public options are checked the way the CLI checks its flags: every misuse is a typed
// GradsightError with a hint (never a TypeError, a RangeError or a silently wrong answer), a class
// index may be given as a number, and release() may be called twice.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ErrorCode, GradsightError } from '../../src/errors.ts';
import type { Explainer, ExplainOptions } from '../../src/explain/explainer.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import {
  BLOCK_IMAGE,
  explainerFor,
  gapModel,
  inputTensor,
  mapOf,
  maxAbsDiff,
} from '../helpers/hand-models.ts';

const FC = [
  [1, 2, 0.5],
  [0.5, 1, 1],
  [-1, 0.5, 2],
];
const x = inputTensor([BLOCK_IMAGE], 4);
const image = { width: 4, height: 4, data: new Uint8Array(48).map((_, i) => (i * 37) % 256) };

let ex: Explainer;
before(async () => {
  ex = await explainerFor(gapModel({ fc: FC, size: 4 }));
});
after(() => ex.release());

/** Asserts that `p` rejects with a GradsightError of `code` that has a hint. */
async function rejectsWith(p: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof GradsightError, `expected a GradsightError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.hint && e.hint.length > 0, `no hint on: ${e.message}`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

const explain = (o: unknown, input: unknown = x) => ex.explain(input as Float32Tensor, o as ExplainOptions);

describe('a class index as a number', () => {
  test('target: 2 explains class 2, as the string "2" does', async () => {
    const byNumber = await explain({ target: 2 });
    const byString = await explain({ target: '2' });
    assert.equal(byNumber.explanations.length, 1);
    assert.equal(byNumber.explanations[0]!.target.index, 2);
    assert.equal(maxAbsDiff(mapOf(byNumber, 'gradcam'), mapOf(byString, 'gradcam')), 0);
  });

  test('numbers in a list of targets', async () => {
    const r = await explain({ target: [0, 2] });
    assert.deepEqual(
      r.explanations.map((e) => e.target.index),
      [0, 2],
    );
  });

  for (const bad of [-1, 3, 1.5, Number.NaN]) {
    test(`target: ${bad} is a bad-argument`, () => rejectsWith(explain({ target: bad }), 'bad-argument'));
  }
});

describe('smooth', () => {
  for (const samples of [0, -2, 1.5, Number.NaN, 1e6, '3']) {
    test(`samples ${String(samples)} is a bad-argument`, () =>
      rejectsWith(explain({ smooth: { samples, noise: 0.1 } }), 'bad-argument', /samples/));
  }
  for (const noise of [-0.1, Number.POSITIVE_INFINITY, 'x']) {
    test(`noise ${String(noise)} is a bad-argument`, () =>
      rejectsWith(explain({ smooth: { samples: 2, noise } }), 'bad-argument', /noise/));
  }
  test('a smooth that is not an object', () => rejectsWith(explain({ smooth: 3 }), 'bad-argument'));
  test('1000 samples is the bound; 1 sample with noise is the plain map', async () => {
    const plain = await explain({});
    const one = await explain({ smooth: { samples: 1, noise: 0.5 } });
    assert.equal(maxAbsDiff(mapOf(plain, 'gradcam'), mapOf(one, 'gradcam')), 0);
    await rejectsWith(explain({ smooth: { samples: 1001, noise: 0.1 } }), 'bad-argument', /1000/);
  });
});

test('SmoothGrad copies beyond 1 GiB are refused before they are allocated', async () => {
  // 30 images of 3×64×64 floats × 1000 samples = 1.4 GiB of noisy inputs.
  const big = await explainerFor(gapModel({ fc: FC, size: 64 }));
  try {
    const n = 30;
    const t = {
      dtype: 'float32' as const,
      dims: [n, 3, 64, 64],
      data: new Float32Array(n * 3 * 64 * 64).fill(0.5),
    };
    await rejectsWith(big.explain(t, { smooth: { samples: 1000, noise: 0.1 } }), 'bad-argument', /1406 MiB/);
    const ok = await big.explain(t, { smooth: { samples: 2, noise: 0.1 } });
    assert.equal(ok.explanations.length, n);
  } finally {
    await big.release();
  }
});

describe('other options', () => {
  const cases: [string, unknown][] = [
    ['normalize', { normalize: 'bogus' }],
    ['method', { method: 42 }],
    ['method list', { method: ['gradcam', 'nope'] }],
    ['layers as a string', { layers: 'features' }],
    ['layers with a number', { layers: [3] }],
    ['rule', { rule: 'bogus' }],
    ['counterfactual', { counterfactual: 'yes' }],
    ['batchSize', { batchSize: 0 }],
    ['batchSize fractional', { batchSize: 2.5 }],
    ['memoryBudget', { memoryBudget: -1 }],
    ['targetOutput', { targetOutput: 7 }],
    ['layerLayout', { layerLayout: 'diagonal' }],
    ['target object', { target: { kind: 'nope' } }],
    ['target null', { target: null }],
    ['maxTargets', { maxTargets: 0 }],
    ['options not an object', 'gradcam'],
    ['an empty target list', { target: [] }],
    ['feeds not an object', { feeds: 3 }],
    ['layerLayout object of another kind', { layerLayout: { kind: 'weird' } }],
    ['layerLayout tokens with a fractional skip', { layerLayout: { kind: 'tokens', skip: 0.5 } }],
    ['target spec top with k 0', { target: { kind: 'top', k: 0 } }],
    ['target spec top with k 1.5', { target: { kind: 'top', k: 1.5 } }],
    ['target spec cosine without a reference array', { target: { kind: 'cosine', reference: 5 } }],
    ['target spec with counterfactual "yes"', { target: { kind: 'predicted', counterfactual: 'yes' } }],
    ['a Target whose rows() returns null', { target: { rows: () => null } }],
    ['a Target whose rows have no seed', { target: { rows: () => [{ index: 0, label: 'a' }] } }],
  ];
  for (const [name, o] of cases) {
    test(`${name}: bad-argument`, () => rejectsWith(explain(o), 'bad-argument'));
  }
});

test('a seed spec given as an array of numbers equals the Float32Array one', async () => {
  const a = await explain({ target: { kind: 'seed', seed: [1, -1, 0] } });
  const b = await explain({ target: { kind: 'seed', seed: Float32Array.of(1, -1, 0) } });
  assert.equal(maxAbsDiff(mapOf(a, 'gradcam'), mapOf(b, 'gradcam')), 0);
  assert.ok(mapOf(a, 'gradcam').some((v) => v > 0));
});

describe('inputs', () => {
  test('an empty list of images', () => rejectsWith(explain({}, []), 'bad-argument', /no image/));
  test('a 0×0 image', () =>
    rejectsWith(explain({}, { width: 0, height: 0, data: new Uint8Array(0) }), 'bad-image', /0×0/));
  test('a 10×10 image with 5 bytes', () =>
    rejectsWith(
      explain({}, [image, { width: 10, height: 10, data: new Uint8Array(5) }]),
      'bad-image',
      /300/,
    ));
  test('an image with a fractional width', () =>
    rejectsWith(explain({}, { width: 2.5, height: 4, data: new Uint8Array(30) }), 'bad-image'));
  test('an alpha plane of the wrong size', () =>
    rejectsWith(explain({}, { ...image, alpha: new Uint8Array(3) }), 'bad-image', /alpha/));
  test('data that is not bytes', () =>
    rejectsWith(explain({}, { width: 4, height: 4, data: new Array(48).fill(0) }), 'bad-image'));
  test('a tensor whose data does not match its dims', () =>
    rejectsWith(
      explain({}, { dtype: 'float32', dims: [1, 3, 4, 4], data: new Float32Array(5) }),
      'shape-mismatch',
    ));
  test('a tensor with a negative or fractional dim', () =>
    rejectsWith(
      explain({}, { dtype: 'float32', dims: [1, 3, -4, -4], data: new Float32Array(48) }),
      'bad-argument',
    ));
  test('a tensor whose data is not float32', () =>
    rejectsWith(
      explain({}, { dtype: 'float32', dims: [1, 3, 4, 4], data: new Float64Array(48) }),
      'bad-argument',
    ));
  test('a tensor of another rank than the model input', () =>
    rejectsWith(
      explain({}, { dtype: 'float32', dims: [3, 4, 4], data: new Float32Array(48) }),
      'shape-mismatch',
    ));
  test('a valid image still explains', async () => {
    const r = await explain({}, image);
    assert.equal(r.explanations.length, 1);
  });
});

describe('release', () => {
  test('twice is idempotent; explain after it is a typed error', async () => {
    const bytes = gapModel({ fc: FC, size: 4 });
    const model = await ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });
    const own = await explainerFor(bytes);
    await own.explain(x);
    await own.release();
    await own.release();
    await rejectsWith(own.explain(x), 'bad-argument', /released/);
    await model.release();
    await model.release();
    await rejectsWith(model.predict(x), 'bad-argument', /released/);
  });
});

describe('preprocessing options', () => {
  const open = (preprocess: unknown) => {
    const bytes = gapModel({ fc: FC, size: 4 });
    return ImageModel.create(
      nodeRuntime,
      { bytes, model: decodeModel(bytes) },
      { preprocess: preprocess as Record<string, never> },
    );
  };
  test('an unknown key (normalize) is a bad-argument naming it', () =>
    rejectsWith(open({ normalize: 'bogus' }), 'bad-argument', /normalize/));
  for (const [name, o] of [
    ['threads 0', { threads: 0 }],
    ['threads 1.5', { threads: 1.5 }],
    ['output as a number', { output: 3 }],
    ['imageInput as an object', { imageInput: {} }],
  ] as const) {
    test(`model option ${name}: bad-argument`, () => {
      const bytes = gapModel({ fc: FC, size: 4 });
      return rejectsWith(
        ImageModel.create(
          nodeRuntime,
          { bytes, model: decodeModel(bytes) },
          o as unknown as Record<string, never>,
        ),
        'bad-argument',
      );
    });
  }
  test('in preprocess.json, "normalize" is a bad-preprocess (mean/std are the keys)', async () => {
    const bytes = gapModel({ fc: FC, size: 4 });
    await rejectsWith(
      ImageModel.create(nodeRuntime, {
        bytes,
        model: decodeModel(bytes),
        preprocessFile: { normalize: 'bogus' },
        preprocessSource: 'preprocess.json',
      }),
      'bad-preprocess',
      /normalize/,
    );
  });
});
