// FastestDet's dense grid (dog-qiuqiu/FastestDet): output [N, 5 + C, H, W], one prediction per cell.
// Channel 0 is the objectness (a sigmoid in the graph), 1–2 the centre offset, 3–4 the box size, 5…
// the class scores (a softmax in the graph). Score = obj^0.6 · cls^0.4 (the authors' decode).

import type { Emitter } from '../autodiff/emitter.ts';
import type { Shape } from '../onnx/index.ts';
import type { TargetHead } from '../targets/head.ts';
import { argmaxStrided, OK, requireFit, requireRow, showShape, unfit } from './fit.ts';
import type { Decoder, Detection } from './types.ts';

const OBJ_POWER = 0.6;
const CLS_POWER = 0.4;
/**
 * Added before each power so that d/dx x^p stays finite where a score underflowed to 0 (otherwise
 * 0·∞ = NaN would spread from cells nobody explains); it leaves every float32 score above 1e-23 unchanged.
 */
const TINY = 1e-30;

const describe =
  '[N, 5 + classes, H, W]: objectness, centre offset (2), box size (2), class scores per cell (FastestDet)';

function fits(shape: Shape): ReturnType<Decoder['fits']> {
  if (shape.length !== 4)
    return unfit(`a FastestDet grid is 4-D [N, 5 + classes, H, W], not ${showShape(shape)}`);
  const c = shape[1];
  if (typeof c !== 'number') return unfit('its channel axis (5 + classes) has no static size');
  if (c < 6) return unfit(`${c} channels leave no class scores (5 + classes needed)`);
  return OK;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

const head: TargetHead = {
  key: 'detect/fastestdet',
  description: 'obj^0.6·cls^0.4 (FastestDet)',
  build(e: Emitter, x: string, xShape: Shape): string {
    requireFit(fastestdet, xShape);
    const channels = xShape[1] as number;
    const tiny = e.scalar(TINY);
    const power = (t: string, p: number) => e.op('Pow', [e.add(t, tiny), e.scalar(p)]);
    const obj = e.slice(x, [0], [1], [1]); // [N, 1, H, W], broadcast over the classes
    const cls = e.slice(x, [5], [channels], [1]); // [N, C, H, W]
    return e.mul(power(obj, OBJ_POWER), power(cls, CLS_POWER));
  },
};

export const fastestdet: Decoder = {
  id: 'fastestdet',
  describe,
  fits,
  classes: (shape) => (shape[1] as number) - 5,
  scoreDims: ([c, h, w]) => [c! - 5, h!, w!],
  decode(row, rowDims, [inputH, inputW], { scoreThreshold }) {
    requireRow(fastestdet, row.length, rowDims);
    const [channels, gh, gw] = rowDims as [number, number, number];
    const plane = gh * gw;
    const out: Detection[] = [];
    for (let h = 0; h < gh; h++) {
      for (let w = 0; w < gw; w++) {
        const p = h * gw + w;
        const obj = row[p]!;
        const best = argmaxStrided(row, 5 * plane + p, plane, channels - 5);
        const score = obj ** OBJ_POWER * best.value ** CLS_POWER;
        if (!(score >= scoreThreshold)) continue;
        const cx = ((w + Math.tanh(row[plane + p]!)) / gw) * inputW;
        const cy = ((h + Math.tanh(row[2 * plane + p]!)) / gh) * inputH;
        const bw = sigmoid(row[3 * plane + p]!) * inputW;
        const bh = sigmoid(row[4 * plane + p]!) * inputH;
        out.push({
          box: { x0: cx - bw / 2, y0: cy - bh / 2, x1: cx + bw / 2, y1: cy + bh / 2 },
          classIndex: best.index,
          score,
          cell: best.index * plane + p,
        });
      }
    }
    return out;
  },
  head,
};
