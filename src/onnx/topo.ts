// Topological order of a graph's nodes: Kahn's algorithm that always picks the ready node that came
// first in the file, so an already-sorted graph keeps its order exactly.

import { GradsightError } from '../errors.ts';
import type { Node } from './ir.ts';

const hint = 'the graph is not a valid ONNX graph; re-export the model';

/** `available` = graph inputs and initializers. Throws 'model-invalid' on a cycle or dangling input. */
export function topoSort(nodes: readonly Node[], available: ReadonlySet<string>): Node[] {
  const producerIndex = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (o === '') continue;
      if (producerIndex.has(o) || available.has(o)) {
        throw new GradsightError(
          'model-invalid',
          `tensor '${o}' is produced twice (again by node '${n.name}')`,
          {
            hint,
            details: { node: n.name, op: n.opType, tensor: o },
          },
        );
      }
      producerIndex.set(o, i);
    }
  });

  const pending = new Array<number>(nodes.length).fill(0);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const input of new Set(n.inputs)) {
      if (input === '' || available.has(input)) continue;
      const p = producerIndex.get(input);
      if (p === undefined) {
        throw new GradsightError(
          'model-invalid',
          `node '${n.name}' (${n.opType}) reads tensor '${input}', which no node, initializer or graph input provides`,
          { hint, details: { node: n.name, op: n.opType, tensor: input } },
        );
      }
      pending[i]!++;
      dependents[p]!.push(i);
    }
  });

  // `ready` stays sorted by file index; graphs are small enough for array insertion.
  const ready = pending.flatMap((c, i) => (c === 0 ? [i] : []));
  const order: Node[] = [];
  while (ready.length > 0) {
    const i = ready.shift()!;
    order.push(nodes[i]!);
    for (const d of dependents[i]!) {
      if (--pending[d]! === 0) ready.splice(sortedIndex(ready, d), 0, d);
    }
  }
  if (order.length < nodes.length) {
    const stuck = nodes.find((_, i) => pending[i]! > 0)!;
    const waitsOn = stuck.inputs.find(
      (t) => t !== '' && !available.has(t) && !order.some((n) => n.outputs.includes(t)),
    );
    throw new GradsightError(
      'model-invalid',
      `the graph has a cycle: node '${stuck.name}' (${stuck.opType}) waits on tensor '${waitsOn}', which depends on the node itself`,
      { hint, details: { node: stuck.name, op: stuck.opType, tensor: waitsOn } },
    );
  }
  return order;
}

function sortedIndex(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
