// The model description (task keys of preprocess.json): parsing, defaults, and every contradiction with
// the model as a typed error with a hint, on hand-made tiny models; labels aligned with the task's
// classes (a detector's 85 = 5 + 80 channels take 80 labels); multi-label and NHWC segmentation ranking.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ErrorCode, isGradsightError } from '../../src/errors.ts';
import { resolvePreprocess } from '../../src/image/preprocess.ts';
import { resolveDescription } from '../../src/model/description.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { rankOutput } from '../../src/model/predict.ts';
import { decodeModel, type ValueInfo } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { float32 } from '../../src/tensor/tensor.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { seededValues } from '../helpers/tiny-models.ts';

const isCode = (code: ErrorCode, re: RegExp, hint?: RegExp) => (e: unknown) => {
  assert.ok(isGradsightError(e, code), `expected ${code}, got ${String(e)}`);
  assert.match(e.message, re);
  assert.ok(e.hint, 'has a hint');
  if (hint) assert.match(e.hint, hint);
  return true;
};

const rgb = resolvePreprocess({ inputShape: [1, 3, 8, 8] });
const out = (shape: ValueInfo['shape']): ValueInfo => ({ name: 'y', dtype: 'float32', shape });
const describeAs = (file: unknown, shape: ValueInfo['shape'], flags?: unknown) =>
  resolveDescription({ file, fileSource: 'p.json', flags, preprocess: rgb, output: out(shape) });

describe('resolveDescription', () => {
  test('defaults from the output shape: [N, K] classification, 4-D segmentation NCHW', () => {
    const c = describeAs(undefined, ['n', 10]);
    assert.deepEqual([c.task, c.classes, c.stated, c.channels], [{ kind: 'classification' }, 10, false, 3]);
    const s = describeAs({}, [1, 21, 64, 64]);
    assert.deepEqual([s.task, s.classes], [{ kind: 'segmentation', outputLayout: 'NCHW' }, 21]);
  });

  test('stated tasks, with their classes read off the output', () => {
    assert.deepEqual(describeAs({ task: 'multi-label' }, ['n', 20]).classes, 20);
    assert.deepEqual(describeAs({ task: 'classification' }, [1, 1000, 1, 1]).classes, 1000);
    const seg = describeAs({ task: 'segmentation', outputLayout: 'NHWC' }, [1, 64, 64, 21]);
    assert.deepEqual([seg.task, seg.classes], [{ kind: 'segmentation', outputLayout: 'NHWC' }, 21]);
    const det = describeAs(
      { task: 'detection', decoder: 'fastestdet', scoreThreshold: 0.65 },
      [1, 85, 22, 22],
    );
    assert.deepEqual(det.task, {
      kind: 'detection',
      decoder: 'fastestdet',
      scoreThreshold: 0.65,
      iouThreshold: 0.45,
    });
    assert.equal(det.classes, 80);
    // A decoder alone implies detection; defaults 0.25 / 0.45.
    const v8 = describeAs({ decoder: 'yolov8' }, [1, 84, 8400]);
    assert.deepEqual(
      [v8.task, v8.classes],
      [{ kind: 'detection', decoder: 'yolov8', scoreThreshold: 0.25, iouThreshold: 0.45 }, 80],
    );
    assert.equal(describeAs({ decoder: 'yolov5' }, [1, 25200, 85]).classes, 80);
  });

  test("flags win over the file; a task from the flags ignores the file's task settings", () => {
    const file = { task: 'detection', decoder: 'fastestdet', iouThreshold: 0.3 };
    const d = describeAs(file, [1, 85, 22, 22], { scoreThreshold: 0.65 });
    assert.deepEqual(d.task, {
      kind: 'detection',
      decoder: 'fastestdet',
      scoreThreshold: 0.65,
      iouThreshold: 0.3,
    });
    const seg = describeAs(file, [1, 85, 22, 22], { task: 'segmentation' });
    assert.deepEqual([seg.task, seg.classes], [{ kind: 'segmentation', outputLayout: 'NCHW' }, 85]);
  });

  const contradictions: [string, unknown, ValueInfo['shape'], RegExp, RegExp][] = [
    [
      'segmentation on [N, K]',
      { task: 'segmentation' },
      ['n', 10],
      /"segmentation" needs a dense/,
      /classification/,
    ],
    [
      'classification on a dense map',
      { task: 'classification' },
      [1, 21, 64, 64],
      /"classification".*needs \[N, K\]/,
      /segmentation/,
    ],
    ['multi-label on a scalar', { task: 'multi-label' }, [1], /needs a batch of class scores/, /--output/],
    [
      'detection without a decoder',
      { task: 'detection' },
      [1, 85, 22, 22],
      /no "decoder"/,
      /fastestdet.*yolov5.*yolov8/,
    ],
    [
      'fastestdet on a 3-D output',
      { decoder: 'fastestdet' },
      [1, 25200, 85],
      /decoder "fastestdet"/,
      /"decoder": "yolov5"/,
    ],
    [
      'yolov5 on the FastestDet grid',
      { decoder: 'yolov5' },
      [1, 85, 22, 22],
      /decoder "yolov5"/,
      /"decoder": "fastestdet"/,
    ],
    ['yolov5 on the YOLOv8 layout', { decoder: 'yolov5' }, [1, 84, 8400], /swapped/, /"decoder": "yolov8"/],
    ['yolov8 on the YOLOv5 layout', { decoder: 'yolov8' }, [1, 25200, 85], /swapped/, /"decoder": "yolov5"/],
    [
      'classes that disagree with the decoder',
      { decoder: 'fastestdet', classes: 85 },
      [1, 85, 22, 22],
      /"classes" is 85 but .* scores 80 classes/,
      /set "classes" to 80/,
    ],
  ];
  for (const [name, file, shape, re, hint] of contradictions) {
    test(`contradiction: ${name}`, () => {
      assert.throws(
        () => describeAs(file, shape),
        isCode('bad-description', new RegExp(`^p\\.json: .*${re.source}`), hint),
      );
    });
  }

  const invalid: [string, unknown, RegExp][] = [
    [
      'unknown task',
      { task: 'regression' },
      /"task" must be one of classification, multi-label, segmentation, detection/,
    ],
    ['unknown decoder', { decoder: 'yolo' }, /"decoder" must be one of fastestdet, yolov5, yolov8/],
    [
      'threshold range',
      { decoder: 'fastestdet', scoreThreshold: 65 },
      /"scoreThreshold" must be a number from 0 to 1/,
    ],
    ['classes type', { classes: 8.5 }, /"classes" must be a positive integer/],
    [
      'decoder beside another task',
      { task: 'classification', decoder: 'fastestdet' },
      /"decoder" is a detection setting, but "task" is "classification"/,
    ],
    [
      'outputLayout beside another task',
      { task: 'multi-label', outputLayout: 'NHWC' },
      /"outputLayout" is a segmentation setting/,
    ],
  ];
  for (const [name, file, re] of invalid) {
    test(`invalid key: ${name}`, () => {
      assert.throws(() => describeAs(file, ['n', 10]), isCode('bad-preprocess', re));
    });
  }
});

/** A tiny conv model: `channels`-channel 8×8 input, one stride-2 Conv to `k` maps, output as shaped. */
function convModel(channels: number, k: number, head: 'gap' | 'dense'): Uint8Array {
  const nodes = [
    {
      op: 'Conv',
      inputs: ['input', 'w', 'b'],
      outputs: ['conv'],
      attrs: { pads: [1, 1, 1, 1], strides: [2, 2] },
    },
    ...(head === 'gap'
      ? [
          { op: 'GlobalAveragePool', inputs: ['conv'], outputs: ['pool'] },
          { op: 'Flatten', inputs: ['pool'], outputs: ['y'] },
        ]
      : [{ op: 'Relu', inputs: ['conv'], outputs: ['y'] }]),
  ];
  return buildModel({
    opset: 13,
    inputs: [{ name: 'input', shape: ['batch', channels, 8, 8] }],
    outputs: [{ name: 'y', shape: head === 'gap' ? ['batch', k] : ['batch', k, 4, 4] }],
    initializers: [
      { name: 'w', dims: [k, channels, 3, 3], values: seededValues(k * channels * 9, 7) },
      { name: 'b', dims: [k], values: seededValues(k, 8) },
    ],
    nodes,
  });
}

const open = (
  bytes: Uint8Array,
  preprocessFile?: unknown,
  labels?: string[],
  flags?: Record<string, unknown>,
) =>
  ImageModel.create(
    nodeRuntime,
    {
      bytes,
      model: decodeModel(bytes),
      ...(preprocessFile !== undefined ? { preprocessFile, preprocessSource: '/m/preprocess.json' } : {}),
      ...(labels ? { labels } : {}),
    },
    flags ? { preprocess: flags } : {},
  );

describe('ImageModel.create with a description', () => {
  test('a 1-channel model: channels inferred, inputDims [n, 1, 8, 8], runs on grayscale batches', async () => {
    const m = await open(convModel(1, 2, 'gap'), undefined, ['zero', 'one']);
    try {
      assert.deepEqual([m.preprocess.channels, m.inputDims(3)], [1, [3, 1, 8, 8]]);
      assert.deepEqual(
        [m.description.channels, m.description.task, m.description.classes],
        [1, { kind: 'classification' }, 2],
      );
      assert.deepEqual(m.labels, ['zero', 'one']);
    } finally {
      await m.release();
    }
  });

  test('channels 3 stated for a 1-channel model is refused with a hint', async () => {
    await assert.rejects(
      open(convModel(1, 2, 'gap'), { channels: 3 }),
      isCode(
        'bad-preprocess',
        /\[batch, 1, 8, 8\] has 1 channel, but the preprocessing says 3/,
        /"channels": 1/,
      ),
    );
    await assert.rejects(
      open(convModel(3, 2, 'gap'), undefined, undefined, { channels: 1, mean: [0], std: [1] }),
      isCode('bad-preprocess', /has 3 channels, but the preprocessing says 1/, /--channels 3/),
    );
  });

  test('segmentation stated for an [N, K] model is refused', async () => {
    await assert.rejects(
      open(convModel(3, 4, 'gap'), { task: 'segmentation' }),
      isCode(
        'bad-description',
        /^\/m\/preprocess\.json: "task" "segmentation" needs a dense .* output y is \[batch, 4\]/,
      ),
    );
  });

  test("a detector: labels align with the decoder's classes (85 channels = 5 + 80), not the channels", async () => {
    const labels = Array.from({ length: 80 }, (_, i) => `c${i}`);
    const bytes = convModel(3, 85, 'dense');
    // Without a description the 85-channel map reads as segmentation: 80 labels do not fit, and the
    // hint names the description that fits.
    await assert.rejects(
      open(bytes, undefined, labels),
      isCode(
        'bad-labels',
        /80 lines but the model has 85 outputs/,
        /"task":"detection","decoder":"fastestdet"/,
      ),
    );
    const m = await open(bytes, { task: 'detection', decoder: 'fastestdet', scoreThreshold: 0.65 }, labels);
    try {
      assert.equal(m.description.classes, 80);
      assert.equal(m.labels?.[79], 'c79');
    } finally {
      await m.release();
    }
    await assert.rejects(
      open(bytes, { decoder: 'fastestdet' }, [...labels, 'extra']),
      isCode(
        'bad-labels',
        /81 lines but the "fastestdet" decoder reads 80 classes from y \[batch, 85, 4, 4\]/,
      ),
    );
    // The same from command-line flags, for a folder whose preprocess.json says nothing of the task.
    const f = await open(bytes, {}, labels, { task: 'detection', decoder: 'fastestdet' });
    await f.release();
  });

  test('multi-label: predict ranks sigmoid(logit) per class', async () => {
    const m = await open(convModel(3, 3, 'gap'), { task: 'multi-label' });
    try {
      const x = float32(
        new Float32Array(3 * 64).map((_, i) => Math.sin(i)),
        [1, 3, 8, 8],
      );
      const logits = (await m.run(x)).data;
      const [p] = await m.predict(x, 3);
      assert.equal(p!.kind, 'multi-label');
      for (const c of p!.top) {
        assert.ok(Math.abs(c.score - 1 / (1 + Math.exp(-logits[c.index]!))) < 1e-6);
      }
      assert.ok(Math.abs(p!.top.reduce((s, c) => s + c.score, 0) - 1) > 1e-3, 'not a softmax');
    } finally {
      await m.release();
    }
  });
});

describe('rankOutput by task', () => {
  test('multi-label scores are independent sigmoids, ranked', () => {
    const [p] = rankOutput(float32(new Float32Array([0, 2, -1]), [1, 3]), {
      top: 3,
      labels: ['a', 'b', 'c'],
      outputIsProbability: false,
      task: { kind: 'multi-label' },
    });
    assert.deepEqual(
      p!.top.map((c) => [c.label, Number(c.score.toFixed(6))]),
      [
        ['b', 0.880797],
        ['a', 0.5],
        ['c', 0.268941],
      ],
    );
  });

  test('NHWC segmentation counts the argmax over the last axis', () => {
    // 2×2 pixels × 3 classes, channels last: pixel argmaxes 2, 2, 0, 1.
    const data = new Float32Array([0, 1, 5, 0, 0, 3, 9, 1, 2, 0, 4, 1]);
    const [p] = rankOutput(float32(data, [1, 2, 2, 3]), {
      top: 5,
      labels: undefined,
      outputIsProbability: false,
      task: { kind: 'segmentation', outputLayout: 'NHWC' },
    });
    assert.deepEqual(
      p!.top.map((c) => [c.index, c.score]),
      [
        [2, 0.5],
        [0, 0.25],
        [1, 0.25],
      ],
    );
  });

  test('a detection output has no class ranking: a typed error', () => {
    assert.throws(
      () =>
        rankOutput(float32(new Float32Array(6 * 4), [1, 6, 2, 2]), {
          top: 1,
          labels: undefined,
          outputIsProbability: false,
          task: { kind: 'detection', decoder: 'fastestdet', scoreThreshold: 0.25, iouThreshold: 0.45 },
        }),
      isCode('method-not-applicable', /fastestdet/),
    );
  });
});
