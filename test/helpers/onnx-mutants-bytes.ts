// Byte-level mutants: bit flips, truncations and varints too large for what they encode.

import { baseNames, bases, corruptCodes, edit, type MutantCase, setDim } from './onnx-mutant-kit.ts';

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

export function bitFlips(r: () => number, count: number): MutantCase[] {
  const out: MutantCase[] = [];
  for (let i = 0; i < count; i++) {
    const base = baseNames[i % baseNames.length]!;
    const bytes = Uint8Array.from(bases[base]);
    const flips = 1 + Math.floor(r() * 4);
    const at: string[] = [];
    for (let k = 0; k < flips; k++) {
      const p = Math.floor(r() * bytes.length);
      const bit = Math.floor(r() * 8);
      bytes[p]! ^= 1 << bit;
      at.push(`${p}.${bit}`);
    }
    // The case index keeps two draws of the same flips apart.
    out.push({
      name: `bit-flip/${base}/${i}@${at.join('+')}`,
      family: 'bit-flip',
      model: bytes,
      mayLoad: true,
    });
  }
  return out;
}

export function truncations(r: () => number, count: number): MutantCase[] {
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

export function hugeVarints(): MutantCase[] {
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
