// Static shape inference: walks the nodes in topological order, applying the rule table of each op
// family, and folds small int values so shape arithmetic resolves. Where a rule cannot decide, the
// shape the file declares (value_info, graph outputs) fills the gap; otherwise it stays unknown.

import type { Model, Shape, ValueInfo } from '../ir.ts';
import { smallValue } from './constants.ts';
import { convPoolRules } from './conv-pool.ts';
import { allKnown, known } from './dims.ts';
import { elementwiseRules } from './elementwise.ts';
import { matmulRules } from './matmul.ts';
import { miscRules } from './misc.ts';
import { recurrentRules } from './recurrent.ts';
import { reduceRules } from './reduce.ts';
import { resizeRules } from './resize.ts';
import { shapeOpRules } from './shape-ops.ts';
import { sliceOpRules } from './slice-ops.ts';
import type { RuleContext, RuleTable, TensorInfo } from './types.ts';

export const shapeRules: RuleTable = {
  ...elementwiseRules,
  ...convPoolRules,
  ...matmulRules,
  ...shapeOpRules,
  ...sliceOpRules,
  ...reduceRules,
  ...resizeRules,
  ...miscRules,
  ...recurrentRules,
};

/** Input dims fixed by the caller, by input name; a string keeps that dim symbolic. */
export type InputShapes = Readonly<Record<string, Shape>>;

/**
 * Shapes of every tensor: graph inputs, initializers and every node output. `hints` (e.g. the shapes
 * of a probe run) fill what the rules leave unknown, as the file's own declarations do.
 */
export function inferShapes(
  model: Model,
  inputShapes: InputShapes = {},
  hints?: ReadonlyMap<string, ValueInfo>,
): ReadonlyMap<string, ValueInfo> {
  const g = model.graph;
  const opset = model.opsets.get('') ?? 0;
  const infos = new Map<string, TensorInfo>();
  for (const i of g.inputs) infos.set(i.name, { dtype: i.dtype, shape: inputShapes[i.name] ?? i.shape });
  for (const t of g.initializers.values())
    infos.set(t.name, { dtype: t.dtype, shape: t.dims, value: smallValue(t) });

  const declared = new Map<string, ValueInfo>([
    ...g.valueInfo,
    ...g.outputs.map((o) => [o.name, o] as const),
    ...(hints ?? []),
  ]);
  for (const node of g.nodes) {
    const rule = node.domain === '' ? shapeRules[node.opType] : undefined;
    const ctx: RuleContext = {
      node,
      opset,
      inputCount: node.inputs.length,
      input: (i) => {
        const name = node.inputs[i];
        return name ? infos.get(name) : undefined;
      },
      value: (i) => {
        const name = node.inputs[i];
        return name ? infos.get(name)?.value : undefined;
      },
    };
    const results = rule ? rule(ctx) : [];
    node.outputs.forEach((name, i) => {
      if (name === '') return;
      const r = results[i];
      const d = declared.get(name);
      infos.set(name, {
        dtype: r?.dtype ?? d?.dtype,
        shape: mergeShape(r?.shape, d?.shape),
        value: r?.value,
      });
    });
  }

  const out = new Map<string, ValueInfo>();
  for (const [name, info] of infos) out.set(name, { name, dtype: info.dtype, shape: info.shape });
  return out;
}

/** The rule's dims win; the file's declaration fills only what the rule left unknown. */
function mergeShape(inferred: Shape | undefined, declared: Shape | undefined): Shape | undefined {
  if (!inferred) return declared;
  if (!declared || declared.length !== inferred.length || allKnown(inferred)) return inferred;
  return inferred.map((d, i) => (d === null || (!known(d) && known(declared[i])) ? (declared[i] ?? d) : d));
}

/** Tensors whose shape is unknown or has an unknown (null) dim; symbolic dims count as resolved. */
export function unresolved(model: Model, shapes: ReadonlyMap<string, ValueInfo>): string[] {
  const names = [...model.graph.inputs.map((i) => i.name), ...model.graph.nodes.flatMap((n) => n.outputs)];
  return names.filter((n) => n !== '' && (shapes.get(n)?.shape?.includes(null) ?? true));
}
