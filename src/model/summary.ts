// A model's summary for `gradsight inspect`: I/O, opsets, op histogram, candidate and default layers.

import { explainedTensor, nodesWithoutRule, standard } from '../autodiff/index.ts';
import { isGradsightError } from '../errors.ts';
import type { ImageModel } from './image-model.ts';
import type { LayerInfo } from './layers.ts';

type Shape = readonly (number | string | null)[];

export interface ModelSummary {
  readonly irVersion: number;
  readonly producer: string;
  readonly opsets: Record<string, number>;
  readonly inputs: { name: string; dtype: string; shape: Shape | null }[];
  readonly outputs: { name: string; dtype: string; shape: Shape | null }[];
  readonly nodeCount: number;
  readonly ops: Record<string, number>;
  readonly preprocess: ImageModel['preprocess'];
  readonly labels: number;
  readonly layers: LayerInfo[];
  readonly defaultLayer: LayerInfo | null;
  readonly defaultLayerError?: string;
  /** The differentiated tensor for the chosen output, and the ops on the path to it without a gradient rule. */
  readonly gradient: { readonly target: string; readonly missingRules: { op: string; nodes: string[] }[] };
}

export async function summarize(m: ImageModel): Promise<ModelSummary> {
  const model = m.model;
  const g = model.graph;
  const shapes = await m.shapes();
  const ops = new Map<string, number>();
  for (const n of g.nodes) {
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    ops.set(key, (ops.get(key) ?? 0) + 1);
  }
  const io = (v: { name: string; dtype: string | undefined; shape: Shape | undefined }) => ({
    name: v.name,
    dtype: v.dtype ?? 'unknown',
    shape: shapes.get(v.name)?.shape ?? v.shape ?? null,
  });
  let defaultLayer: LayerInfo | null = null;
  let defaultLayerError: string | undefined;
  try {
    defaultLayer = await m.defaultLayer();
  } catch (e) {
    if (!isGradsightError(e, 'no-default-layer')) throw e;
    defaultLayerError = e.message;
  }
  const target = explainedTensor(g, m.output.name, true);
  const missing = new Map<string, string[]>();
  for (const n of nodesWithoutRule(g, target, standard, shapes)) {
    const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    missing.set(op, [...(missing.get(op) ?? []), n.name]);
  }
  return {
    irVersion: model.irVersion,
    producer: model.producer,
    opsets: Object.fromEntries([...model.opsets].map(([d, v]) => [d === '' ? 'ai.onnx' : d, v])),
    inputs: g.inputs.map(io),
    outputs: g.outputs.map(io),
    nodeCount: g.nodes.length,
    ops: Object.fromEntries([...ops].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    preprocess: m.preprocess,
    labels: m.labels?.length ?? 0,
    layers: await m.layers(),
    defaultLayer,
    ...(defaultLayerError === undefined ? {} : { defaultLayerError }),
    gradient: { target, missingRules: [...missing].map(([op, nodes]) => ({ op, nodes })) },
  };
}
