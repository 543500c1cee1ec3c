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
  /** What the model declares that cannot be right (an image input of height −5), and what is used instead. */
  readonly warnings: string[];
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
  // Inputs as declared (a shape inferred at the preprocessing size would hide an invalid declaration).
  const io = (
    v: { name: string; dtype: string | undefined; shape: Shape | undefined },
    declared = false,
  ) => ({
    name: v.name,
    dtype: v.dtype ?? 'unknown',
    shape: (declared ? declaredShape(m, v.name) : undefined) ?? shapes.get(v.name)?.shape ?? v.shape ?? null,
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
    inputs: g.inputs.map((v) => io(v, true)),
    outputs: g.outputs.map((v) => io(v)),
    nodeCount: g.nodes.length,
    ops: Object.fromEntries([...ops].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    preprocess: m.preprocess,
    labels: m.labels?.length ?? 0,
    layers: await m.layers(),
    defaultLayer,
    ...(defaultLayerError === undefined ? {} : { defaultLayerError }),
    gradient: { target, missingRules: [...missing].map(([op, nodes]) => ({ op, nodes })) },
    warnings: inputWarnings(m),
  };
}

/**
 * The dims as the file writes them: the IR reads a negative size as a free dim (exporters write −1 for
 * "unknown"), which would show −5 as `?` and the input as 224×224.
 */
function declaredShape(m: ImageModel, name: string): Shape | undefined {
  const v = m.model.proto.graph?.input.find((i) => i.name === name)?.type?.value;
  if (v?.case !== 'tensorType' || !v.value.shape) return undefined;
  return v.value.shape.dim.map((d) =>
    d.value.case === 'dimValue'
      ? Number(d.value.value)
      : d.value.case === 'dimParam' && d.value.value !== ''
        ? d.value.value
        : null,
  );
}

/** Dims of the image input that are numbers below 1 (−1 aside): not a size, so the preprocessing's is used. */
function inputWarnings(m: ImageModel): string[] {
  const shape = declaredShape(m, m.input.name);
  if (!shape) return [];
  const [h, w] = m.preprocess.size;
  return shape.flatMap((d, axis) =>
    typeof d === 'number' && d < 1 && d !== -1
      ? [
          `input ${m.input.name} declares dim ${axis} as ${d}, which is not a valid size; the input is fed at ${h}×${w} (--size to choose)`,
        ]
      : [],
  );
}
