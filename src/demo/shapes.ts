// The demo's object classes as point-in-shape tests in a unit-area frame, and their rasterization to a
// binary mask. Every shape has area 1 at size 1, so "size" means the same thing for every class and the
// larger object of an image is the one drawn with the larger size.

/** Class names, in output-index order (labels.txt). */
export const CLASSES = ['circle', 'square', 'triangle', 'cross'] as const;
export type ShapeClass = 0 | 1 | 2 | 3;

const SQRT3_2 = 0.8660254037844386;
const CIRCLE_R = 0.5641895835477563; // 1/√π: area 1
const TRI_IN_R = 0.4386913376508308; // inradius of the equilateral triangle of area 1 (side 1.5197)
const CROSS_LEN = 1.3638501094227997; // bar length L with bar width 0.32·L: 2·0.32·L² − (0.32·L)² = 1
const CROSS_HALF_W = 0.16 * CROSS_LEN;
const CROSS_HALF_L = 0.5 * CROSS_LEN;

/** Distance from the centre to the farthest point of each shape, at size 1. */
export const SHAPE_EXTENT: Readonly<Record<ShapeClass, number>> = {
  0: CIRCLE_R,
  1: Math.SQRT1_2,
  2: 2 * TRI_IN_R,
  3: Math.sqrt(CROSS_HALF_L * CROSS_HALF_L + CROSS_HALF_W * CROSS_HALF_W),
};

/** Whether (u, v), in the shape's own frame at size 1 (centred, unrotated), is inside the shape. */
export function insideShape(cls: ShapeClass, u: number, v: number): boolean {
  switch (cls) {
    case 0:
      return u * u + v * v <= CIRCLE_R * CIRCLE_R;
    case 1:
      return Math.abs(u) <= 0.5 && Math.abs(v) <= 0.5;
    case 2:
      // Three half-planes with outward normals (0, 1), (±√3/2, −1/2), each at the inradius.
      return v <= TRI_IN_R && SQRT3_2 * u - 0.5 * v <= TRI_IN_R && -SQRT3_2 * u - 0.5 * v <= TRI_IN_R;
    case 3: {
      const au = Math.abs(u);
      const av = Math.abs(v);
      return (au <= CROSS_HALF_W && av <= CROSS_HALF_L) || (av <= CROSS_HALF_W && au <= CROSS_HALF_L);
    }
  }
}

/** The corners of each polygon in its own frame at size 1 (the circle has none; the cross's inner four
 * corners never bound it). */
const CORNERS: Readonly<Record<1 | 2 | 3, readonly (readonly [number, number])[]>> = {
  1: [
    [-0.5, -0.5],
    [0.5, -0.5],
    [0.5, 0.5],
    [-0.5, 0.5],
  ],
  2: [
    [-2 * SQRT3_2 * TRI_IN_R, TRI_IN_R],
    [2 * SQRT3_2 * TRI_IN_R, TRI_IN_R],
    [0, -2 * TRI_IN_R],
  ],
  3: [-1, 1].flatMap((a) =>
    [-1, 1].flatMap((b): [number, number][] => [
      [a * CROSS_HALF_W, b * CROSS_HALF_L],
      [a * CROSS_HALF_L, b * CROSS_HALF_W],
    ]),
  ),
};

/** Offsets from the centre, in pixels per unit of size, of a shape's bounding box under a rotation. */
export interface ShapeBounds {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/**
 * The exact (continuous) box of a shape at size 1 rotated by `rot`: the extreme corners, mapped from the
 * shape's frame to pixels by the inverse of rasterize's rotation (dx = c·u − s·v, dy = s·u + c·v).
 */
export function shapeBounds(cls: ShapeClass, rot: readonly [number, number]): ShapeBounds {
  if (cls === 0) return { left: -CIRCLE_R, right: CIRCLE_R, top: -CIRCLE_R, bottom: CIRCLE_R };
  const [c, s] = rot;
  let left = Infinity;
  let right = -Infinity;
  let top = Infinity;
  let bottom = -Infinity;
  for (const [u, v] of CORNERS[cls]) {
    const dx = c * u - s * v;
    const dy = s * u + c * v;
    left = Math.min(left, dx);
    right = Math.max(right, dx);
    top = Math.min(top, dy);
    bottom = Math.max(bottom, dy);
  }
  return { left, right, top, bottom };
}

export interface Placement {
  readonly cls: ShapeClass;
  /** Centre in pixel coordinates (pixel (x, y) covers [x, x+1) × [y, y+1)). */
  readonly cx: number;
  readonly cy: number;
  /** Side of the unit-area frame in pixels: the shape's area is size² pixels. */
  readonly size: number;
  /** Rotation as a unit vector (cos θ, sin θ). */
  readonly rot: readonly [number, number];
}

/** Box with inclusive pixel coordinates. */
export interface Box {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/** Rasterizes a placed shape by sampling pixel centres: a width×height 0/1 mask and its tight box. */
export function rasterize(p: Placement, width: number, height: number): { mask: Uint8Array; box: Box } {
  const mask = new Uint8Array(width * height);
  const reach = SHAPE_EXTENT[p.cls] * p.size + 1;
  const [c, s] = p.rot;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  const ys = Math.max(0, Math.floor(p.cy - reach));
  const ye = Math.min(height - 1, Math.ceil(p.cy + reach));
  const xs = Math.max(0, Math.floor(p.cx - reach));
  const xe = Math.min(width - 1, Math.ceil(p.cx + reach));
  for (let y = ys; y <= ye; y++) {
    const dy = y + 0.5 - p.cy;
    for (let x = xs; x <= xe; x++) {
      const dx = x + 0.5 - p.cx;
      // Rotate the pixel back into the shape's frame, then scale to size 1.
      const u = (c * dx + s * dy) / p.size;
      const v = (-s * dx + c * dy) / p.size;
      if (!insideShape(p.cls, u, v)) continue;
      mask[y * width + x] = 1;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return { mask, box: { x0, y0, x1, y1 } };
}
