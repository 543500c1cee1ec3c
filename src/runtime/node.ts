// Runtime on onnxruntime-node (CPU execution provider).

import * as ort from 'onnxruntime-node';
import { GradsightError } from '../errors.ts';
import { needsOffsetRewrite, withPackedOffsets } from '../onnx/external-bytes.ts';
import type { DType, Tensor, TypedArray } from '../tensor/tensor.ts';
import type { Runtime, Session, SessionOptions, ValueMetadata } from './runtime.ts';

export const nodeRuntime: Runtime = {
  name: 'onnxruntime-node',
  async createSession(model: Uint8Array, options: SessionOptions = {}): Promise<Session> {
    // ORT's own log lines (warnings, and errors it then also throws) would print before gradsight's
    // typed error: only fatal ones are let through, at the environment (read once, at the first
    // session), the session and each run.
    ort.env.logLevel = 'fatal';
    const opts: ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: options.optimization ?? 'all',
      logSeverityLevel: 4,
    };
    if (options.threads !== undefined && options.threads > 0) opts.intraOpNumThreads = options.threads;
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
      session = await ort.InferenceSession.create(bytes, opts);
    } catch (e) {
      throw new GradsightError('model-invalid', `ONNX Runtime cannot load the model: ${firstLine(e)}`, {
        hint: 'check that the file is a valid ONNX model (opset 11 to 21) that ONNX Runtime 1.30 can run',
        cause: e,
      });
    }
    return wrap(session);
  },
};

function wrap(session: ort.InferenceSession): Session {
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
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(t);
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

function toOrt(t: Tensor): ort.Tensor {
  if (t.dtype === 'string' || t.dtype === 'float16' || t.dtype === 'bfloat16') {
    throw new GradsightError('unsupported-dtype', `cannot feed a ${t.dtype} tensor`);
  }
  return new ort.Tensor(t.dtype as ort.Tensor.Type, t.data as ort.Tensor.DataType, [...t.dims]);
}

function fromOrt(t: ort.Tensor): Tensor {
  const dtype = t.type as DType;
  if (dtype === 'string') throw new GradsightError('unsupported-dtype', 'the model returned a string tensor');
  return { dtype, dims: [...t.dims], data: t.data as TypedArray };
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 500);
}
