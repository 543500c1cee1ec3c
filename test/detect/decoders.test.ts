// The decoder table: ids, lookup errors, the generated docs table, and which decoder fits which
// real export shape (each fits its own layout only).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DECODER_IDS,
  DECODERS,
  decoderById,
  decoderTableMarkdown,
  isDecoderId,
} from '../../src/detect/index.ts';
import { isGradsightError } from '../../src/errors.ts';

const EXPORTS: Record<string, readonly (number | string)[]> = {
  fastestdet: [1, 85, 22, 22],
  yolov5: [1, 25200, 85],
  yolov8: ['batch', 84, 8400],
};

describe('the decoder table', () => {
  it('lists every decoder once, keyed by its id, with a distinct head', () => {
    assert.deepEqual(DECODER_IDS, ['fastestdet', 'yolov5', 'yolov8']);
    for (const id of DECODER_IDS) assert.equal(DECODERS[id].id, id);
    assert.equal(new Set(DECODER_IDS.map((id) => DECODERS[id].head.key)).size, DECODER_IDS.length);
    assert.ok(isDecoderId('yolov8') && !isDecoderId('toString'));
  });

  it('each real export shape fits exactly its own decoder, with its class count', () => {
    for (const [name, shape] of Object.entries(EXPORTS)) {
      const fitting = DECODER_IDS.filter((id) => DECODERS[id].fits(shape).ok);
      assert.deepEqual(fitting, [name], `[${shape}]`);
      assert.equal(DECODERS[name as keyof typeof DECODERS].classes(shape), 80);
    }
  });

  it('an unknown id is a typed error naming the decoders and the closest', () => {
    assert.equal(decoderById('yolov5'), DECODERS.yolov5);
    assert.throws(
      () => decoderById('yolo5'),
      (e: unknown) =>
        isGradsightError(e, 'bad-argument') &&
        /yolo5/.test(e.message) &&
        /fastestdet, yolov5, yolov8.*yolov5/.test(e.hint ?? ''),
    );
  });

  it('the Markdown table has one row per decoder', () => {
    const md = decoderTableMarkdown();
    for (const id of DECODER_IDS)
      assert.match(
        md,
        new RegExp(`\\| \`${id}\` \\| .*${DECODERS[id].head.description.replace(/[()^·]/g, '.')}`),
      );
    assert.equal(md.trim().split('\n').length, 2 + DECODER_IDS.length);
  });
});
