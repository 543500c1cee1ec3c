// MatMul (numpy matmul: 1-D operands are promoted then squeezed, batch dims broadcast) and Gemm.

import { getInt } from '../attributes.ts';
import type { Dim } from '../ir.ts';
import { broadcastShapes } from './dims.ts';
import type { RuleTable } from './types.ts';

export const matmulRules: RuleTable = {
  MatMul: (ctx) => {
    const a = ctx.input(0);
    const b = ctx.input(1)?.shape;
    if (!a?.shape || !b || a.shape.length === 0 || b.length === 0)
      return [{ dtype: a?.dtype, shape: undefined }];
    const a2 = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
    const b2 = b.length === 1 ? [b[0]!, 1] : b;
    const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)]);
    if (!batch) return [{ dtype: a.dtype, shape: undefined }];
    const out: Dim[] = [...batch];
    if (a.shape.length > 1) out.push(a2[a2.length - 2]!);
    if (b.length > 1) out.push(b2[b2.length - 1]!);
    return [{ dtype: a.dtype, shape: out }];
  },
  Gemm: (ctx) => {
    const a = ctx.input(0);
    const b = ctx.input(1)?.shape;
    if (!a?.shape || !b || a.shape.length !== 2 || b.length !== 2)
      return [{ dtype: a?.dtype, shape: undefined }];
    const m = getInt(ctx.node, 'transA', 0) ? a.shape[1]! : a.shape[0]!;
    const n = getInt(ctx.node, 'transB', 0) ? b[0]! : b[1]!;
    return [{ dtype: a.dtype, shape: [m, n] }];
  },
};
