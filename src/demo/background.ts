// Cluttered backgrounds for the demo dataset: a colour gradient, smooth value noise, optional stripes and
// distractors (elongated ellipses, strokes, dots) that share colours with the objects but none of their
// shapes, so a model must learn shape, not colour or "something is there". Paints into a float RGB
// buffer (HWC, 0–255) that the dataset later quantizes.

import type { Rng } from './prng.ts';

export type FloatRgb = Float32Array;

function randomColor(rng: Rng, lo: number, hi: number): [number, number, number] {
  return [rng.uniform(lo, hi), rng.uniform(lo, hi), rng.uniform(lo, hi)];
}

/** Triangle wave with period 1 in [−1, 1]: stripes without Math.sin (whose last bit varies by engine). */
function triangleWave(t: number): number {
  const f = t - Math.floor(t);
  return 4 * Math.abs(f - 0.5) - 1;
}

/** Gradient, value noise and (60% of the time) stripes. */
function paintTexture(rng: Rng, buf: FloatRgb, w: number, h: number): void {
  const c0 = randomColor(rng, 30, 225);
  const c1 = randomColor(rng, 30, 225);
  const [gx, gy] = rng.direction();
  const span = 0.75 * Math.max(w, h);

  const cells = rng.int(3, 8);
  const amp = rng.uniform(10, 45);
  const nodes = new Float32Array((cells + 1) * (cells + 1) * 3);
  for (let i = 0; i < nodes.length; i++) nodes[i] = amp * (2 * rng.next() - 1);

  const striped = rng.chance(0.6);
  const [sx, sy] = rng.direction();
  const period = rng.uniform(5, 16);
  const stripeAmp = striped ? rng.uniform(8, 35) : 0;
  const tint = randomColor(rng, 0.3, 1);

  for (let y = 0; y < h; y++) {
    const gyc = y + 0.5 - h / 2;
    const ny = ((y + 0.5) / h) * cells;
    const iy = Math.min(cells - 1, Math.floor(ny));
    const fy = ny - iy;
    for (let x = 0; x < w; x++) {
      const gxc = x + 0.5 - w / 2;
      const t = Math.min(1, Math.max(0, (gxc * gx + gyc * gy) / span + 0.5));
      const nx = ((x + 0.5) / w) * cells;
      const ix = Math.min(cells - 1, Math.floor(nx));
      const fx = nx - ix;
      const stripe = stripeAmp * triangleWave((x * sx + y * sy) / period);
      const o = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) {
        const n00 = nodes[(iy * (cells + 1) + ix) * 3 + c]!;
        const n01 = nodes[(iy * (cells + 1) + ix + 1) * 3 + c]!;
        const n10 = nodes[((iy + 1) * (cells + 1) + ix) * 3 + c]!;
        const n11 = nodes[((iy + 1) * (cells + 1) + ix + 1) * 3 + c]!;
        const noise = (1 - fy) * ((1 - fx) * n00 + fx * n01) + fy * ((1 - fx) * n10 + fx * n11);
        buf[o + c] = c0[c]! + t * (c1[c]! - c0[c]!) + noise + stripe * tint[c]!;
      }
    }
  }
}

type Inside = (dx: number, dy: number) => boolean;

/** One distractor: a shape no class uses (too elongated, too thin or too small), in any colour. */
function distractor(rng: Rng): { reach: number; inside: Inside } {
  const kind = rng.int(0, 2);
  const [c, s] = rng.direction();
  if (kind === 0) {
    // Ellipse with aspect 2.5–5: never mistaken for a circle.
    const a = rng.uniform(5, 14);
    const b = a / rng.uniform(2.5, 5);
    return {
      reach: a,
      inside: (dx, dy) => {
        const u = (c * dx + s * dy) / a;
        const v = (-s * dx + c * dy) / b;
        return u * u + v * v <= 1;
      },
    };
  }
  if (kind === 1) {
    // Stroke: a segment of half-length hl and half-width hw.
    const hl = rng.uniform(6, 20);
    const hw = rng.uniform(0.6, 1.6);
    return {
      reach: hl + hw,
      inside: (dx, dy) => {
        const u = c * dx + s * dy;
        const v = -s * dx + c * dy;
        const du = Math.max(0, Math.abs(u) - hl);
        return du * du + v * v <= hw * hw;
      },
    };
  }
  const r = rng.uniform(1.2, 3);
  return { reach: r, inside: (dx, dy) => dx * dx + dy * dy <= r * r };
}

/** Paints 3–7 distractors. */
function paintDistractors(rng: Rng, buf: FloatRgb, w: number, h: number): void {
  const count = rng.int(3, 7);
  for (let k = 0; k < count; k++) {
    const d = distractor(rng);
    const cx = rng.uniform(0, w);
    const cy = rng.uniform(0, h);
    const color = randomColor(rng, 0, 255);
    const ys = Math.max(0, Math.floor(cy - d.reach - 1));
    const ye = Math.min(h - 1, Math.ceil(cy + d.reach + 1));
    const xs = Math.max(0, Math.floor(cx - d.reach - 1));
    const xe = Math.min(w - 1, Math.ceil(cx + d.reach + 1));
    for (let y = ys; y <= ye; y++) {
      for (let x = xs; x <= xe; x++) {
        if (!d.inside(x + 0.5 - cx, y + 0.5 - cy)) continue;
        const o = (y * w + x) * 3;
        buf[o] = color[0];
        buf[o + 1] = color[1];
        buf[o + 2] = color[2];
      }
    }
  }
}

/** A w×h cluttered background. */
export function paintBackground(rng: Rng, w: number, h: number): FloatRgb {
  const buf = new Float32Array(w * h * 3);
  paintTexture(rng, buf, w, h);
  paintDistractors(rng, buf, w, h);
  return buf;
}
