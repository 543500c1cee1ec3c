// deprocessImage and guidedGradCam against every guided-gradcam-display entry of the shared references
// (pytorch-grad-cam's deprocess_image, GB × Grad-CAM): from the reference guided-gradcam array, and again
// from guided-backprop × the reference gradcam map of the same image, class and layers.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import type { RgbImage } from '../../src/image/rgb-image.ts';
import { deprocessImage, guidedGradCam } from '../../src/render/deprocess.ts';
import { type ReferenceEntry, readReference, referenceEntries } from '../helpers/reference.ts';
import { hasShared, skipNoShared } from '../helpers/shared.ts';

const f32 = (file: string) => readReference(file).data as Float32Array;

function maxGreyDiff(img: RgbImage, ref: Uint8Array): number {
  assert.equal(img.data.length, ref.length);
  let max = 0;
  for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(img.data[i]! - ref[i]!));
  return max;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return scale === 0 ? max : max / scale;
}

const displays = hasShared ? referenceEntries('guided-gradcam-display') : [];
const same = (a: ReferenceEntry, b: ReferenceEntry) =>
  a.model === b.model && a.image === b.image && a.class === b.class;

test('the references hold guided-gradcam-display entries', { skip: skipNoShared }, () => {
  assert.ok(displays.length >= 9, `found ${displays.length}`);
});

for (const entry of displays) {
  const name = `${entry.model} ${entry.image} class ${entry.class}`;
  test(`deprocess and guided Grad-CAM match pytorch-grad-cam: ${name}`, { skip: skipNoShared }, (t) => {
    const display = readReference(entry.file);
    const [height, width, channels] = display.dims;
    assert.equal(display.dtype, 'uint8');
    assert.equal(channels, 3);
    const size = { width: width!, height: height! };
    const ref = display.data as Uint8Array;

    const ggEntry = referenceEntries('guided-gradcam').find((e) => same(e, entry));
    const gbEntry = referenceEntries('guided-backprop').find((e) => same(e, entry));
    assert.ok(ggEntry && gbEntry, `guided-gradcam and guided-backprop entries for ${name}`);
    const layers = ggEntry.layers as string[];
    const camEntry = referenceEntries('cam').find(
      (e) =>
        same(e, entry) &&
        e.method === 'gradcam' &&
        e.counterfactual === false &&
        JSON.stringify(e.layers) === JSON.stringify(layers),
    );
    assert.ok(camEntry, `gradcam map for ${name} at ${layers.join(', ')}`);

    const gg = f32(ggEntry.file);
    const fromGg = maxGreyDiff(deprocessImage(gg, size), ref);

    const product = guidedGradCam(f32(gbEntry.file), f32(camEntry.file));
    const rel = maxRelDiff(product, gg);
    const fromProduct = maxGreyDiff(deprocessImage(product, size), ref);

    t.diagnostic(
      `max grey-level difference: ${fromGg} (reference guided-gradcam), ${fromProduct} (GB × Grad-CAM); ` +
        `GB × Grad-CAM vs reference relative ${rel.toExponential(2)}`,
    );
    assert.ok(rel <= 1e-6, `guidedGradCam relative difference ${rel}`);
    assert.ok(fromGg <= 1, `deprocess of the reference guided-gradcam: ${fromGg} grey levels`);
    assert.ok(fromProduct <= 1, `deprocess of GB × Grad-CAM: ${fromProduct} grey levels`);
  });
}

test('deprocessImage on a hand-sized array: z-score ×0.1 + 0.5, clip, truncate, CHW in → HWC out', () => {
  // 1×2 image, channels R = (1, 3), G = (5, 7), B = (9, 100). Mean 20.833, population std 35.498:
  // pixel 1 R: (1 − 20.833)/35.498 = −0.5587 → 0.44413 → 113.25 → 113; the outlier B = 100: 2.2301 →
  // 0.72301 → 184.37 → 184. (NumPy's deprocess_image gives the same bytes.)
  const out = deprocessImage(new Float32Array([1, 3, 5, 7, 9, 100]), { width: 2, height: 1 });
  const x = [1, 3, 5, 7, 9, 100];
  const mean = x.reduce((a, b) => a + b) / 6;
  const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / 6);
  const byte = (v: number) =>
    Math.floor(Math.min(1, Math.max(0, ((v - mean) / (std + 1e-5)) * 0.1 + 0.5)) * 255);
  assert.deepEqual([...out.data], [byte(1), byte(5), byte(9), byte(3), byte(7), byte(100)]);
  assert.deepEqual([...out.data], [113, 116, 118, 114, 117, 184]);
  // A constant array has std 0: everything lands on mid-grey, floor(0.5·255) = 127.
  assert.deepEqual(
    [...deprocessImage(new Float32Array(3).fill(4), { width: 1, height: 1 }).data],
    [127, 127, 127],
  );
});

test('guidedGradCam broadcasts the HW map over channels; mismatched sizes are bad-argument', () => {
  const gb = new Float32Array([1, -2, 3, 4, 5, -6]); // C=3, H×W=2
  assert.deepEqual([...guidedGradCam(gb, new Float32Array([0.5, 0]))], [0.5, -0, 1.5, 0, 2.5, -0]);
  assert.throws(
    () => guidedGradCam(gb, new Float32Array(4)),
    (e) => isGradsightError(e, 'bad-argument'),
  );
  assert.throws(
    () => deprocessImage(gb, { width: 3, height: 1 }),
    (e) => isGradsightError(e, 'bad-argument'),
  );
});

test('deprocessImage on 1 and 4 channels: grey drawn on R, G, B; RGBA statistics include alpha', () => {
  // One plane [1, 3, 5, 7]: mean 4, population std √5; (x − 4)/(√5 + 1e-5)·0.1 + 0.5, ×255, truncated:
  // 93.3 → 93, 116.0 → 116, 138.9 → 138, 161.7 → 161.
  const grey = deprocessImage(new Float32Array([1, 3, 5, 7]), { width: 2, height: 2 });
  assert.deepEqual([...grey.data], [93, 93, 93, 116, 116, 116, 138, 138, 138, 161, 161, 161]);
  // Three equal planes have the same statistics: the same picture.
  const three = new Float32Array([1, 3, 5, 7, 1, 3, 5, 7, 1, 3, 5, 7]);
  assert.deepEqual([...deprocessImage(three, { width: 2, height: 2 }).data], [...grey.data]);
  // One pixel, four channels 1, 3, 5, 7: the same statistics; alpha (161) is not drawn.
  const rgba = deprocessImage(new Float32Array([1, 3, 5, 7]), { width: 1, height: 1 });
  assert.deepEqual([...rgba.data], [93, 116, 138]);
  assert.throws(
    () => deprocessImage(new Float32Array(2), { width: 1, height: 1 }),
    (e) => isGradsightError(e, 'bad-argument') && /C = 1, 3 or 4/.test(e.message),
  );
});
