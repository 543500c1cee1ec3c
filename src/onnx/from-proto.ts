// Builds the readonly IR (ir.ts) from a decoded ModelProto: converts value infos, initializers and
// attributes, names unnamed nodes, sorts nodes topologically and indexes producers and consumers.

import type { ModelProto, NodeProto, TensorProto, ValueInfoProto } from 'onnx-buf';
import { GradsightError } from '../errors.ts';
import { sizeOf, type TypedArray } from '../tensor/tensor.ts';
import { attributeValue } from './attributes.ts';
import { byteSize, dtypeFromOnnx } from './dtype.ts';
import { externalSlice } from './external-bytes.ts';
import { externalRefOf } from './external-refs.ts';
import type { Attribute, Dim, ExternalBytes, Graph, Initializer, Model, Node, ValueInfo } from './ir.ts';
import { decodeTensorProto, fromRawBytes } from './tensor-data.ts';
import { topoSort } from './topo.ts';

/** Returns the external file named by `location` (as written in the model): whole, or its used ranges. */
export type ExternalResolver = (location: string) => Uint8Array | ExternalBytes | undefined;

export const MIN_OPSET = 11;
export const MAX_OPSET = 21;

export function modelFromProto(proto: ModelProto, external?: ExternalResolver): Model {
  const g = proto.graph;
  if (!g) {
    throw new GradsightError('model-invalid', 'the model has no graph', {
      hint: 'the file is an ONNX model without a graph (maybe a training-only artefact); export the inference model',
    });
  }
  const opsets = new Map<string, number>();
  for (const o of proto.opsetImport) opsets.set(o.domain === 'ai.onnx' ? '' : o.domain, Number(o.version));
  const opset = opsets.get('');
  if (opset === undefined || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new GradsightError(
      'model-invalid',
      opset === undefined
        ? 'the model imports no ai.onnx opset'
        : `the model uses ai.onnx opset ${opset}; gradsight supports opsets ${MIN_OPSET} to ${MAX_OPSET}`,
      {
        hint: `convert it with onnx.version_converter.convert_version(model, 17), or re-export with opset_version between ${MIN_OPSET} and ${MAX_OPSET}`,
        details: { opset },
      },
    );
  }

  const initializers = new Map<string, Initializer>();
  for (const t of g.initializer) initializers.set(t.name, initializerFromProto(t, external));
  const inputs = g.input.filter((i) => !initializers.has(i.name)).map(valueInfoFromProto);
  const available = new Set([...inputs.map((i) => i.name), ...initializers.keys()]);
  const nodes = topoSort(
    g.node.map((n, i) => nodeFromProto(n, i, external)),
    available,
  );

  const { producers, consumers } = nodeIndex(nodes);
  const graph: Graph = {
    name: g.name,
    inputs,
    outputs: g.output.map(valueInfoFromProto),
    nodes,
    initializers,
    valueInfo: new Map(g.valueInfo.map((v) => [v.name, valueInfoFromProto(v)])),
    producers,
    consumers,
  };
  return { irVersion: Number(proto.irVersion), opsets, producer: proto.producerName, graph, proto };
}

/** Which node writes each tensor, and which nodes read it (each reader once). */
export function nodeIndex(nodes: readonly Node[]): Pick<Graph, 'producers' | 'consumers'> {
  const producers = new Map<string, Node>();
  const consumers = new Map<string, Node[]>();
  for (const n of nodes) {
    for (const o of n.outputs) if (o !== '') producers.set(o, n);
    for (const i of new Set(n.inputs)) {
      if (i === '') continue;
      const list = consumers.get(i);
      if (list) list.push(n);
      else consumers.set(i, [n]);
    }
  }
  return { producers, consumers };
}

export function valueInfoFromProto(v: ValueInfoProto): ValueInfo {
  const t = v.type?.value;
  if (v.type?.value.case !== 'tensorType' || !t) return { name: v.name, dtype: undefined, shape: undefined };
  const tensor = v.type.value.value;
  const shape = tensor.shape?.dim.map((d): Dim => {
    // A negative size is an exporter's way of saying it did not know it: a free dim.
    if (d.value.case === 'dimValue') return d.value.value < 0n ? null : Number(d.value.value);
    if (d.value.case === 'dimParam' && d.value.value !== '') return d.value.value;
    return null;
  });
  return { name: v.name, dtype: dtypeFromOnnx(tensor.elemType), shape };
}

export function nodeFromProto(n: NodeProto, index: number, external: ExternalResolver | undefined): Node {
  const name = n.name !== '' ? n.name : `${n.opType}_${index}`;
  const attributes = new Map<string, Attribute>();
  for (const a of n.attribute) {
    const value = attributeValue(a, (x) =>
      initializerFromProto(x.t!, external, x.t!.name || `${name}.${a.name}`),
    );
    attributes.set(a.name, { name: a.name, value });
  }
  return {
    name,
    opType: n.opType,
    domain: n.domain === 'ai.onnx' ? '' : n.domain,
    inputs: [...n.input],
    outputs: [...n.output],
    attributes,
  };
}

export function initializerFromProto(
  t: TensorProto,
  external?: ExternalResolver,
  name = t.name,
): Initializer {
  const dtype = dtypeFromOnnx(t.dataType);
  if (!dtype) {
    throw new GradsightError('unsupported-dtype', `tensor '${name}' has ONNX data type ${t.dataType}`, {
      hint: 'gradsight reads float32/float64/float16 and integer models; convert the model to float32',
      details: { tensor: name, dataType: t.dataType },
    });
  }
  const dims = t.dims.map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new GradsightError('model-invalid', `tensor '${name}' has dims [${t.dims.join(', ')}]`, {
      hint: 'dims of a stored tensor must be non-negative integers; the file is damaged or the exporter is broken: export the model again',
      details: { tensor: name, dims: t.dims.map(String) },
    });
  }
  const ref = externalRefOf(t);
  let cached: TypedArray | undefined;
  const load = (): TypedArray => {
    if (!ref) return decodeTensorProto(t, dtype);
    const file = external?.(ref.location);
    if (!file) {
      throw new GradsightError(
        'external-data-missing',
        `tensor '${name}' keeps its data in '${ref.location}', which was not supplied`,
        {
          hint: 'open the model by path, or pass the external data files with withExternalData()',
          details: { tensor: name, location: ref.location },
        },
      );
    }
    const count = sizeOf(dims);
    const length = ref.length ?? count * byteSize(dtype);
    const bytes = externalSlice(file, ref.offset, length);
    if (!bytes) {
      const has = file instanceof Uint8Array ? `, which has ${file.byteLength}` : ', which were not read';
      throw new GradsightError(
        'model-corrupt',
        `tensor '${name}' needs bytes ${ref.offset}..${ref.offset + length} of '${ref.location}'${has}`,
        {
          hint: 'the external data file is truncated or damaged; export the model again',
          details: { tensor: name },
        },
      );
    }
    return fromRawBytes(bytes, dtype, count, name);
  };
  return {
    name,
    dtype,
    dims,
    external: ref,
    values: () => {
      cached ??= load();
      return cached;
    },
  };
}
