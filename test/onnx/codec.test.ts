// decode/encode: byte-identical round trips, identical ORT outputs, and typed errors for bad input.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { isGradsightError } from '../../src/errors.ts';
import { decodeModel, encodeModel } from '../../src/onnx/index.ts';
import { subgraphDepth } from '../../src/onnx/sniff.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { float32 } from '../../src/tensor/tensor.ts';
import { buildModelProto } from '../helpers/onnx-builder.ts';
import { nestedIf } from '../helpers/onnx-mutants.ts';
import { modelPath, sharedModels, skipNoShared } from '../helpers/shared.ts';

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(seed: number, n: number): Uint8Array {
  const r = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

function assertCode(bytes: Uint8Array, code: string, message?: RegExp): void {
  assert.throws(
    () => decodeModel(bytes),
    (e: unknown) => {
      assert.ok(isGradsightError(e), `expected a GradsightError, got ${String(e)}`);
      assert.equal(e.code, code, e.message);
      if (message) assert.match(e.message, message);
      return true;
    },
  );
}

describe('round trip', { skip: skipNoShared }, () => {
  for (const name of sharedModels) {
    test(`${name}: decode -> encode is byte-identical`, () => {
      const bytes = readFileSync(modelPath(name));
      const out = encodeModel(decodeModel(bytes));
      assert.equal(out.byteLength, bytes.byteLength);
      assert.ok(Buffer.from(out).equals(bytes));
    });
  }

  for (const name of ['squeezenet1_1_random', 'mobilenet_v2_1.0_224_quant']) {
    test(`${name}: ORT outputs are bit-identical after re-encoding`, async () => {
      const bytes = new Uint8Array(readFileSync(modelPath(name)));
      const r = mulberry32(7);
      const input = float32(
        Float32Array.from({ length: 3 * 224 * 224 }, () => r() * 2 - 1),
        [1, 3, 224, 224],
      );
      const run = async (b: Uint8Array) => {
        const s = await nodeRuntime.createSession(b);
        try {
          return (await s.run({ input })).logits!;
        } finally {
          await s.release();
        }
      };
      const a = await run(bytes);
      const b = await run(encodeModel(decodeModel(bytes)));
      assert.deepEqual(b.dims, a.dims);
      assert.ok(
        Buffer.from(new Uint8Array(b.data.buffer)).equals(Buffer.from(new Uint8Array(a.data.buffer))),
      );
    });
  }

  test('unknown fields survive the round trip', () => {
    const bytes = toBinary(
      ModelProtoSchema,
      buildModelProto({
        inputs: [{ name: 'x', shape: [1] }],
        outputs: [{ name: 'y', shape: [1] }],
        nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
      }),
    );
    // field 99, varint 5: a field from a future ONNX schema.
    const withUnknown = new Uint8Array([...bytes, 0x98, 0x06, 0x05]);
    assert.ok(Buffer.from(encodeModel(decodeModel(withUnknown))).equals(Buffer.from(withUnknown)));
  });
});

describe('bad input', () => {
  test('empty input is not-onnx', () => assertCode(new Uint8Array(0), 'not-onnx', /empty/));

  test('PNG, JPEG, JSON, text, HTML are not-onnx and say what they look like', () => {
    assertCode(
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      'not-onnx',
      /PNG/,
    );
    assertCode(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46]), 'not-onnx', /JPEG/);
    const enc = new TextEncoder();
    assertCode(enc.encode('{"mean": [0.485, 0.456, 0.406]}\n'), 'not-onnx', /JSON/);
    assertCode(enc.encode('tench\ngoldfish\ngreat white shark\n'), 'not-onnx', /text/);
    assertCode(enc.encode('<!DOCTYPE html><html><body>404</body></html>'), 'not-onnx', /HTML/);
  });

  test('random bytes of several seeds and lengths are not-onnx', () => {
    let count = 0;
    for (const n of [1, 2, 7, 64, 1000, 65536]) {
      for (let seed = 1; seed <= 40; seed++) {
        assertCode(randomBytes(seed * 1000 + n, n), 'not-onnx');
        count++;
      }
    }
    assert.equal(count, 240);
  });

  test('random bytes after a valid-looking ir_version are typed errors, never raw exceptions', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const bytes = new Uint8Array([0x08, 0x07, ...randomBytes(seed, 300)]);
      try {
        decodeModel(bytes);
        assert.fail('decoded random bytes');
      } catch (e) {
        assert.ok(isGradsightError(e), `seed ${seed}: ${String(e)}`);
        assert.ok(['not-onnx', 'model-corrupt', 'model-invalid'].includes(e.code), e.code);
      }
    }
  });

  test('a truncated model is model-corrupt with a hint', { skip: skipNoShared }, () => {
    const bytes = readFileSync(modelPath('squeezenet1_1_random'));
    for (const cut of [16, 100, 1000, 0.1, 0.5, 0.9, 0.999]) {
      const at = cut < 1 ? Math.floor(bytes.byteLength * cut) : cut;
      assert.throws(
        () => decodeModel(bytes.subarray(0, at)),
        (e: unknown) =>
          isGradsightError(e, 'model-corrupt') &&
          e.hint === 'the file is truncated or damaged; download/export it again',
        `cut at ${at}`,
      );
    }
  });

  test('a model with ir_version but no graph is model-invalid', () => {
    assertCode(new Uint8Array([0x08, 0x08, 0x12, 0x04, 0x74, 0x65, 0x73, 0x74]), 'model-invalid', /no graph/);
  });

  test('subgraphs nested past the protobuf recursion limit name the nesting, not damage', () => {
    // 31 levels decode (ONNX Runtime reads them too); 32 and more hit the limit of 100 messages.
    assert.doesNotThrow(() => decodeModel(nestedIf(31)));
    for (const depth of [32, 50]) {
      assert.throws(
        () => decodeModel(nestedIf(depth)),
        (e: unknown) => {
          assert.ok(isGradsightError(e, 'model-invalid'), String(e));
          assert.match(e.message, new RegExp(`nests subgraphs ${depth} levels deep`));
          assert.match(e.message, /deeper than the 31 levels/);
          assert.match(e.hint ?? '', /flatten the control flow/);
          assert.doesNotMatch(`${e.message} ${e.hint}`, /truncated|damaged/);
          return true;
        },
      );
    }
  });

  test('subgraphDepth counts If nesting without decoding', () => {
    for (const depth of [0, 1, 3, 50]) assert.equal(subgraphDepth(nestedIf(depth)), depth);
  });

  test('an IR version outside 1..64 in a model with a graph is model-invalid naming the version', () => {
    for (const v of [-1n, -(2n ** 63n), 65n, 2n ** 63n - 1n]) {
      const m = buildModelProto({
        inputs: [{ name: 'x', shape: [1] }],
        outputs: [{ name: 'y', shape: [1] }],
        nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
      });
      m.irVersion = BigInt.asIntN(64, v);
      assertCode(
        toBinary(ModelProtoSchema, m),
        'model-invalid',
        new RegExp(`IR version ${BigInt.asIntN(64, v)};`),
      );
    }
  });

  test('names defined twice and outputs nothing computes are model-invalid', () => {
    const spec = {
      inputs: [{ name: 'x', shape: [2] }],
      outputs: [{ name: 'y', shape: [2] }],
      nodes: [{ op: 'Add', inputs: ['x', 'b'], outputs: ['y'] }],
      initializers: [{ name: 'b', dims: [2], values: [1, 2] }],
    };
    const bytesOf = (f: (m: ReturnType<typeof buildModelProto>) => void) => {
      const m = buildModelProto(spec);
      f(m);
      return toBinary(ModelProtoSchema, m);
    };
    assert.doesNotThrow(() => decodeModel(bytesOf(() => {})));
    assertCode(
      bytesOf((m) => m.graph!.initializer.push(m.graph!.initializer[0]!)),
      'model-invalid',
      /'b' is defined twice/,
    );
    assertCode(
      bytesOf((m) => m.graph!.input.push(m.graph!.input[0]!)),
      'model-invalid',
      /'x' is declared twice/,
    );
    assertCode(
      bytesOf((m) => {
        m.graph!.output = [];
      }),
      'model-invalid',
      /no outputs/,
    );
    assertCode(
      bytesOf((m) => {
        m.graph!.output[0]!.name = 'z';
      }),
      'model-invalid',
      /output 'z' is not computed/,
    );
    // An output that is an input or an initializer is computed (trivially).
    assert.doesNotThrow(() =>
      decodeModel(
        bytesOf((m) => {
          m.graph!.output[0]!.name = 'b';
        }),
      ),
    );
  });

  test('a stored tensor with negative dims is model-invalid, even when the element count fits', () => {
    const m = buildModelProto({
      inputs: [{ name: 'x', shape: [4] }],
      outputs: [{ name: 'y', shape: [4] }],
      nodes: [{ op: 'Add', inputs: ['x', 'b'], outputs: ['y'] }],
      initializers: [{ name: 'b', dims: [4], values: [1, 2, 3, 4] }],
    });
    m.graph!.initializer[0]!.dims = [-2n, -2n];
    assertCode(toBinary(ModelProtoSchema, m), 'model-invalid', /tensor 'b' has dims \[-2, -2\]/);
  });

  test('a negative declared size is a free dim', () => {
    const m = buildModelProto({
      inputs: [{ name: 'x', shape: [-1, 3] }],
      outputs: [{ name: 'y', shape: [-1, 3] }],
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    });
    assert.deepEqual(decodeModel(toBinary(ModelProtoSchema, m)).graph.inputs[0]!.shape, [null, 3]);
  });
});
