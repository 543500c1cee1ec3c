// Value-level mutants: absurd dims and attributes, wrong dtypes, deeply nested subgraphs and
// external-data references that point outside the folder or past the end of the file.

import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as A,
  type GraphProto,
  GraphProtoSchema,
  ModelProtoSchema,
  type TensorProto,
} from 'onnx-buf';
import type { ErrorCode } from '../../src/errors.ts';
import { buildModelProto, valueInfo } from './onnx-builder.ts';
import { corruptCodes, edit, type MutantCase, setDim } from './onnx-mutant-kit.ts';
import { tinyCnn, tinyCnnConvWeightBytes } from './tiny-models.ts';

export function absurdDims(): MutantCase[] {
  const out: MutantCase[] = [];
  for (const d of [-5n, -1n, 0n, 2n ** 40n, 2n ** 31n, 100_000n]) {
    for (const axis of [0, 1, 2]) {
      out.push({
        name: `absurd-dims/input-axis${axis}/${d}`,
        family: 'absurd-dims',
        model: edit('tinyCnn', (_, g) => setDim(g.input[0]!, axis, d)),
        // A negative size reads as a free dim (channels too). A declared batch or height of 0 or
        // 2^40 is not wrong in itself (the model loads and compiles); making an input of that size
        // is, and the CLI run of each case (explain) must refuse it with a typed error.
        mayLoad: axis !== 1 || d < 0n,
        explainFails: axis !== 1 && (d === 0n || d >= 2n ** 31n || (axis === 0 && d === 100_000n)),
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

export function wrongDtypes(): MutantCase[] {
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

export function nesting(): MutantCase[] {
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

export function externalData(): MutantCase[] {
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
