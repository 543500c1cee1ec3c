// Displaying input gradients (Guided Backprop, Guided Grad-CAM) as images, the way pytorch-grad-cam does:
// `deprocess_image` (utils/image.py) z-scores the whole array, squeezes it around mid-grey and truncates
// to bytes. Guided Grad-CAM itself is the plain product of the two maps (design doc b3, b8.8).

import { GradsightError } from '../errors.ts';
import { type RgbImage, rgbImage } from '../image/rgb-image.ts';

const f = Math.fround;

export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/**
 * pytorch-grad-cam's `deprocess_image` on a CHW (C×H×W, C = 1, 3 or 4) gradient, returning an HWC RGB
 * image: `x = (x − mean) / (std + 1e-5)`, `x·0.1 + 0.5`, clip to [0, 1], `uint8(255·x)` (truncation), with
 * the mean and population std global over all pixels and channels. Elementwise steps are float32 like
 * NumPy's; the mean and std are summed in float64 (NumPy's pairwise float32 sums differ only in the last
 * bits). One channel (a grayscale model) is drawn grey (the same byte on R, G, B); of four (RGBA), the
 * alpha gradient counts in the statistics like any channel but only R, G, B are drawn.
 */
export function deprocessImage(x: Float32Array, size: ImageSize): RgbImage {
  const { width, height } = size;
  const plane = width * height;
  const channels = plane > 0 ? x.length / plane : 0;
  if (!Number.isInteger(width) || !Number.isInteger(height) || plane <= 0 || ![1, 3, 4].includes(channels)) {
    throw new GradsightError(
      'bad-argument',
      `deprocessImage needs a Cx${height}x${width} (CHW, C = 1, 3 or 4) array, got ${x.length} values`,
      {
        hint: 'Pass the input gradient of one image, channels first.',
        details: { width, height, length: x.length },
      },
    );
  }
  const n = x.length;
  const mean = f(sum(x) / n);
  const centred = new Float32Array(n);
  for (let i = 0; i < n; i++) centred[i] = x[i]! - mean; // Float32Array stores round, like NumPy's float32 op
  // std of the centred array, as NumPy computes it on `img` after the subtraction.
  const m2 = f(sum(centred) / n);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = f(centred[i]! - m2);
    ss += f(d * d);
  }
  const std = f(Math.sqrt(f(ss / n)));
  // `std + 1e-5` is a float64 scalar in NumPy 1.x; dividing the float32 array by it casts it to float32.
  const divisor = f(std + 1e-5);
  const tenth = f(0.1);
  const out = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    // A grayscale gradient's one plane is drawn on R, G and B alike.
    const from = channels === 1 ? 0 : c;
    for (let p = 0; p < plane; p++) {
      let v = f(f(f(centred[from * plane + p]! / divisor) * tenth) + 0.5);
      v = Math.min(1, Math.max(0, v)); // np.clip(x, 0, 1)
      out[3 * p + c] = Math.floor(f(v * 255));
    }
  }
  return rgbImage(width, height, out);
}

/**
 * Guided Grad-CAM: the Guided Backprop gradient (CHW) times the final Grad-CAM map at input resolution
 * (HW), broadcast over channels. No normalisation; display the result with `deprocessImage`.
 */
export function guidedGradCam(gb: Float32Array, cam: Float32Array): Float32Array {
  const plane = cam.length;
  if (plane === 0 || gb.length % plane !== 0) {
    throw new GradsightError(
      'bad-argument',
      `guidedGradCam: the gradient (${gb.length} values) is not a whole number of ${plane}-pixel map planes`,
      {
        hint: 'Upsample the CAM to the input size (H×W) and pass the CHW input gradient of the same image.',
        details: { gradientLength: gb.length, camLength: plane },
      },
    );
  }
  const out = new Float32Array(gb.length);
  for (let i = 0; i < gb.length; i++) out[i] = gb[i]! * cam[i % plane]!;
  return out;
}

function sum(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}
