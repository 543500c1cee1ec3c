// Bytes <-> Model. Decoding classifies bad input with typed errors ('not-onnx', 'model-corrupt',
// 'model-invalid') and never lets a raw protobuf exception escape. Encoding re-serialises the kept
// ModelProto, which protobuf-es does byte-identically (unknown fields included).

import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { type ModelProto, ModelProtoSchema } from 'onnx-buf';
import { GradsightError } from '../errors.ts';
import { type ExternalResolver, modelFromProto } from './from-proto.ts';
import type { Model } from './ir.ts';
import { describeNonOnnx, scanModelFields } from './sniff.ts';

const corruptHint = 'the file is truncated or damaged; download/export it again';
const notOnnxHint =
  'pass an .onnx model file (export PyTorch models with torch.onnx.export, TensorFlow with tf2onnx)';

export interface DecodeOptions {
  /** Supplies external-data files so that Initializer.values() works for external tensors. */
  readonly external?: ExternalResolver;
}

export function decodeModel(bytes: Uint8Array, options: DecodeOptions = {}): Model {
  return modelFromProto(decodeModelProto(bytes), options.external);
}

/** The raw protobuf decode with the same error classification, for callers that need only the proto. */
export function decodeModelProto(bytes: Uint8Array): ModelProto {
  if (bytes.byteLength === 0)
    throw new GradsightError('not-onnx', 'the file is empty', { hint: notOnnxHint });
  const looksLike = describeNonOnnx(bytes);
  if (looksLike) {
    throw new GradsightError('not-onnx', `this is not an ONNX model: it looks like ${looksLike}`, {
      hint: notOnnxHint,
      details: { looksLike },
    });
  }
  const scan = scanModelFields(bytes);
  const notProto = () =>
    new GradsightError('not-onnx', 'this is not an ONNX model: the bytes are not a protobuf ModelProto', {
      hint: notOnnxHint,
    });
  const corrupt = (cause?: unknown) =>
    new GradsightError(
      'model-corrupt',
      'the ONNX model cannot be decoded: its protobuf data ends or breaks early',
      {
        hint: corruptHint,
        cause,
      },
    );
  if (!scan.startsLikeModel) throw notProto();
  if (scan.truncated) throw scan.irVersion ? corrupt() : notProto();

  let proto: ModelProto;
  try {
    proto = fromBinary(ModelProtoSchema, bytes);
  } catch (e) {
    throw scan.irVersion ? corrupt(e) : notProto();
  }
  if (proto.irVersion === 0n || proto.irVersion > 64n) {
    // Random bytes sometimes parse as a protobuf; without a sane ir_version it is not a model.
    throw notProto();
  }
  if (!proto.graph) {
    throw new GradsightError('model-invalid', `the ONNX model (IR version ${proto.irVersion}) has no graph`, {
      hint: 'export the inference model again; this file holds no computation graph',
    });
  }
  return proto;
}

export function encodeModel(model: Model | ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, 'proto' in model ? model.proto : model);
}
