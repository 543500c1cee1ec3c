// Bytes <-> Model. Decoding classifies bad input with typed errors ('not-onnx', 'model-corrupt',
// 'model-invalid') and never lets a raw protobuf exception escape. Encoding re-serialises the kept
// ModelProto, which protobuf-es does byte-identically (unknown fields included).

import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { type ModelProto, ModelProtoSchema } from 'onnx-buf';
import { GradsightError } from '../errors.ts';
import { type ExternalResolver, modelFromProto } from './from-proto.ts';
import { checkGraphNames } from './graph-check.ts';
import type { Model } from './ir.ts';
import { describeNonOnnx, scanModelFields, subgraphDepth } from './sniff.ts';

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
    if (e instanceof Error && e.message.includes('maximum recursion depth')) throw tooDeep(bytes, e);
    throw scan.irVersion ? corrupt(e) : notProto();
  }
  if (proto.irVersion < 1n || proto.irVersion > 64n) {
    // Random bytes sometimes parse as a protobuf; without a sane ir_version and a graph it is not a model.
    if (!proto.graph?.node.length) throw notProto();
    throw new GradsightError(
      'model-invalid',
      `the ONNX model declares IR version ${proto.irVersion}; valid versions are 1 to 64`,
      { hint: corruptHint, details: { irVersion: String(proto.irVersion) } },
    );
  }
  if (!proto.graph) {
    throw new GradsightError('model-invalid', `the ONNX model (IR version ${proto.irVersion}) has no graph`, {
      hint: 'export the inference model again; this file holds no computation graph',
    });
  }
  checkGraphNames(proto.graph);
  return proto;
}

/** Protobuf decoders (ONNX Runtime's too) stop at 100 nested messages: name the nesting that got there. */
function tooDeep(bytes: Uint8Array, cause: Error): GradsightError {
  const depth = subgraphDepth(bytes);
  const message =
    depth > 1
      ? `the ONNX model nests subgraphs ${depth} levels deep (If/Loop/Scan bodies inside each other): deeper than the ${SUBGRAPH_LIMIT} levels that protobuf decoders, ONNX Runtime's included, can read`
      : `the ONNX model nests protobuf messages (types inside types) deeper than the ${RECURSION_LIMIT} levels that protobuf decoders, ONNX Runtime's included, can read`;
  return new GradsightError('model-invalid', message, {
    hint:
      depth > 1
        ? `flatten the control flow to at most ${SUBGRAPH_LIMIT} nested subgraphs: fold constant If conditions (onnxsim), unroll Loops, or export the branches as separate models`
        : 'simplify the nested types (e.g. sequences of sequences) and export the model again',
    details: { subgraphDepth: depth, recursionLimit: RECURSION_LIMIT },
    cause,
  });
}

/** The protobuf-es default, also ONNX Runtime's (protobuf C++). */
const RECURSION_LIMIT = 100;
/** Subgraph k sits at message depth 2 + 3k (graph, node, attribute per level) and a value's type needs 5 more. */
const SUBGRAPH_LIMIT = 31;

export function encodeModel(model: Model | ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, 'proto' in model ? model.proto : model);
}
