// A seeded generator of malformed ONNX files for the reliability suite: real protobuf bytes built from
// the tiny test models, then damaged the ways broken downloads, buggy exporters and hostile files do
// (bit flips, truncations, huge varints, cycles, undefined inputs, absurd dims, wrong dtypes, duplicate
// names, missing parts, deep subgraph nesting, external-data tricks). Same seed, same cases.

import { clone, create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as A,
  type GraphProto,
  GraphProtoSchema,
  type ModelProto,
  ModelProtoSchema,
  type NodeProto,
  type TensorProto,
  TensorProtoSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import type { ErrorCode } from '../../src/errors.ts';
import { buildModelProto, valueInfo } from './onnx-builder.ts';
import { dynamicCnn, tinyCnn, tinyCnnConvWeightBytes, tinyStridedCnn } from './tiny-models.ts';

export type Family =
  | 'bit-flip'
  | 'truncation'
  | 'huge-varint'
  | 'cycle'
  | 'undefined-input'
  | 'absurd-dims'
  | 'wrong-dtype'
  | 'duplicate-name'
  | 'missing-part'
  | 'nesting'
  | 'external-data'
  | 'structural';

export interface MutantCase {
  /** Unique and stable for a seed, e.g. 'truncation/tinyCnn/at-137'. */
  readonly name: string;
  readonly family: Family;
  /** The bytes written as model.onnx. */
  readonly model: Uint8Array;
  /** Files written beside model.onnx (external data), by relative path; `null` makes a folder. */
  readonly files?: Readonly<Record<string, Uint8Array | null>>;
  /** The error codes allowed; undefined: any typed code (never internal-error). */
  readonly codes?: readonly ErrorCode[];
  /** False when no correct result exists, so loading and compiling must fail with one of `codes`. */
  readonly mayLoad: boolean;
  /** A known failure not fixed yet: the suite keeps the case as a node:test todo. */
  readonly todo?: string;
}

/** mulberry32: a small, well-mixed 32-bit PRNG. */
export function prng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bases = { tinyCnn: tinyCnn(), dynamicCnn: dynamicCnn(), tinyStridedCnn: tinyStridedCnn() };
type BaseName = keyof typeof bases;
const baseNames = Object.keys(bases) as BaseName[];

const corruptCodes: readonly ErrorCode[] = ['not-onnx', 'model-corrupt', 'model-invalid'];

/** Edits a copy of a base model's proto; the base is never changed. */
function edit(base: BaseName | ModelProto, f: (m: ModelProto, g: GraphProto) => void): Uint8Array {
  const m = clone(
    ModelProtoSchema,
    typeof base === 'string' ? fromBinary(ModelProtoSchema, bases[base]) : base,
  );
  f(m, m.graph!);
  return toBinary(ModelProtoSchema, m);
}

function varint(v: bigint): number[] {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n) b |= 0x80;
    out.push(b);
  } while (x !== 0n);
  return out;
}

interface Field {
  /** Offset of the tag, of the value (after a length prefix for wire type 2), and the value's end. */
  readonly tag: number;
  readonly lengthAt: number;
  readonly start: number;
  readonly end: number;
  readonly field: number;
  readonly wire: number;
}

/** The fields of the message in bytes[from, to), without recursing (the input is well-formed). */
function fieldsOf(bytes: Uint8Array, from = 0, to = bytes.length): Field[] {
  const out: Field[] = [];
  let pos = from;
  const read = (): number => {
    let r = 0;
    let mul = 1;
    for (;;) {
      const b = bytes[pos++]!;
      r += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return r;
    }
  };
  while (pos < to) {
    const tag = pos;
    const key = read();
    const wire = key % 8;
    const lengthAt = pos;
    let start = pos;
    if (wire === 0) read();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = read();
      start = pos;
      pos += len;
    } else throw new Error(`unexpected wire type ${wire}`);
    out.push({
      tag,
      lengthAt,
      start: wire === 2 ? start : lengthAt,
      end: pos,
      field: Math.floor(key / 8),
      wire,
    });
  }
  return out;
}

/** The bytes with the varint at f (its length prefix, or its value for wire type 0) replaced by v. */
function replaceVarint(bytes: Uint8Array, f: Field, v: bigint): Uint8Array {
  const varintEnd = f.wire === 2 ? f.start : f.end;
  return Uint8Array.from([...bytes.subarray(0, f.lengthAt), ...varint(v), ...bytes.subarray(varintEnd)]);
}

function bitFlips(r: () => number, count: number): MutantCase[] {
  const out: MutantCase[] = [];
  for (let i = 0; i < count; i++) {
    const base = baseNames[i % baseNames.length]!;
    const bytes = Uint8Array.from(bases[base]);
    const flips = 1 + Math.floor(r() * 4);
    const at: number[] = [];
    for (let k = 0; k < flips; k++) {
      const p = Math.floor(r() * bytes.length);
      bytes[p]! ^= 1 << Math.floor(r() * 8);
      at.push(p);
    }
    out.push({ name: `bit-flip/${base}/${at.join('+')}`, family: 'bit-flip', model: bytes, mayLoad: true });
  }
  return out;
}

function truncations(r: () => number, count: number): MutantCase[] {
  const out: MutantCase[] = [];
  const bytes = bases.tinyCnn;
  // Every top-level and graph-level field boundary (where a cut leaves well-formed protobuf), plus
  // random offsets anywhere.
  const top = fieldsOf(bytes);
  const graph = top.find((f) => f.field === 7)!;
  const boundaries = [...top, ...fieldsOf(bytes, graph.start, graph.end)].flatMap((f) => [
    f.tag,
    f.start,
    f.end,
  ]);
  const offsets = new Set<number>([0, 1, 2, ...boundaries, bytes.length - 1]);
  while (offsets.size < count) offsets.add(Math.floor(r() * bytes.length));
  for (const at of [...offsets].sort((a, b) => a - b)) {
    if (at >= bytes.length) continue;
    out.push({
      name: `truncation/tinyCnn/at-${at}`,
      family: 'truncation',
      model: bytes.subarray(0, at),
      codes: corruptCodes,
      mayLoad: false,
    });
  }
  return out;
}

function hugeVarints(): MutantCase[] {
  const out: MutantCase[] = [];
  const bytes = bases.tinyCnn;
  const top = fieldsOf(bytes);
  const graph = top.find((f) => f.field === 7)!;
  const inGraph = fieldsOf(bytes, graph.start, graph.end);
  const node = inGraph.find((f) => f.field === 1)!;
  const init = inGraph.find((f) => f.field === 5)!;
  const huge = [2n ** 63n - 1n, 2n ** 63n, 2n ** 62n, 2n ** 53n + 1n, 2n ** 32n + 7n, 2n ** 31n];
  for (const v of huge) {
    for (const [where, f] of [
      ['graph-length', graph],
      ['node-length', node],
      ['initializer-length', init],
    ] as const) {
      out.push({
        name: `huge-varint/${where}/${v}`,
        family: 'huge-varint',
        model: replaceVarint(bytes, f, v),
        codes: corruptCodes,
        mayLoad: false,
      });
    }
  }
  // A 10-byte varint in the tag position itself (field number beyond 2^29).
  out.push({
    name: 'huge-varint/tag',
    family: 'huge-varint',
    model: Uint8Array.from([...varint(2n ** 63n - 1n), ...bytes]),
    codes: corruptCodes,
    mayLoad: false,
  });
  for (const v of [-1n, -(2n ** 63n), 2n ** 63n - 1n, 65n]) {
    out.push({
      name: `huge-varint/ir-version/${v}`,
      family: 'huge-varint',
      model: edit('tinyCnn', (m) => {
        m.irVersion = BigInt.asIntN(64, v);
      }),
      codes: ['not-onnx', 'model-invalid'],
      mayLoad: false,
    });
  }
  for (const v of [-1n, 2n ** 62n, 2n ** 63n - 1n]) {
    out.push({
      name: `huge-varint/opset/${v}`,
      family: 'huge-varint',
      model: edit('tinyCnn', (m) => {
        m.opsetImport[0]!.version = v;
      }),
      codes: ['model-invalid'],
      mayLoad: false,
    });
  }
  for (const v of [2n ** 63n - 1n, 2n ** 62n, -(2n ** 63n)]) {
    out.push({
      name: `huge-varint/initializer-dim/${v}`,
      family: 'huge-varint',
      model: edit('tinyCnn', (_, g) => {
        g.initializer[0]!.dims[0] = v;
      }),
      codes: corruptCodes,
      mayLoad: false,
    });
    out.push({
      name: `huge-varint/input-dim/${v}`,
      family: 'huge-varint',
      model: edit('tinyCnn', (_, g) => {
        setDim(g.input[0]!, 2, v);
      }),
      mayLoad: v < 0n,
    });
    out.push({
      name: `huge-varint/attribute/${v}`,
      family: 'huge-varint',
      model: edit('tinyCnn', (_, g) => {
        g.node[0]!.attribute[0]!.ints[0] = v;
      }),
      mayLoad: false,
    });
  }
  return out;
}

function setDim(v: GraphProto['input'][number], axis: number, value: bigint | string): void {
  const t = v.type!.value;
  if (t.case !== 'tensorType') throw new Error('not a tensor type');
  t.value.shape!.dim[axis]!.value =
    typeof value === 'string' ? { case: 'dimParam', value } : { case: 'dimValue', value };
}

function cycles(): MutantCase[] {
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

function undefinedInputs(): MutantCase[] {
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

function absurdDims(): MutantCase[] {
  const out: MutantCase[] = [];
  for (const d of [-5n, -1n, 0n, 2n ** 40n, 2n ** 31n, 100_000n]) {
    for (const axis of [0, 1, 2]) {
      out.push({
        name: `absurd-dims/input-axis${axis}/${d}`,
        family: 'absurd-dims',
        model: edit('tinyCnn', (_, g) => setDim(g.input[0]!, axis, d)),
        // A negative size reads as a free dim. A declared batch or height of 0 or 2^40 is not wrong
        // in itself (the model loads and compiles); making an input of that size is, and the CLI
        // run of each case (explain) must refuse it with a typed error.
        mayLoad: axis !== 1,
      });
    }
  }
  for (const d of [-5n, -1n, 0n, 2n ** 40n]) {
    out.push({
      name: `absurd-dims/output/${d}`,
      family: 'absurd-dims',
      model: edit('tinyCnn', (_, g) => setDim(g.output[0]!, 1, d)),
      mayLoad: true,
    });
    out.push({
      name: `absurd-dims/initializer/${d}`,
      family: 'absurd-dims',
      model: edit('tinyCnn', (_, g) => {
        g.initializer[1]!.dims[0] = d;
      }),
      codes: corruptCodes,
      mayLoad: false,
    });
  }
  out.push({
    // [-2, -2] holds 4 elements if nothing checks the signs.
    name: 'absurd-dims/initializer-negative-pair',
    family: 'absurd-dims',
    model: edit('tinyCnn', (_, g) => {
      g.initializer[1]!.dims = [-2n, -2n];
    }),
    codes: corruptCodes,
    mayLoad: false,
  });
  out.push({
    name: 'absurd-dims/initializer-rank-9',
    family: 'absurd-dims',
    model: edit('tinyCnn', (_, g) => {
      g.initializer[0]!.dims = [4n, 3n, 3n, 3n, 1n, 1n, 1n, 1n, 1n];
    }),
    mayLoad: false,
  });
  out.push({
    name: 'absurd-dims/input-rank-0',
    family: 'absurd-dims',
    model: edit('tinyCnn', (_, g) => {
      const t = g.input[0]!.type!.value;
      if (t.case === 'tensorType') t.value.shape!.dim = [];
    }),
    mayLoad: false,
  });
  for (const [attr, v] of [
    ['strides', [0n, 0n]],
    ['strides', [-1n, -1n]],
    ['pads', [-3n, -3n, -3n, -3n]],
    ['pads', [1000n, 1000n, 1000n, 1000n]],
    ['dilations', [0n, 0n]],
    ['kernel_shape', [0n, 0n]],
    ['kernel_shape', [99n, 99n]],
    ['group', 0n],
    ['group', 5n],
  ] as const) {
    out.push({
      name: `absurd-dims/conv-${attr}/${String(v)}`,
      family: 'absurd-dims',
      model: edit('tinyCnn', (_, g) => {
        const conv = g.node[0]!;
        conv.attribute = conv.attribute.filter((a) => a.name !== attr);
        conv.attribute.push(
          typeof v === 'bigint'
            ? { $typeName: 'onnx.AttributeProto', ...attrInit(attr, A.INT), i: v }
            : { $typeName: 'onnx.AttributeProto', ...attrInit(attr, A.INTS), ints: [...v] },
        );
      }),
      mayLoad: attr === 'pads' && v[0] === 1000n,
    });
  }
  return out;
}

function attrInit(name: string, type: A) {
  const blank = create(GraphProtoSchema, { node: [{ attribute: [{ name, type }] }] }).node[0]!.attribute[0]!;
  const { $typeName: _, ...rest } = blank;
  return rest;
}

function wrongDtypes(): MutantCase[] {
  const out: MutantCase[] = [];
  // 0 undefined, 8 string, 10 float16, 16 bfloat16, 11 double, 7 int64, 9 bool, 99 unknown.
  for (const dt of [0, 8, 10, 16, 11, 7, 9, 99, -1]) {
    out.push({
      name: `wrong-dtype/initializer/${dt}`,
      family: 'wrong-dtype',
      model: edit('tinyCnn', (_, g) => {
        g.initializer[0]!.dataType = dt;
      }),
      mayLoad: false,
    });
    out.push({
      name: `wrong-dtype/input/${dt}`,
      family: 'wrong-dtype',
      model: edit('tinyCnn', (_, g) => {
        const t = g.input[0]!.type!.value;
        if (t.case === 'tensorType') t.value.elemType = dt;
      }),
      mayLoad: false,
    });
  }
  out.push({
    name: 'wrong-dtype/input-not-a-tensor',
    family: 'wrong-dtype',
    model: edit('tinyCnn', (_, g) => {
      g.input[0]!.type = create(GraphProtoSchema, {
        input: [{ type: { value: { case: 'sequenceType', value: {} } } }],
      }).input[0]!.type;
    }),
    mayLoad: false,
  });
  out.push({
    name: 'wrong-dtype/raw-data-odd-length',
    family: 'wrong-dtype',
    model: edit('tinyCnn', (_, g) => {
      const t = g.initializer[1]!;
      t.floatData = [];
      t.rawData = new Uint8Array(15);
    }),
    codes: corruptCodes,
    mayLoad: false,
  });
  return out;
}

function duplicateNames(): MutantCase[] {
  const c = (name: string, f: (g: GraphProto) => void, mayLoad = false, codes?: readonly ErrorCode[]): MutantCase => ({
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

function missingParts(): MutantCase[] {
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
export function nestedIf(depth: number): Uint8Array {
  // Nesting in both branches would make 2^depth graphs: the else branch stays shallow.
  const chain = (level: number): GraphProto => {
    const out = `y${level}`;
    const identity = (name: string) =>
      create(GraphProtoSchema, {
        name,
        node: [{ opType: 'Identity', input: ['x'], output: [`${name}_out`] }],
        output: [valueInfo({ name: `${name}_out`, shape: [1, 3] })],
      });
    if (level === depth) return identity(`leaf${level}`);
    return create(GraphProtoSchema, {
      name: `level${level}`,
      node: [
        {
          opType: 'If',
          name: `if${level}`,
          input: ['cond'],
          output: [out],
          attribute: [
            { name: 'then_branch', type: A.GRAPH, g: chain(level + 1) },
            { name: 'else_branch', type: A.GRAPH, g: identity(`else${level}`) },
          ],
        },
      ],
      output: [valueInfo({ name: out, shape: [1, 3] })],
    });
  };
  const top = chain(0);
  const m = buildModelProto({
    opset: 13,
    inputs: [
      { name: 'x', shape: [1, 3] },
      { name: 'cond', dtype: 'bool', shape: [] },
    ],
    outputs: [{ name: 'y0', shape: [1, 3] }],
    nodes: [],
  });
  m.graph!.node = top.node;
  return toBinary(ModelProtoSchema, m);
}

function nesting(): MutantCase[] {
  return [
    {
      name: 'nesting/if-50-deep',
      family: 'nesting',
      model: nestedIf(50),
      codes: ['model-invalid'],
      mayLoad: false,
    },
    {
      name: 'nesting/if-200-deep',
      family: 'nesting',
      model: nestedIf(200),
      codes: ['model-invalid'],
      mayLoad: false,
    },
    // Shallow nesting decodes; If has no gradient rule, so compiling must say so.
    { name: 'nesting/if-3-deep', family: 'nesting', model: nestedIf(3), mayLoad: false },
  ];
}

/** tinyCnn with its conv weights in an external file, the reference edited by `f`. */
function external(
  name: string,
  kv: Readonly<Record<string, string>>,
  files: Readonly<Record<string, Uint8Array | null>>,
  codes: readonly ErrorCode[],
  mayLoad = false,
): MutantCase {
  const model = edit(fromBinary(ModelProtoSchema, tinyCnn({ externalWeights: 'w.bin' })), (_, g) => {
    const t: TensorProto = g.initializer[0]!;
    t.externalData = Object.entries(kv).map(([key, value]) => ({
      $typeName: 'onnx.StringStringEntryProto' as const,
      key,
      value,
    }));
  });
  return { name: `external-data/${name}`, family: 'external-data', model, files, codes, mayLoad };
}

function externalData(): MutantCase[] {
  const w = tinyCnnConvWeightBytes();
  const len = String(w.length);
  const outside: ErrorCode[] = ['external-data-outside-model-dir'];
  const bad: ErrorCode[] = ['model-invalid', 'model-corrupt'];
  return [
    external('valid', { location: 'w.bin', offset: '0', length: len }, { 'w.bin': w }, [], true),
    external('valid-subfolder', { location: 'sub/./w.bin', length: len }, { 'sub/w.bin': w }, [], true),
    external(
      'valid-offset',
      { location: 'w.bin', offset: '64', length: len },
      { 'w.bin': Uint8Array.from([...new Uint8Array(64), ...w]) },
      [],
      true,
    ),
    external('parent', { location: '../x' }, { 'w.bin': w }, outside),
    external('parent-deep', { location: 'sub/../../x.bin' }, { 'w.bin': w }, outside),
    external('absolute', { location: '/etc/passwd' }, {}, outside),
    external('windows-absolute', { location: 'C:\\Windows\\win.ini' }, {}, outside),
    external('unc', { location: '\\\\server\\share\\w.bin' }, {}, outside),
    external('url', { location: 'file:///etc/passwd' }, {}, outside),
    external('empty-location', { location: '' }, {}, outside),
    external('no-location', { offset: '0' }, {}, outside),
    external('nul-byte', { location: 'w.bin\0.txt' }, { 'w.bin': w }, outside),
    external('dot', { location: '.' }, {}, outside),
    external('missing-file', { location: 'gone.bin' }, {}, ['external-data-missing']),
    external('directory', { location: 'dir' }, { dir: null }, [
      'file-unreadable',
      'external-data-missing',
      'model-invalid',
      'model-corrupt',
    ]),
    external('offset-beyond', { location: 'w.bin', offset: '100000', length: len }, { 'w.bin': w }, bad),
    external('length-beyond', { location: 'w.bin', length: '100000' }, { 'w.bin': w }, bad),
    external(
      'offset-plus-length-beyond',
      { location: 'w.bin', offset: '8', length: len },
      { 'w.bin': w },
      bad,
    ),
    external('negative-offset', { location: 'w.bin', offset: '-4', length: len }, { 'w.bin': w }, bad),
    external('negative-length', { location: 'w.bin', length: '-432' }, { 'w.bin': w }, bad),
    external('huge-offset', { location: 'w.bin', offset: '9223372036854775807' }, { 'w.bin': w }, bad),
    external('fractional-offset', { location: 'w.bin', offset: '1.5' }, { 'w.bin': w }, bad),
    external('hex-offset', { location: 'w.bin', offset: '0x10' }, { 'w.bin': w }, bad),
    external('text-length', { location: 'w.bin', length: 'all' }, { 'w.bin': w }, bad),
    external('length-not-dims', { location: 'w.bin', length: '400' }, { 'w.bin': w }, bad),
    external('short-file', { location: 'w.bin' }, { 'w.bin': w.subarray(0, 100) }, bad),
    external('empty-file', { location: 'w.bin' }, { 'w.bin': new Uint8Array() }, bad),
  ];
}

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
function structural(r: () => number, count: number): MutantCase[] {
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

/** A few hundred malformed models; the same `seed` gives the same cases, byte for byte. */
export function onnxMutants(seed = 11): MutantCase[] {
  const r = prng(seed);
  return [
    ...bitFlips(r, 90),
    ...truncations(r, 70),
    ...hugeVarints(),
    ...cycles(),
    ...undefinedInputs(),
    ...absurdDims(),
    ...wrongDtypes(),
    ...duplicateNames(),
    ...missingParts(),
    ...nesting(),
    ...externalData(),
    ...structural(r, 70),
  ];
}
