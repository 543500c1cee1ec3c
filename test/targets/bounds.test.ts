// Bounds on what one explain() call may ask for: top:K above the class count is a typed error (it
// silently made one map per class), the explained rows per image are capped (default 100, raised with
// `maxTargets`), and the model input is at most 16 MP unless `maxInputPixels` raises it (a model with
// free height and width at --size 20000x20000 exhausted memory).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ErrorCode, GradsightError } from '../../src/errors.ts';
import type { Explainer } from '../../src/explain/explainer.ts';
import { Explainer as ExplainerClass } from '../../src/explain/explainer.ts';
import { DEFAULT_MAX_TARGETS } from '../../src/explain/validate-options.ts';
import { ImageModel, type ImageModelOptions } from '../../src/model/image-model.ts';
import { DEFAULT_MAX_INPUT_PIXELS } from '../../src/model/input-pixels.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { BLOCK_IMAGE, explainerFor, gapModel, inputTensor } from '../helpers/hand-models.ts';
import { dynamicCnn, seededValues } from '../helpers/tiny-models.ts';

const x = inputTensor([BLOCK_IMAGE], 4);
/** 3 input channels → K classes with distinct seeded weights (no ties among the scores). */
const fcOf = (k: number) => Array.from({ length: k }, (_, c) => seededValues(3, 100 + c));

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, message: RegExp, hint?: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof GradsightError, `expected a GradsightError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    if (hint) assert.match(e.hint ?? '', hint);
    return true;
  });
}

describe('targets per image', () => {
  let small: Explainer;
  let wide: Explainer;
  before(async () => {
    small = await explainerFor(gapModel({ fc: fcOf(3), size: 4 }));
    wide = await explainerFor(gapModel({ fc: fcOf(150), size: 4 }));
  });
  after(async () => {
    await small.release();
    await wide.release();
  });

  test('top:K above the class count is a bad-argument naming the count', async () => {
    await rejectsWith(small.explain(x, { target: 'top:4' }), 'bad-argument', /top:4.*\(3\)/, /1 to 3/);
    await rejectsWith(small.explain(x, { target: 'top:99999' }), 'bad-argument', /3/);
    // Also where the rows are chosen after a forward run (SmoothGrad copies) and for the counterfactual.
    await rejectsWith(
      small.explain(x, { target: 'top:4', smooth: { samples: 2, noise: 0 } }),
      'bad-argument',
      /top:4/,
    );
    await rejectsWith(small.explain(x, { target: 'cf:top:5' }), 'bad-argument', /top:5/);
  });

  test('top:K equal to the class count explains every class, best first', async () => {
    const r = await small.explain(x, { target: 'top:3' });
    const scores = r.explanations.map((e) => e.target.score);
    assert.deepEqual(r.explanations.map((e) => e.target.index).sort(), [0, 1, 2]);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
    );
  });

  test(`more than ${DEFAULT_MAX_TARGETS} rows per image needs maxTargets`, async () => {
    assert.equal(DEFAULT_MAX_TARGETS, 100);
    await rejectsWith(
      wide.explain(x, { target: 'top:101' }),
      'bad-argument',
      /101 .*limit of 100/,
      /--max-targets 101 \(library: maxTargets: 101\)/,
    );
    const r = await wide.explain(x, { target: 'top:101', maxTargets: 101 });
    assert.equal(r.explanations.length, 101);
    const ok = await wide.explain(x, { target: 'top:100' });
    assert.equal(ok.explanations.length, 100);
  });

  test('the cap counts every target of an image, across target kinds', async () => {
    await rejectsWith(
      small.explain(x, { target: [0, 1, 2], maxTargets: 2 }),
      'bad-argument',
      /3 .*limit of 2/,
    );
    await rejectsWith(
      small.explain(x, { target: ['top:2', 'prob:1'], maxTargets: 2 }),
      'bad-argument',
      /limit of 2/,
    );
    const r = await small.explain(x, { target: ['top:2', 'prob:1'], maxTargets: 3 });
    assert.equal(r.explanations.length, 3);
    // Per image: two images with two targets each fit a cap of 2.
    const two = inputTensor([BLOCK_IMAGE, BLOCK_IMAGE], 4);
    const both = await small.explain(two, { target: [0, 1], maxTargets: 2 });
    assert.equal(both.explanations.length, 4);
  });
});

describe('input pixels', () => {
  const open = (opts: ImageModelOptions, file?: unknown) => {
    const bytes = dynamicCnn();
    return ImageModel.create(
      nodeRuntime,
      {
        bytes,
        model: decodeModel(bytes),
        ...(file ? { preprocessFile: file, preprocessSource: 'preprocess.json' } : {}),
      },
      opts,
    );
  };

  test('the default bound is 16 MP (4096×4096)', () => assert.equal(DEFAULT_MAX_INPUT_PIXELS, 4096 * 4096));

  test('a size above it from the options is a bad-argument naming the option', async () => {
    await rejectsWith(
      open({ preprocess: { size: [20000, 20000] } }),
      'bad-argument',
      /20000×20000/,
      /maxInputPixels|--max-input-pixels/,
    );
    await rejectsWith(open({ preprocess: { size: [100000, 100000] } }), 'bad-argument', /100000×100000/);
    await rejectsWith(open({ preprocess: { size: [2 ** 20, 2 ** 20] } }), 'bad-argument', /1048576×1048576/);
    await rejectsWith(open({ preprocess: { size: [4097, 4096] } }), 'bad-argument', /4097×4096/);
  });

  test('from preprocess.json it is a bad-preprocess', () =>
    rejectsWith(open({}, { size: [8000, 8000] }), 'bad-preprocess', /8000×8000/, /max-input-pixels/));

  test('the bound can be raised, and at the bound the model opens', async () => {
    const atBound = await open({ preprocess: { size: [4096, 4096] } });
    assert.equal(atBound.maxInputPixels, DEFAULT_MAX_INPUT_PIXELS);
    await atBound.release();
    const raised = await open({ preprocess: { size: [5000, 5000] }, maxInputPixels: 25e6 });
    assert.deepEqual(raised.preprocess.size, [5000, 5000]);
    await raised.release();
  });

  test('maxInputPixels must be a positive whole number', () =>
    rejectsWith(open({ maxInputPixels: -3 }), 'bad-argument', /maxInputPixels/));

  test('an input tensor larger than the bound is refused before it runs', async () => {
    const model = await open({ maxInputPixels: 100, preprocess: { size: [10, 10] } });
    const ex = ExplainerClass.fromModel(model);
    try {
      const big = { dtype: 'float32' as const, dims: [1, 3, 11, 10], data: new Float32Array(330) };
      await rejectsWith(ex.explain(big), 'bad-argument', /11×10/, /maxInputPixels/);
      const fits = {
        dtype: 'float32' as const,
        dims: [1, 3, 10, 10],
        data: Float32Array.from(seededValues(300, 9)),
      };
      const r = await ex.explain(fits);
      assert.equal(r.explanations[0]!.width, 10);
    } finally {
      await ex.release();
    }
  });
});
