// Graph-level mutants: cycles, inputs nothing defines, names defined twice, missing parts, and random
// edits of the IR such as a buggy exporter might write.

import { clone } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as A,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  TensorProtoSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import type { ErrorCode } from '../../src/errors.ts';
import { valueInfo } from './onnx-builder.ts';
import { baseNames, corruptCodes, edit, type MutantCase } from './onnx-mutant-kit.ts';

export function cycles(): MutantCase[] {
  const c = (name: string, f: (g: GraphProto) => void): MutantCase => ({
    name: `cycle/${name}`,
    family: 'cycle',
    model: edit('tinyCnn', (_, g) => f(g)),
    codes: ['model-invalid'],
    mayLoad: false,
  });
  return [
    // Relu reads its own output.
    c('self-loop', (g) => {
      g.node[1]!.input[0] = g.node[1]!.output[0]!;
    }),
    // Conv reads what Relu makes from it.
    c('two-nodes', (g) => {
      g.node[0]!.input[0] = 'features';
    }),
    // The whole chain feeds back into its first node.
    c('whole-chain', (g) => {
      g.node[0]!.input[0] = 'logits';
    }),
    c('whole-chain-reversed', (g) => {
      g.node[0]!.input[0] = 'logits';
      g.node.reverse();
    }),
  ];
}

export function undefinedInputs(): MutantCase[] {
  const c = (name: string, f: (g: GraphProto) => void, mayLoad = false): MutantCase => ({
    name: `undefined-input/${name}`,
    family: 'undefined-input',
    model: edit('tinyCnn', (_, g) => f(g)),
    codes: ['model-invalid', 'tensor-not-found'],
    mayLoad,
  });
  return [
    c('node-input', (g) => {
      g.node[2]!.input[0] = 'nowhere';
    }),
    c('weight', (g) => {
      g.node[0]!.input[1] = 'conv.weight.missing';
    }),
    c('deleted-initializer', (g) => {
      g.initializer.splice(0, 1);
    }),
    c('graph-output', (g) => {
      g.output[0]!.name = 'not-produced';
    }),
    c('deleted-producer', (g) => {
      g.node.splice(1, 1);
    }),
    c('no-graph-input', (g) => {
      g.input.splice(0, 1);
    }),
  ];
}

export function duplicateNames(): MutantCase[] {
  const c = (
    name: string,
    f: (g: GraphProto) => void,
    mayLoad = false,
    codes?: readonly ErrorCode[],
  ): MutantCase => ({
    name: `duplicate-name/${name}`,
    family: 'duplicate-name',
    model: edit('tinyCnn', (_, g) => f(g)),
    ...(codes ? { codes } : {}),
    mayLoad,
  });
  return [
    c(
      'output-twice',
      (g) => {
        g.node[2]!.output[0] = 'features';
      },
      false,
      ['model-invalid'],
    ),
    c(
      'initializer-twice',
      (g) => {
        g.initializer.push(clone(TensorProtoSchema, g.initializer[0]!));
      },
      false,
      ['model-invalid'],
    ),
    c(
      'input-is-node-output',
      (g) => {
        g.node[1]!.output[0] = 'input';
      },
      false,
      ['model-invalid'],
    ),
    c(
      'initializer-is-node-output',
      (g) => {
        g.node[1]!.output[0] = 'fc.weight';
      },
      false,
      ['model-invalid'],
    ),
    // Same node names are legal ONNX: the model must still work.
    c(
      'node-names',
      (g) => {
        for (const n of g.node) n.name = 'same';
      },
      true,
    ),
    c(
      'input-twice',
      (g) => {
        g.input.push(clone(ValueInfoProtoSchema, g.input[0]!));
      },
      false,
      ['model-invalid'],
    ),
    c(
      'output-listed-twice',
      (g) => {
        g.output.push(clone(ValueInfoProtoSchema, g.output[0]!));
      },
      true,
    ),
    // An initializer also listed as a graph input (IR < 4 style): a default value, legal.
    c(
      'initializer-as-input',
      (g) => {
        g.input.push(valueInfo({ name: 'fc.bias', shape: [3] }));
      },
      true,
    ),
  ];
}

export function missingParts(): MutantCase[] {
  const c = (
    name: string,
    f: (m: ModelProto, g: GraphProto) => void,
    codes?: readonly ErrorCode[],
    mayLoad = false,
  ): MutantCase => ({
    name: `missing-part/${name}`,
    family: 'missing-part',
    model: edit('tinyCnn', f),
    ...(codes ? { codes } : {}),
    mayLoad,
  });
  return [
    c(
      'graph',
      (m) => {
        m.graph = undefined;
      },
      ['model-invalid', 'not-onnx'],
    ),
    c('nodes', (_, g) => {
      g.node = [];
    }),
    c('outputs', (_, g) => {
      g.output = [];
    }),
    c('inputs-and-nodes', (_, g) => {
      g.input = [];
      g.node = [];
    }),
    c(
      'opset',
      (m) => {
        m.opsetImport = [];
      },
      ['model-invalid'],
    ),
    c(
      'opset-too-old',
      (m) => {
        m.opsetImport[0]!.version = 7n;
      },
      ['model-invalid'],
    ),
    c(
      'opset-too-new',
      (m) => {
        m.opsetImport[0]!.version = 99n;
      },
      ['model-invalid'],
    ),
    c(
      'ir-version',
      (m) => {
        m.irVersion = 0n;
      },
      ['not-onnx', 'model-invalid'],
    ),
    c('op-type', (_, g) => {
      g.node[1]!.opType = '';
    }),
    c('unknown-op', (_, g) => {
      g.node[1]!.opType = 'Frobnicate';
    }),
    c('custom-domain', (_, g) => {
      g.node[1]!.domain = 'com.example';
    }),
    c('conv-weight-input', (_, g) => {
      g.node[0]!.input = ['input'];
    }),
    c(
      'input-shape',
      (_, g) => {
        const t = g.input[0]!.type!.value;
        if (t.case === 'tensorType') t.value.shape = undefined;
      },
      undefined,
      true,
    ),
    c('input-type', (_, g) => {
      g.input[0]!.type = undefined;
    }),
    c(
      'output-type',
      (_, g) => {
        g.output[0]!.type = undefined;
      },
      undefined,
      true,
    ),
    c(
      'initializer-data',
      (_, g) => {
        g.initializer[0]!.floatData = [];
      },
      corruptCodes,
    ),
    c('initializer-name', (_, g) => {
      g.initializer[0]!.name = '';
    }),
    c('tensor-names', (_, g) => {
      for (const n of g.node) n.output = n.output.map(() => '');
    }),
  ];
}

/** An `If` whose then-branch holds the next level, `depth` levels deep; every other branch is an Identity. */
const ops = [
  'Conv',
  'Relu',
  'Gemm',
  'Add',
  'Reshape',
  'Transpose',
  'Concat',
  'Softmax',
  'MaxPool',
  'Flatten',
  'Sigmoid',
  'Foo',
];

/** Random edits of the IR: what a buggy exporter might write. Some yield valid models. */
export function structural(r: () => number, count: number): MutantCase[] {
  const out: MutantCase[] = [];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const tensorNames = (g: GraphProto) => [
    ...g.input.map((i) => i.name),
    ...g.initializer.map((i) => i.name),
    ...g.node.flatMap((n) => n.output),
  ];
  const edits: [string, (g: GraphProto) => void][] = [
    [
      'op-type',
      (g) => {
        pick(g.node).opType = pick(ops);
      },
    ],
    ['drop-input', (g) => void pick(g.node).input.pop()],
    ['extra-input', (g) => void pick(g.node).input.push(pick(tensorNames(g)))],
    [
      'rewire-input',
      (g) => {
        const n = pick(g.node);
        if (n.input.length) n.input[Math.floor(r() * n.input.length)] = pick(tensorNames(g));
      },
    ],
    ['drop-attribute', (g) => void pick(g.node).attribute.pop()],
    [
      'attribute-value',
      (g) => {
        const a = pick(g.node.flatMap((n) => n.attribute));
        if (a) {
          const v = pick([-1n, 0n, 7n, 2n ** 31n, 2n ** 62n]);
          a.i = v;
          a.ints = a.ints.map(() => v);
        }
      },
    ],
    [
      'attribute-type',
      (g) => {
        const a = pick(g.node.flatMap((n) => n.attribute));
        if (a) a.type = pick([A.FLOAT, A.STRING, A.TENSOR, A.GRAPH, A.INTS, 99 as A]);
      },
    ],
    [
      'initializer-dims',
      (g) => {
        const t = pick(g.initializer);
        const dims = [...t.dims];
        const k = Math.floor(r() * 3);
        if (k === 0) dims.reverse();
        else if (k === 1) dims.pop();
        else dims.push(1n);
        t.dims = dims;
      },
    ],
    [
      'initializer-dtype',
      (g) => {
        pick(g.initializer).dataType = pick([1, 2, 3, 6, 7, 9, 10, 11, 0, 99]);
      },
    ],
    [
      'shuffle-nodes',
      (g) => {
        for (let i = g.node.length - 1; i > 0; i--) {
          const j = Math.floor(r() * (i + 1));
          [g.node[i], g.node[j]] = [g.node[j]!, g.node[i]!];
        }
      },
    ],
    [
      'output-name',
      (g) => {
        g.output[0]!.name = pick(tensorNames(g));
      },
    ],
    [
      'input-dim',
      (g) => {
        const t = g.input[0]!.type!.value;
        if (t.case !== 'tensorType' || !t.value.shape) return;
        const d = t.value.shape.dim[Math.floor(r() * t.value.shape.dim.length)]!;
        const v = pick([-7n, 0n, 1n, 2n, 5n, 2n ** 40n, 'N'] as const);
        d.value = typeof v === 'string' ? { case: 'dimParam', value: v } : { case: 'dimValue', value: v };
      },
    ],
  ];
  for (let i = 0; i < count; i++) {
    const base = pick(baseNames);
    const steps = 1 + Math.floor(r() * 2);
    const names: string[] = [];
    const model = edit(base, (_, g) => {
      for (let s = 0; s < steps; s++) {
        const [name, f] = pick(edits);
        names.push(name);
        f(g as GraphProto & { node: NodeProto[] });
      }
    });
    out.push({
      name: `structural/${base}/${i}-${names.join('+')}`,
      family: 'structural',
      model,
      mayLoad: true,
    });
  }
  return out;
}
