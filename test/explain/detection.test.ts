// Detection explanations on the real FastestDet (../shared/models/fastestdet): every detection with
// score ≥ 0.65 after NMS on the shared photos is explained, with its box, class and score; the share
// of detections whose map maximum lies inside their own box is printed per method. Grad-CAM's
// channel weights are one vector per detection over the whole map, so instances of one class (four
// kites, three people) get nearly the same map; the element-wise methods (HiResCAM, LayerCAM) keep
// the gradient's position and point at their own detection. Also: det:K, det:LABEL, det:box=… and
// the CLI's results.json.

import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Explainer } from '../../src/explain/explainer.ts';
import { loadExplainer } from '../../src/explain/load-node.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import type { RgbImage } from '../../src/image/rgb-image.ts';
import { runCli } from '../helpers/cli.ts';
import { imagePath, sharedDir, skipNoShared } from '../helpers/shared.ts';

const PHOTOS = ['grace_hopper', 'kite_and_cold', 'pets', 'cat'];

/** A model folder with FastestDet's files and a preprocess.json that describes its output. */
function detectorFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gradsight-fastestdet-'));
  const src = join(sharedDir, 'models', 'fastestdet');
  // A copy, not a link: files of a model folder must resolve inside it (load-node.ts).
  copyFileSync(join(src, 'model.onnx'), join(dir, 'model.onnx'));
  writeFileSync(join(dir, 'labels.txt'), readFileSync(join(src, 'coco-labels.txt')));
  const pre = JSON.parse(readFileSync(join(src, 'preprocess.json'), 'utf8'));
  writeFileSync(
    join(dir, 'preprocess.json'),
    JSON.stringify({
      ...pre,
      task: 'detection',
      decoder: 'fastestdet',
      scoreThreshold: 0.65,
      iouThreshold: 0.45,
    }),
  );
  return dir;
}

function argmaxPixel(map: Float32Array, width: number): [number, number] {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i]! > map[best]!) best = i;
  return [(best % width) + 0.5, Math.floor(best / width) + 0.5];
}

describe('FastestDet: detections explained', { skip: skipNoShared }, () => {
  let dir: string;
  let ex: Explainer;
  const images = new Map<string, RgbImage>();
  before(async () => {
    dir = detectorFolder();
    ex = await loadExplainer(dir);
    for (const p of PHOTOS) images.set(p, await decodeImageFile(imagePath(`${p}.png`)));
  });
  after(async () => ex?.release());

  test('every detection ≥ 0.65 after NMS, with each method; the pointing share is printed', async (t) => {
    const methods = ['gradcam', 'hirescam', 'layercam'] as const;
    const inside = new Map<string, number>(methods.map((m) => [m, 0]));
    let detections = 0;
    for (const p of PHOTOS) {
      const r = await ex.explain(images.get(p)!, { method: [...methods], target: 'det' });
      const perMethod = r.explanations.filter((e) => e.method === 'gradcam');
      detections += perMethod.length;
      for (const e of r.explanations) {
        const d = e.detection!;
        assert.ok(d.score >= 0.65, `${p}: score ${d.score}`);
        assert.equal(e.target.kind, 'detection');
        // The explained scalar is the detection's score: T[cell] = obj^0.6·cls^0.4 in the graph.
        assert.ok(Math.abs(e.target.score - d.score) < 1e-5, `${p}: T[cell] ${e.target.score} vs ${d.score}`);
        const [x, y] = argmaxPixel(e.map!, e.width);
        if (x >= d.box.x0 && x <= d.box.x1 && y >= d.box.y0 && y <= d.box.y1)
          inside.set(e.method, inside.get(e.method)! + 1);
      }
      // Boxes differ between detections: each row is its own detection.
      const boxes = new Set(perMethod.map((e) => JSON.stringify(e.detection!.box)));
      assert.equal(boxes.size, perMethod.length);
    }
    assert.equal(detections, 14, 'grace_hopper 4, kite_and_cold 7, pets 2, cat 1');
    for (const m of methods) {
      t.diagnostic(`${m}: map maximum inside its own box for ${inside.get(m)} of ${detections} detections`);
    }
    assert.ok(
      inside.get('hirescam')! / detections >= 0.85,
      `HiResCAM: ${inside.get('hirescam')}/${detections}`,
    );
    assert.ok(
      inside.get('layercam')! / detections >= 0.85,
      `LayerCAM: ${inside.get('layercam')}/${detections}`,
    );
    // Grad-CAM points at some detection's box of its class at least for the big single objects.
    assert.ok(inside.get('gradcam')! >= 5, `Grad-CAM: ${inside.get('gradcam')}/${detections}`);
  });

  test('det:1, det:LABEL and det:box= pick detections as documented', async () => {
    const grace = images.get('grace_hopper')!;
    const best = await ex.explain(grace, { target: 'det:1' });
    assert.equal(best.explanations.length, 1);
    assert.equal(best.explanations[0]!.detection!.label, 'person');
    const ties = await ex.explain(grace, { target: 'det:tie' });
    assert.deepEqual(
      ties.explanations.map((e) => e.detection!.label),
      ['tie', 'tie'],
    );
    // The second tie's box in original pixels (512×600 photo, 352×352 model input), slightly moved.
    const b = ties.explanations[1]!.detection!.box;
    const sx = grace.width / 352;
    const sy = grace.height / 352;
    const box = [b.x0 * sx + 3, b.y0 * sy - 2, b.x1 * sx + 1, b.y1 * sy + 2]
      .map((v) => v.toFixed(1))
      .join(',');
    const matched = await ex.explain(grace, { target: `det:box=${box}` });
    assert.equal(matched.explanations.length, 1);
    assert.deepEqual(matched.explanations[0]!.detection!.box, b);
  });

  test('a counterfactual detection negates the score', async () => {
    const r = await ex.explain(images.get('cat')!, { target: 'counterfactual:det' });
    const e = r.explanations[0]!;
    assert.ok(e.target.counterfactual);
    assert.ok(Math.abs(e.target.score + e.detection!.score) < 1e-5);
  });

  test('gradsight explain -t det writes each detection with its box in original pixels', async () => {
    const out = join(dir, 'out');
    const r = await runCli(
      ['explain', dir, imagePath('pets.png'), '-t', 'det', '-q', '-o', out, '--no-report'],
      {
        timeoutMs: 120_000,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const img = res.images[0];
    const dets = img.explanations.map((e: { detection: Record<string, unknown> }) => e.detection);
    assert.deepEqual(
      dets.map((d: { label: string }) => d.label),
      ['dog', 'dog'],
    );
    const [h0, w0] = [img.size.height, img.size.width];
    for (const d of dets) {
      assert.ok(Math.abs(d.box.x0 - (d.boxModel.x0 * w0) / 352) < 1e-6);
      assert.ok(Math.abs(d.box.y1 - (d.boxModel.y1 * h0) / 352) < 1e-6);
    }
  });
});
