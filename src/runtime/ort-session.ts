// What the Node and web runtimes share: both builds of ONNX Runtime expose onnxruntime-common's API
// (InferenceSession, Tensor), so the session wrapper, the tensor conversions and the typed errors are
// written once here against that API, with the build passed in.

import type * as ort from 'onnxruntime-common';
import { GradsightError } from '../errors.ts';
import { needsOffsetRewrite, withPackedOffsets } from '../onnx/external-bytes.ts';
import type { DType, Tensor, TypedArray } from '../tensor/tensor.ts';
import type { Session, SessionOptions, ValueMetadata } from './runtime.ts';

/** The part of an ONNX Runtime build gradsight uses. */
export interface OrtBuild {
  readonly InferenceSession: typeof ort.InferenceSession;
  readonly Tensor: typeof ort.Tensor;
}

/** Creates a session of `build` with the execution providers given; load failures become typed errors. */
export async function createOrtSession(
  build: OrtBuild,
  model: Uint8Array,
  options: SessionOptions,
  base: ort.InferenceSession.SessionOptions,
): Promise<Session> {
  const opts: ort.InferenceSession.SessionOptions = {
    ...base,
    graphOptimizationLevel: options.optimization ?? 'all',
    logSeverityLevel: 4,
  };
  let bytes = model;
  if (options.externalData?.length) {
    opts.externalData = options.externalData.map((f) => ({ path: f.path, data: f.data }));
    // Packed ranges (only the used bytes were read): the model's offsets must point into them.
    if (needsOffsetRewrite(options.externalData)) {
      bytes = withPackedOffsets(model, new Map(options.externalData.map((f) => [f.path, f])));
    }
  }
  let session: ort.InferenceSession;
  try {
    session = await build.InferenceSession.create(bytes, opts);
  } catch (e) {
    throw new GradsightError('model-invalid', `ONNX Runtime cannot load the model: ${firstLine(e)}`, {
      hint: 'check that the file is a valid ONNX model (opset 11 to 21) that ONNX Runtime 1.30 can run',
      cause: e,
    });
  }
  return wrap(build, session);
}

function wrap(build: OrtBuild, session: ort.InferenceSession): Session {
  const meta = (m: readonly ort.InferenceSession.ValueMetadata[]): ValueMetadata[] =>
    m.map((v) => ({
      name: v.name,
      dtype: v.isTensor ? String(v.type) : 'non-tensor',
      shape: v.isTensor ? v.shape.map((d) => (typeof d === 'number' ? d : String(d))) : [],
    }));
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputs: meta(session.inputMetadata),
    outputs: meta(session.outputMetadata),
    async run(feeds, fetches) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(build, t);
      let out: ort.InferenceSession.ReturnType;
      try {
        out = fetches
          ? await session.run(ortFeeds, [...fetches], QUIET_RUN)
          : await session.run(ortFeeds, QUIET_RUN);
      } catch (e) {
        throw new GradsightError('runtime-error', `ONNX Runtime failed to run the model: ${firstLine(e)}`, {
          hint: 'check the input shape and dtype against `gradsight inspect <model>`',
          cause: e,
        });
      }
      const result: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(out)) result[name] = fromOrt(t);
      return result;
    },
    release: () => session.release(),
  };
}

const QUIET_RUN: ort.InferenceSession.RunOptions = { logSeverityLevel: 4 };

function toOrt(build: OrtBuild, t: Tensor): ort.Tensor {
  if (t.dtype === 'string' || t.dtype === 'float16' || t.dtype === 'bfloat16') {
    throw new GradsightError('unsupported-dtype', `cannot feed a ${t.dtype} tensor`);
  }
  return new build.Tensor(t.dtype as ort.Tensor.Type, t.data as ort.Tensor.DataType, [...t.dims]);
}

function fromOrt(t: ort.Tensor): Tensor {
  const dtype = t.type as DType;
  if (dtype === 'string') throw new GradsightError('unsupported-dtype', 'the model returned a string tensor');
  // A GPU-resident output (WebGPU with preferred output location) is read back by getData; the
  // sessions here keep outputs on the CPU, where `data` is the array itself.
  return { dtype, dims: [...t.dims], data: t.data as TypedArray };
}

export function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 500);
}
