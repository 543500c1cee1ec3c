// The files explain writes for a hand-built result with a detection: results.json's detection box in
// original pixels (the model box scaled by W0/W, H0/H), and its rectangle on the right pixels of the
// overlay PNG as decoded from disk, at the original size and at the model size.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderImageOutputs } from '../../src/cli/commands/explain-outputs.ts';
import type { ExplainResult, Explanation } from '../../src/explain/explainer.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { rgbImage } from '../../src/image/rgb-image.ts';
import type { ImageModel } from '../../src/model/image-model.ts';

const preprocess = {
  layout: 'NCHW',
  channels: 3,
  size: [32, 32],
  mean: [0, 0, 0],
  std: [1, 1, 1],
  scale: '0-255',
  channelOrder: 'RGB',
  labelOffset: 0,
};

test('a detection in results.json and on the overlay PNG, at the original and the model size', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gradsight-outputs-'));
  try {
    const photo = rgbImage(80, 48, new Uint8Array(80 * 48 * 3).fill(60)); // W0/W = 2.5, H0/H = 1.5
    const map = new Float32Array(32 * 32);
    map[10 * 32 + 12] = 1;
    const e = {
      image: 0,
      target: {
        index: 2,
        label: 'kite',
        description: 'kite (2)',
        kind: 'class',
        counterfactual: false,
        score: 3,
      },
      method: 'gradcam',
      layers: ['conv'],
      width: 32,
      height: 32,
      map,
      detection: { box: { x0: 4, y0: 6, x1: 20, y1: 22 }, classIndex: 1, label: 'kite', score: 0.9 },
    } as unknown as Explanation;
    const result = {
      predictions: [{ kind: 'classification', top: [{ index: 2, label: 'kite', score: 0.9 }] }],
      layers: [],
      reads: 'logits',
      explanations: [e],
      seconds: 0,
    } as unknown as ExplainResult;
    const cyan = [0, 229, 255]; // class 1
    for (const [overlaySize, size, edges] of [
      // [4, 20] × 2.5 = [10, 50] → columns 10..49; [6, 22] × 1.5 = [9, 33] → rows 9..32 (pixel centres inside).
      ['original', [80, 48], [10, 49, 9, 32]],
      ['model', [32, 32], [4, 19, 6, 21]],
    ] as const) {
      const out = join(dir, overlaySize);
      const [r] = await renderImageOutputs({
        out,
        items: [{ file: 'photo.png', image: photo }],
        result,
        model: { preprocess } as unknown as ImageModel,
        colormap: 'jet',
        alpha: 0.5,
        saveRaw: false,
        overlaySize,
        taken: new Set(),
      });
      const json = r!.json as {
        size: unknown;
        explanations: { files: { image: string }; box: unknown; boxModel: unknown; detection: unknown }[];
      };
      assert.deepEqual(json.size, { width: 80, height: 48 });
      const entry = json.explanations[0]!;
      assert.deepEqual(entry.detection, {
        box: { x0: 10, y0: 9, x1: 50, y1: 33 },
        boxModel: { x0: 4, y0: 6, x1: 20, y1: 22 },
        classIndex: 1,
        label: 'kite',
        score: 0.9,
      });
      // The map's one hot pixel (12, 10): the localization box, and scaled by (2.5, 1.5).
      assert.deepEqual(entry.boxModel, { x0: 12, y0: 10, x1: 12, y1: 10 });
      assert.deepEqual(entry.box, { x0: 30, y0: 15, x1: 32, y1: 16 });
      const png = await decodeImageFile(join(out, entry.files.image));
      assert.deepEqual([png.width, png.height], size);
      const px = (x: number, y: number) => [
        ...png.data.subarray((y * png.width + x) * 3, (y * png.width + x) * 3 + 3),
      ];
      // Rows 9..17 at the top of the box hold its label tag here (no room above): check lower rows.
      const [x0, x1, , y1] = edges;
      const midY = y1 - 1;
      const midX = Math.round((x0 + x1) / 2);
      for (const [x, y] of [
        [x0, midY],
        [x1, midY],
        [midX, y1],
        [x0, y1],
      ] as const)
        assert.deepEqual(px(x, y), cyan, `${overlaySize}: (${x}, ${y})`);
      assert.deepEqual(px(x0 - 1, midY), [17, 17, 17], `${overlaySize}: rim`);
      assert.notDeepEqual(px(x0 + 1, midY), cyan, `${overlaySize}: inside`);
      // The report panel has the same box in its own pixels, not drawn into its image.
      const panel = r!.report.targets[0]!.panels[0]!;
      assert.deepEqual(panel.size, { width: size[0], height: size[1] });
      assert.equal(panel.detection?.text, 'kite 0.90');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
