// Masked inputs built inside ONNX Runtime: a small model of its own takes n maps [n, h, w] and one
// input row x [1, ...] and returns the n masked copies x ⊙ mask(map_i). The mask is the map upsampled
// to the input's H×W (bilinear, align corners: two MatMuls with the interpolation weights of
// image/upsample.ts, horizontal pass first as there) and, for Score-CAM, min-max normalised:
// (m − min)/(max − min + 1e-8), so a constant map gives the zero mask. No JS loop touches the
// n·C·H·W floats; only the n·h·w map values cross into the runtime.

import { create, toBinary } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import { Emitter, ONNX_FLOAT } from '../autodiff/emitter.ts';
import { resizeBilinearAlignCorners } from '../image/upsample.ts';
import { tensorValueInfo } from '../onnx/index.ts';
import type { Runtime, Session } from '../runtime/runtime.ts';
import type { Float32Tensor } from '../tensor/tensor.ts';

export interface MaskSpec {
  /** The maps' size [h, w]. */
  readonly from: readonly [number, number];
  /** The input row's dims without the batch axis, in the model's layout. */
  readonly row: readonly number[];
  readonly layout: 'NCHW' | 'NHWC';
  /** Min-max normalise each upsampled map (Score-CAM); else the map is the mask as it is. */
  readonly normalize: boolean;
}

const OPSET = 13;
const MAPS = 'maps';
const X = 'x';
const MASKED = 'masked';

/** [out, in] weights of the align-corners bilinear resize from `n` to `out` samples. */
function interpolation(n: number, out: number): Float32Array {
  const m = new Float32Array(out * n);
  const impulse = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    impulse.fill(0);
    impulse[j] = 1;
    const col = resizeBilinearAlignCorners({ width: n, height: 1, data: impulse }, out, 1).data;
    for (let i = 0; i < out; i++) m[i * n + j] = col[i]!;
  }
  return m;
}

/** The mask model's bytes: inputs `maps` [n, h, w] and `x` [1, ...row], output `masked` [n, ...row]. */
export function maskModelBytes(spec: MaskSpec): Uint8Array {
  const [h, w] = spec.from;
  const nchw = spec.layout === 'NCHW';
  const [H, W] = (nchw ? spec.row.slice(1, 3) : spec.row.slice(0, 2)) as [number, number];
  const e = new Emitter(OPSET, 'gradsight/mask');
  let up = MAPS;
  if (w !== W) {
    const rx = interpolation(w, W); // [W, w]
    const rxT = new Float32Array(w * W);
    for (let i = 0; i < W; i++) for (let j = 0; j < w; j++) rxT[j * W + i] = rx[i * w + j]!;
    up = e.matmul(up, e.constF(rxT, [w, W]));
  }
  if (h !== H) up = e.matmul(e.constF(interpolation(h, H), [H, h]), up);
  let mask = up;
  if (spec.normalize) {
    const reduce = (op: string) => e.op(op, [up], { axes: { ints: [1, 2] }, keepdims: { i: 1 } });
    const lo = reduce('ReduceMin');
    const hi = reduce('ReduceMax');
    mask = e.div(e.sub(up, lo), e.add(e.sub(hi, lo), e.scalar(1e-8)));
  }
  const masked = e.mul(e.reshape(mask, e.constI64(nchw ? [-1, 1, H, W] : [-1, H, W, 1])), X);
  const graph = create(GraphProtoSchema, {
    name: 'gradsight-mask',
    node: [...e.nodes, { opType: 'Identity', input: [masked], output: [MASKED], name: MASKED }],
    initializer: e.initializers,
    input: [tensorValueInfo(MAPS, ONNX_FLOAT, ['n', h, w]), tensorValueInfo(X, ONNX_FLOAT, [1, ...spec.row])],
    output: [tensorValueInfo(MASKED, ONNX_FLOAT, ['n', ...spec.row])],
  });
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, { irVersion: 8n, opsetImport: [{ domain: '', version: BigInt(OPSET) }], graph }),
  );
}

/**
 * A session of the mask model for one spec. It runs on one thread: its runs alternate with the
 * model's, and a second intra-op pool whose threads spin after each run takes the cores from the
 * model's pool (on 2 cores, Score-CAM took 1.2–1.9× its forwards' time with a 2-thread mask session
 * and 1.0–1.26× with this one; the masking is a few percent of the work).
 */
export class Masker {
  private constructor(
    readonly spec: MaskSpec,
    private readonly session: Session,
  ) {}

  static async create(runtime: Runtime, spec: MaskSpec): Promise<Masker> {
    return new Masker(spec, await runtime.createSession(maskModelBytes(spec), { threads: 1 }));
  }

  /** x [1, ...row] masked by each of the n maps [n, h, w]: [n, ...row]. */
  async apply(maps: Float32Tensor, x: Float32Tensor): Promise<Float32Tensor> {
    const out = await this.session.run({ [MAPS]: maps, [X]: x }, [MASKED]);
    return out[MASKED] as Float32Tensor;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
