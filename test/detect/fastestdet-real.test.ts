// The real FastestDet (../shared/models/fastestdet) on the shared photos, through the CLI's image
// pipeline: detections with score ≥ 0.65 after NMS, printed, checked against an independent NumPy
// decode of the same output grids, and the person in grace_hopper found with a sensible box.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type Detection, fastestdet, nms, toOriginalPixels } from '../../src/detect/index.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { parseLabels } from '../../src/image/labels.ts';
import { imageToTensor, resolvePreprocess } from '../../src/image/preprocess.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { writeNpy } from '../../src/tensor/npy-node.ts';
import type { Float32Tensor } from '../../src/tensor/tensor.ts';
import { imagePath, repoRoot, sharedDir } from '../helpers/shared.ts';
import { seededValues } from '../helpers/tiny-models.ts';
import { directionalDifference, headGradient, withHead } from './head-run.ts';

const dir = join(sharedDir, 'models', 'fastestdet');
const skip = existsSync(join(dir, 'model.onnx')) ? false : `FastestDet not found at ${dir}`;
const IMAGES = ['grace_hopper.png', 'kite_and_cold.png', 'pets.png', 'cat.png'] as const;
const SCORE = 0.65;
const IOU = 0.45;

function hasNumpy(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('FastestDet on the shared photos', { skip }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'gradsight-fastestdet-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const results = new Map<
    string,
    { input: Float32Tensor; grid: Float32Tensor; kept: Detection[]; size: { width: number; height: number } }
  >();

  it('decodes and prints every detection with score ≥ 0.65 after NMS', async () => {
    const labels = parseLabels(readFileSync(join(dir, 'coco-labels.txt'), 'utf8'));
    const cfg = resolvePreprocess({
      file: JSON.parse(readFileSync(join(dir, 'preprocess.json'), 'utf8')),
      inputShape: [1, 3, 352, 352],
    });
    assert.equal(cfg.channelOrder, 'BGR');
    const session = await nodeRuntime.createSession(readFileSync(join(dir, 'model.onnx')), { threads: 1 });
    try {
      for (const name of IMAGES) {
        const image = await decodeImageFile(imagePath(name));
        const input = imageToTensor(image, cfg);
        const out = await session.run({ 'input.1': input });
        const grid = out['758'] as Float32Tensor;
        assert.ok(fastestdet.fits(grid.dims).ok);
        const kept = nms(
          fastestdet.decode(grid.data, grid.dims.slice(1), [352, 352], { scoreThreshold: SCORE }),
          IOU,
        );
        results.set(name, { input, grid, kept, size: { width: image.width, height: image.height } });
        console.log(`${name} (${image.width}×${image.height}): ${kept.length} detection(s)`);
        for (const d of kept) {
          const b = toOriginalPixels(d.box, { width: 352, height: 352 }, image);
          const px = [b.x0, b.y0, b.x1, b.y1].map((v) => v.toFixed(0)).join(', ');
          console.log(`  ${labels[d.classIndex]} ${d.score.toFixed(3)} [${px}] cell ${d.cell}`);
        }
      }
    } finally {
      await session.release();
    }
    assert.ok([...results.values()].every((r) => r.kept.every((d) => d.score >= SCORE)));
  });

  it('finds the person in grace_hopper with a sensible box', () => {
    const r = results.get('grace_hopper.png');
    assert.ok(r, 'the decode test ran');
    const people = r.kept.filter((d) => d.classIndex === 0);
    assert.equal(people.length, 1, 'one person');
    const b = toOriginalPixels(people[0]!.box, { width: 352, height: 352 }, r.size);
    // The portrait: she fills most of the frame, centred horizontally, head near the top.
    const cx = (b.x0 + b.x1) / 2 / r.size.width;
    assert.ok(cx > 0.35 && cx < 0.65, `box centre at ${cx.toFixed(2)} of the width`);
    assert.ok(b.y0 < 0.15 * r.size.height, `box top at ${b.y0.toFixed(0)}`);
    assert.ok(
      (b.x1 - b.x0) * (b.y1 - b.y0) > 0.4 * r.size.width * r.size.height,
      'box covers most of the frame',
    );
  });

  it('equals an independent NumPy decode + NMS of the same grids', {
    skip: hasNumpy() ? false : 'no numpy',
  }, async () => {
    assert.equal(results.size, IMAGES.length, 'the decode test ran');
    const paths: string[] = [];
    for (const name of IMAGES) {
      const path = join(tmp, `${name}.npy`);
      await writeNpy(path, results.get(name)!.grid);
      paths.push(path);
    }
    const script = join(repoRoot, 'test', 'detect', 'fastestdet_reference.py');
    const ref = JSON.parse(
      execFileSync('/usr/bin/python3', [script, String(SCORE), String(IOU), '352', '352', ...paths], {
        encoding: 'utf8',
      }),
    ) as number[][][];
    IMAGES.forEach((name, i) => {
      const kept = results.get(name)!.kept;
      assert.equal(kept.length, ref[i]!.length, `${name}: detection count`);
      kept.forEach((d, j) => {
        const [cls, score, ...box] = ref[i]![j]!;
        assert.equal(d.classIndex, cls, `${name} #${j} class`);
        assert.ok(Math.abs(d.score - score!) < 1e-9, `${name} #${j} score ${d.score} vs ${score}`);
        [d.box.x0, d.box.y0, d.box.x1, d.box.y1].forEach((v, k) => {
          assert.ok(Math.abs(v - box[k]!) < 1e-6, `${name} #${j} box[${k}] ${v} vs ${box[k]}`);
        });
      });
    });
    assert.ok(ref.flat().length > 0, 'the photos have detections to compare');
  });

  it("the head on the real graph: T[cell] is the person's score, its input gradient matches a finite difference", async () => {
    const r = results.get('grace_hopper.png');
    assert.ok(r, 'the decode test ran');
    const person = r.kept[0]!;
    const m = withHead(readFileSync(join(dir, 'model.onnx')), fastestdet, '758', [1, 85, 22, 22], 'input.1');
    const { t, grad } = await headGradient(m, r.input, 0, person.cell);
    assert.deepEqual(t.dims, [1, 80, 22, 22]);
    assert.ok(
      Math.abs(t.data[person.cell]! - person.score) < 1e-6,
      `${t.data[person.cell]} vs ${person.score}`,
    );
    // Along a seeded direction v: ⟨∇, v⟩ against the central difference of T[cell]. The network's
    // ReLU and max-pool kinks bend T within ±1e-4 per pixel (the difference moves 8% from ε = 1e-3 to
    // 1e-5), and float32 rounding limits ε = 1e-5 to about 1%: hence ε = 1e-5 and a 3% tolerance.
    const v = Float32Array.from(seededValues(grad.length, 11));
    let dot = 0;
    for (let i = 0; i < grad.length; i++) dot += grad[i]! * v[i]!;
    const fd = await directionalDifference(m, r.input, 0, person.cell, v, 1e-5);
    console.log(`grace_hopper person: <grad, v> ${dot.toFixed(5)}, finite difference ${fd.toFixed(5)}`);
    assert.ok(Math.abs(dot) > 1e-3, 'the score depends on the image');
    assert.ok(Math.abs(dot - fd) < 0.03 * Math.abs(fd), `<grad, v> ${dot} vs ${fd}`);
  });
});
