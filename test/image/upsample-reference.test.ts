// Pins resizeBilinearFloat to pytorch-grad-cam's cv2.resize: rebuild Grad-CAM from the reference
// activation and gradient (closed form in ../shared/design/reference-semantics.md), upsample it with
// gradsight, and compare with the reference map. Any other resize convention is off by ~1e-2.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resizeBilinearFloat } from '../../src/image/upsample.ts';
import { readNpy } from '../../src/tensor/npy-node.ts';
import { hasShared, sharedDir, skipNoShared } from '../helpers/shared.ts';

interface Entry {
  model: string;
  image: string;
  kind: string;
  file: string;
  method?: string;
  class?: number;
  layers?: string[];
  layer?: string;
  counterfactual?: boolean;
}

const index: Entry[] = hasShared
  ? (JSON.parse(readFileSync(join(sharedDir, 'reference', 'index.json'), 'utf8')) as Entry[])
  : [];
const cams = index.filter(
  (e) => e.kind === 'cam' && e.method === 'gradcam' && e.layers?.length === 1 && !e.counterfactual,
);

const minMax = (a: Float32Array) => {
  let lo = Infinity;
  for (const v of a) lo = Math.min(lo, v);
  let hi = -Infinity;
  for (const v of a) hi = Math.max(hi, v - lo);
  return a.map((v) => (v - lo) / (hi + 1e-7));
};

for (const cam of cams) {
  const find = (kind: string) =>
    index.find(
      (e) =>
        e.kind === kind &&
        e.model === cam.model &&
        e.image === cam.image &&
        e.layer === cam.layers![0] &&
        (kind === 'activation' || e.class === cam.class),
    );
  const act = find('activation');
  const grad = find('gradient');
  if (!act || !grad) continue;
  test(`gradcam upsample ${cam.model}/${cam.image} c${cam.class}`, { skip: skipNoShared }, async (t) => {
    const A = await readNpy(join(sharedDir, 'reference', act.file));
    const G = await readNpy(join(sharedDir, 'reference', grad.file));
    const ref = await readNpy(join(sharedDir, 'reference', cam.file));
    const [k, h, w] = A.dims as [number, number, number];
    const [H, W] = ref.dims as [number, number];
    const m = new Float32Array(h * w);
    for (let c = 0; c < k; c++) {
      let g = 0;
      for (let i = 0; i < h * w; i++) g += G.data[c * h * w + i] as number;
      g /= h * w;
      for (let i = 0; i < h * w; i++) m[i]! += g * (A.data[c * h * w + i] as number);
    }
    const relu = m.map((v) => Math.max(v, 0));
    const up = resizeBilinearFloat({ width: w, height: h, data: minMax(relu) }, W, H);
    const ours = minMax(up.data.map((v) => Math.max(v, 0)));
    let max = 0;
    for (let i = 0; i < ours.length; i++) max = Math.max(max, Math.abs(ours[i]! - (ref.data[i] as number)));
    t.diagnostic(
      `${cam.model}/${cam.image} c${cam.class} ${h}x${w}→${H}x${W}: max abs diff ${max.toExponential(3)}`,
    );
    assert.ok(max < 1e-5, `max abs diff ${max}`);
  });
}
