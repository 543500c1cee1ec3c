// Resize (opset 11+: X, roi, scales, sizes; opset 18 adds `axes`). Output = sizes when given, else
// floor(dim * scale). With keep_aspect_ratio_policy other than 'stretch' the sizes are only upper
// bounds, so the result is left unknown rather than guessed.

import { getInts, getString, hasAttr } from '../attributes.ts';
import type { Dim } from '../ir.ts';
import { axis, known, numbers } from './dims.ts';
import type { RuleTable } from './types.ts';

export const resizeRules: RuleTable = {
  Resize: (ctx) => {
    const x = ctx.input(0);
    const s = x?.shape;
    const unknown = [{ dtype: x?.dtype, shape: undefined }];
    if (!s) return unknown;
    const axes = hasAttr(ctx.node, 'axes')
      ? getInts(ctx.node, 'axes').map((a) => axis(a, s.length))
      : [...s.keys()];
    const sizes = ctx.inputCount > 3 && ctx.input(3) ? ctx.value(3) : undefined;
    const scales = ctx.input(2) && ctx.input(2)?.shape?.[0] !== 0 ? numbers(ctx.value(2)) : undefined;
    const shape: Dim[] = [...s];
    if (sizes && sizes.length > 0) {
      if (getString(ctx.node, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') return unknown;
      axes.forEach((a, i) => {
        shape[a] = sizes[i] ?? null;
      });
      return [{ dtype: x?.dtype, shape }];
    }
    if (!scales) return unknown;
    axes.forEach((a, i) => {
      const d = s[a];
      const scale = scales[i]!;
      shape[a] = scale === 1 ? (d ?? null) : known(d) ? Math.floor(d * scale) : null;
    });
    return [{ dtype: x?.dtype, shape }];
  },
};
