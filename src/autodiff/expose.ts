// Output exposure: after the walk, each requested tensor's value and gradient, and the explained tensor's value,
// become graph outputs (through Identity nodes where ONNX forbids listing a tensor directly).

import { GradsightError } from '../errors.ts';
import { type Model, type Shape, tensorValueInfo, type ValueInfo } from '../onnx/index.ts';
import { type Emitter, ONNX_FLOAT } from './emitter.ts';
import { shapeOf, uniqueName } from './graph-info.ts';

export interface ExposedTensor {
  /** The requested tensor. */
  readonly tensor: string;
  /** Graph output holding its value. */
  readonly value: string;
  /** Graph output holding d explained / d tensor. */
  readonly grad: string;
  readonly shape: Shape;
}

export interface Exposure {
  readonly outputs: ExposedTensor[];
  /** Graph output holding the explained tensor's value. */
  readonly explainedOutput: string;
  /** The patch's `output` list: the explained tensor (unless already an output), every value and gradient. */
  readonly graphOutputs: { readonly name: string }[];
}

/** An Identity from `from` to a fresh output name (graph inputs cannot also be graph outputs). */
function identity(e: Emitter, from: string, to: string): void {
  e.nodes.push({ opType: 'Identity', domain: '', name: `${to}/Identity`, input: [from], output: [to] });
}

export function exposeOutputs(
  e: Emitter,
  g: Model['graph'],
  opts: {
    readonly wrt: readonly string[];
    readonly grads: ReadonlyMap<string, string>;
    readonly explained: string;
    readonly prefix: string;
    readonly taken: Set<string>;
    readonly shapes: ReadonlyMap<string, ValueInfo>;
    /** Shape of a gradient output (the seed's rows with repeatRows). */
    readonly rowsOf: (s: Shape) => Shape;
  },
): Exposure {
  const { prefix, taken, explained } = opts;
  e.enter('outputs');
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const inputNames = new Set(g.inputs.map((i) => i.name));
  const outputs: ExposedTensor[] = [];
  for (const w of opts.wrt) {
    const gw = opts.grads.get(w);
    if (gw === undefined) {
      throw new GradsightError('no-gradient-path', `no gradient reaches ${w} from ${explained}`, {
        hint: 'every path from it to the explained tensor passes through ops whose gradient is zero (Shape, ArgMax, comparisons, integer casts)',
        details: { tensor: w, explained },
      });
    }
    const grad = uniqueName(taken, `${prefix}/grad/${w}`);
    identity(e, gw, grad);
    let value = w;
    if (inputNames.has(w) || graphOutputs.has(w)) {
      value = uniqueName(taken, `${prefix}/value/${w}`);
      identity(e, w, value);
    }
    outputs.push({ tensor: w, value, grad, shape: shapeOf(opts.shapes, w) });
  }

  let explainedOutput = explained;
  if (inputNames.has(explained)) {
    explainedOutput = uniqueName(taken, `${prefix}/value/${explained}`);
    identity(e, explained, explainedOutput);
  }
  const targetListed = graphOutputs.has(explainedOutput) || outputs.some((o) => o.value === explainedOutput);
  return {
    outputs,
    explainedOutput,
    graphOutputs: [
      ...(targetListed ? [] : [{ name: explainedOutput }]),
      ...outputs.flatMap((o) => [
        ...(graphOutputs.has(o.value) ? [] : [{ name: o.value }]),
        tensorValueInfo(o.grad, ONNX_FLOAT, opts.rowsOf(o.shape)),
      ]),
    ],
  };
}
