// Bias identification (the Grad-CAM paper §6.3: a model that looks at the wrong cue): the share of a
// map's mass inside a given region (a watermark, a caption, a border: a mask or box per image, or one
// region fixed in relative coordinates), aggregated per method and class. A class is flagged when its
// mean share is at least `minConcentration` times the region's mean area share, what a map spread
// evenly over the image would put there.

import { GradsightError } from '../../errors.ts';
import {
  type Box,
  boxesToMask,
  checkMap,
  checkSize,
  count,
  positiveMass,
  type RelativeBox,
  relativeBoxAt,
} from './regions.ts';

/** Flag at 5× the region's area share (the demo's biased model: 7.5×; its clean model: 0.02×). */
export const MIN_CONCENTRATION = 5;

/** Share of the map's positive mass inside `mask`: Σ_{mask} L⁺ / Σ L⁺ (0 when the map has no positive mass). */
export function massInside(map: Float32Array, mask: Uint8Array): number {
  const { inside, total } = positiveMass(map, mask);
  return total > 0 ? inside / total : 0;
}

/** A region: a binary mask at the image size, a box, or a box in fractions of the width and height. */
export type BiasRegion =
  | { readonly mask: Uint8Array }
  | { readonly box: Box }
  | { readonly relative: RelativeBox };

/** The region as a binary mask of a width × height image. */
export function regionMask(region: BiasRegion, width: number, height: number): Uint8Array {
  if ('mask' in region) {
    checkSize(region.mask, width, height, 'bias region mask');
    return region.mask;
  }
  const box = 'box' in region ? region.box : relativeBoxAt(region.relative, width, height);
  return boxesToMask([box], width, height);
}

export interface BiasRecord {
  /** Σ_{region} L⁺ / Σ L⁺. */
  readonly share: number;
  /** |region| / (W·H): the share a uniform map would give. */
  readonly area: number;
}

/** One image's bias record. */
export function biasRecord(map: Float32Array, width: number, height: number, region: BiasRegion): BiasRecord {
  checkMap(map, width, height, 'map');
  const mask = regionMask(region, width, height);
  return { share: massInside(map, mask), area: count(mask) / (width * height) };
}

export interface BiasRow {
  readonly method: string;
  readonly label: string;
  readonly images: number;
  /** Mean share over the class's images. */
  readonly share: number;
  /** Mean area share of the region over the same images. */
  readonly area: number;
  /** share / area (1 = as much as a uniform map; Infinity for an empty region with mass). */
  readonly concentration: number;
  readonly flagged: boolean;
}

/**
 * Per (method, class): share = mean share_i, area = mean area_i, concentration = share / area, flagged ⇔
 * concentration ≥ minConcentration and share > 0. Rows sorted by method then by concentration, highest first.
 */
export function biasByClass(
  records: Iterable<BiasRecord & { readonly method: string; readonly label: string }>,
  minConcentration = MIN_CONCENTRATION,
): BiasRow[] {
  if (!(minConcentration > 0))
    throw new GradsightError('bad-argument', `bias flag threshold ${minConcentration} is not positive`, {
      hint: 'pass a concentration such as 5 (five times the share a uniform map gives)',
    });
  const groups = new Map<string, { method: string; label: string; n: number; share: number; area: number }>();
  for (const r of records) {
    const key = JSON.stringify([r.method, r.label]);
    const g = groups.get(key) ?? { method: r.method, label: r.label, n: 0, share: 0, area: 0 };
    g.n++;
    g.share += r.share;
    g.area += r.area;
    groups.set(key, g);
  }
  const rows = [...groups.values()].map((g): BiasRow => {
    const share = g.share / g.n;
    const area = g.area / g.n;
    const concentration = area > 0 ? share / area : share > 0 ? Number.POSITIVE_INFINITY : 0;
    return {
      method: g.method,
      label: g.label,
      images: g.n,
      share,
      area,
      concentration,
      flagged: share > 0 && concentration >= minConcentration,
    };
  });
  return rows.sort((a, b) =>
    a.method === b.method ? b.concentration - a.concentration : a.method < b.method ? -1 : 1,
  );
}
