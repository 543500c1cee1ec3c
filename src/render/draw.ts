// Drawing into RGB images: a detection's box with its label, burnt into the overlay PNG so the file
// shows what was explained on its own. Platform-neutral. The HTML report draws the same box as SVG
// over an undrawn overlay instead (report/html.ts), with the same colour.
//
// Geometry: a box has continuous pixel-edge coordinates (detect/types.ts); it covers the pixels whose
// centres lie inside it. The coloured line (`unit` pixels wide) runs along the covered pixels' border,
// inward; a dark rim of `unit` pixels lies just outside it, so the line shows on any colormap.

import { GradsightError } from '../errors.ts';
import type { Box } from '../eval/localization.ts';
import { type RgbImage, rgbImage } from '../image/rgb-image.ts';
import { ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph, textWidth } from './font.ts';

/** Box colours by class index (`classIndex mod 8`): saturated, and distinct from each other. */
export const DETECTION_COLORS: readonly string[] = [
  '#ff3df0',
  '#00e5ff',
  '#ffffff',
  '#b4ff00',
  '#ffb000',
  '#ff4d4d',
  '#9d7bff',
  '#00ff9c',
];

const RIM: Rgb = [17, 17, 17];

type Rgb = readonly [number, number, number];

export function detectionColor(classIndex: number): string {
  const n = DETECTION_COLORS.length;
  return DETECTION_COLORS[((Math.trunc(classIndex) % n) + n) % n]!;
}

/** Line width in pixels for an image: 1 up to ~384 px on the short side, then growing with it. */
export function lineUnit(width: number, height: number): number {
  return Math.max(1, Math.round(Math.min(width, height) / 256));
}

/** The inclusive pixel box (columns x0..x1, rows y0..y1) a continuous box covers, clipped, ≥ 1 pixel. */
export function coveredPixels(box: Box, width: number, height: number): Box {
  const lo = (v: number, n: number) => Math.min(n - 1, Math.max(0, Math.ceil(v - 0.5)));
  const hi = (v: number, n: number) => Math.min(n - 1, Math.max(0, Math.floor(v - 0.5)));
  const x0 = lo(box.x0, width);
  const y0 = lo(box.y0, height);
  return { x0, y0, x1: Math.max(x0, hi(box.x1, width)), y1: Math.max(y0, hi(box.y1, height)) };
}

export interface LabeledBox {
  /** Continuous edges in the image's pixels. */
  readonly box: Box;
  /** e.g. "kite 0.87"; drawn in a tag of the box's colour above its top-left corner (inside when no room). */
  readonly text: string;
  /** '#rrggbb'. */
  readonly color: string;
}

/** A copy of `img` with the box and its label drawn. */
export function drawLabeledBox(img: RgbImage, b: LabeledBox): RgbImage {
  const out = rgbImage(img.width, img.height, new Uint8Array(img.data));
  const { width: w, height: h } = out;
  const u = lineUnit(w, h);
  const color = parseHex(b.color);
  const p = coveredPixels(b.box, w, h);
  // Rim first (outside), then the coloured line (inside), then the tag.
  strokeRect(out, p.x0 - u, p.y0 - u, p.x1 + u, p.y1 + u, u, RIM);
  strokeRect(out, p.x0, p.y0, p.x1, p.y1, u, color);
  const tagW = (textWidth(b.text) + 2) * u;
  const tagH = (GLYPH_HEIGHT + 1) * u;
  const left = Math.max(0, Math.min(w - tagW, p.x0 - u));
  const top = p.y0 - u - tagH >= 0 ? p.y0 - u - tagH : p.y0;
  fillRect(out, left, top, left + tagW - 1, top + tagH - 1, color);
  const ink: Rgb = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2] > 140 ? RIM : [255, 255, 255];
  drawText(out, b.text, left + u, top + u, u, ink);
  return out;
}

/** Draws `text` with its top-left at (x, y), each font pixel a `scale`×`scale` square; clipped. */
export function drawText(img: RgbImage, text: string, x: number, y: number, scale: number, rgb: Rgb): void {
  let cx = x;
  for (const ch of text) {
    const rows = glyph(ch);
    for (let r = 0; r < GLYPH_HEIGHT; r++) {
      for (let c = 0; c < GLYPH_WIDTH; c++) {
        if ((rows[r]! >> (GLYPH_WIDTH - 1 - c)) & 1) {
          const px = cx + c * scale;
          const py = y + r * scale;
          fillRect(img, px, py, px + scale - 1, py + scale - 1, rgb);
        }
      }
    }
    cx += ADVANCE * scale;
  }
}

/** The outline of the inclusive rectangle x0..x1 × y0..y1, `t` pixels thick inward; clipped. */
function strokeRect(img: RgbImage, x0: number, y0: number, x1: number, y1: number, t: number, rgb: Rgb) {
  fillRect(img, x0, y0, x1, Math.min(y1, y0 + t - 1), rgb);
  fillRect(img, x0, Math.max(y0, y1 - t + 1), x1, y1, rgb);
  fillRect(img, x0, y0, Math.min(x1, x0 + t - 1), y1, rgb);
  fillRect(img, Math.max(x0, x1 - t + 1), y0, x1, y1, rgb);
}

function fillRect(img: RgbImage, x0: number, y0: number, x1: number, y1: number, rgb: Rgb) {
  const xa = Math.max(0, x0);
  const xb = Math.min(img.width - 1, x1);
  for (let y = Math.max(0, y0); y <= Math.min(img.height - 1, y1); y++) {
    for (let x = xa; x <= xb; x++) {
      const i = (y * img.width + x) * 3;
      img.data[i] = rgb[0];
      img.data[i + 1] = rgb[1];
      img.data[i + 2] = rgb[2];
    }
  }
}

function parseHex(hex: string): Rgb {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) {
    throw new GradsightError('bad-argument', `box colour must be '#rrggbb', got ${JSON.stringify(hex)}`, {
      hint: "for example '#ff3df0' (detectionColor gives one per class)",
    });
  }
  return [Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16), Number.parseInt(m[3]!, 16)];
}
