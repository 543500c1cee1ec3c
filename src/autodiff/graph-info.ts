// What the walker and the rules read from the forward model: static shapes, constant values, fresh
// tensor names, and the error for an op without a rule.

import { GradsightError } from '../errors.ts';
import type { Model, Node, Shape, ValueInfo } from '../onnx/index.ts';
import type { TypedArray } from '../tensor/tensor.ts';
import type { RuleSet } from './rule.ts';
import { supportedOps } from './rule-sets.ts';

export function shapeOf(shapes: ReadonlyMap<string, ValueInfo>, name: string): Shape {
  const s = shapes.get(name)?.shape;
  if (!s) {
    throw new GradsightError('shape-inference', `the shape of tensor ${name} is unknown`, {
      hint: 'give the input size (e.g. --size 224) so every shape can be inferred',
      details: { tensor: name },
    });
  }
  return s;
}

/** Values of an initializer or of a Constant node's `value` attribute. */
export function constantValue(model: Model, name: string): TypedArray | undefined {
  const init = model.graph.initializers.get(name);
  if (init) return init.values();
  const producer = model.graph.producers.get(name);
  if (producer?.opType === 'Constant') {
    const v = producer.attributes.get('value')?.value;
    if (v?.kind === 'tensor') return v.value.values();
    const ints = producer.attributes.get('value_ints')?.value;
    if (ints?.kind === 'ints') return BigInt64Array.from(ints.value.map((x) => BigInt(x)));
    const f = producer.attributes.get('value_float')?.value;
    if (f?.kind === 'float') return Float32Array.of(f.value);
    const i = producer.attributes.get('value_int')?.value;
    if (i?.kind === 'int') return BigInt64Array.of(BigInt(i.value));
  }
  return undefined;
}

export function uniqueName(taken: Set<string>, base: string): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

export function unsupported(node: Node, ruleSet: RuleSet): GradsightError {
  const domain = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.` : '';
  return new GradsightError(
    'unsupported-op',
    `no gradient rule for ${domain}${node.opType} (node '${node.name}')`,
    {
      hint: `ops with rules: ${supportedOps(ruleSet).join(', ')}`,
      details: { node: node.name, op: `${domain}${node.opType}` },
    },
  );
}
