// External data: listing references, rejecting locations outside the model directory, and supplying
// the bytes so Initializer.values() works.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import {
  checkExternalLocation,
  decodeModel,
  externalDataRefs,
  withExternalData,
} from '../../src/onnx/index.ts';
import { buildModel } from '../helpers/onnx-builder.ts';

const withLocations = (...locations: string[]) =>
  decodeModel(
    buildModel({
      inputs: [{ name: 'x', shape: [2] }],
      outputs: [{ name: 'y' }],
      initializers: locations.map((location, i) => ({
        name: `w${i}`,
        dims: [2],
        values: [],
        external: { location, offset: 8 * i, length: 8 },
      })),
      nodes: [{ op: 'Mul', inputs: ['x', 'w0'], outputs: ['y'] }],
    }),
  );

const outside = (e: unknown) => isGradsightError(e, 'external-data-outside-model-dir');

test('references are listed with location, offset and length', () => {
  const model = withLocations('../../etc/passwd', '/etc/passwd', 'sub/ok.bin');
  assert.deepEqual(externalDataRefs(model), [
    { tensor: 'w0', location: '../../etc/passwd', offset: 0, length: 8 },
    { tensor: 'w1', location: '/etc/passwd', offset: 8, length: 8 },
    { tensor: 'w2', location: 'sub/ok.bin', offset: 16, length: 8 },
  ]);
  assert.throws(() => checkExternalLocation('../../etc/passwd'), outside);
  assert.throws(() => checkExternalLocation('/etc/passwd'), outside);
  assert.equal(checkExternalLocation('sub/ok.bin'), 'sub/ok.bin');
});

test('checkExternalLocation normalizes inside paths and rejects everything else', () => {
  assert.equal(checkExternalLocation('weights.bin'), 'weights.bin');
  assert.equal(checkExternalLocation('./a/./b/../w.bin'), 'a/w.bin');
  assert.equal(checkExternalLocation('a\\w.bin'), 'a/w.bin');
  for (const bad of [
    '',
    '..',
    'a/../..',
    '../w.bin',
    'a/../../w.bin',
    '/w.bin',
    'C:\\w.bin',
    'c:w.bin',
    '\\\\server\\share\\w.bin',
    'w\0.bin',
    '.',
    'file:///etc/passwd',
  ]) {
    assert.throws(() => checkExternalLocation(bad), outside, JSON.stringify(bad));
  }
});

test('values() needs the file, then reads offset/length from it', () => {
  const model = withLocations('w.bin', 'w.bin');
  assert.throws(
    () => model.graph.initializers.get('w1')!.values(),
    (e: unknown) => isGradsightError(e, 'external-data-missing') && e.details.location === 'w.bin',
  );
  const file = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
  const full = withExternalData(model, new Map([['w.bin', file]]));
  assert.deepEqual([...(full.graph.initializers.get('w0')!.values() as Float32Array)], [1, 2]);
  assert.deepEqual([...(full.graph.initializers.get('w1')!.values() as Float32Array)], [3, 4]);
  // A file too short for offset + length is corrupt, not a crash.
  const short = withExternalData(model, new Map([['w.bin', file.subarray(0, 12)]]));
  assert.throws(
    () => short.graph.initializers.get('w1')!.values(),
    (e: unknown) => isGradsightError(e, 'model-corrupt'),
  );
});
