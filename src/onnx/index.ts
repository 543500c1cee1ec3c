// Public API of the ONNX layer: decode/encode, the readonly IR, attributes, external data, appending
// to serialized models, and shape inference. Platform-neutral (no node: imports).

export {
  allocateWithRoom,
  appendGraphOutputs,
  appendGraphPatch,
  encodeGraphPatch,
  type GraphPatch,
  type OutputSpec,
  tensorValueInfo,
  withGraphPatch,
} from './append.ts';
export { getFloat, getFloats, getInt, getInts, getString, getTensor, hasAttr } from './attributes.ts';
export { type DecodeOptions, decodeModel, decodeModelProto, encodeModel } from './codec.ts';
export { byteSize, dtypeFromOnnx, dtypeToOnnx } from './dtype.ts';
export {
  externalByteLength,
  externalSlice,
  needsOffsetRewrite,
  packRanges,
  withPackedOffsets,
} from './external-bytes.ts';
export { externalDataRefs, externalDataSpans, withExternalData } from './external-data.ts';
export { checkExternalLocation, externalRefOf, graphTensors } from './external-refs.ts';
export {
  type ExternalResolver,
  initializerFromProto,
  MAX_OPSET,
  MIN_OPSET,
  modelFromProto,
  nodeFromProto,
  nodeIndex,
} from './from-proto.ts';
export type {
  Attribute,
  AttributeValue,
  Dim,
  ExternalDataRef,
  Graph,
  Initializer,
  Model,
  Node,
  Shape,
  ValueInfo,
} from './ir.ts';
export * from './shapes/index.ts';
export { topoSort } from './topo.ts';
