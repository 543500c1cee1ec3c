// Multi-node cases (a CNN head under every rule set, a residual fan-out, an integer Shape path that
// must stop the gradient) and the error for an op without a rule.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGradients } from '../../../src/autodiff/index.ts';
import { isGradsightError } from '../../../src/errors.ts';
import { decodeModel } from '../../../src/onnx/index.ts';
import { buildModel } from '../../helpers/onnx-builder.ts';
import { describeFamily } from './family.ts';

describeFamily('chains');

describe('ops without a gradient rule', () => {
  const compileWith = (op: string, domain?: string) => {
    const bytes = buildModel({
      opset: 13,
      inputs: [{ name: 'x', shape: [2, 3] }],
      outputs: [{ name: 'y', shape: [2, 3] }],
      nodes: [
        { op, name: 'odd_node', inputs: ['x'], outputs: ['c'], ...(domain ? { domain } : {}) },
        { op: 'Relu', name: 'relu', inputs: ['c'], outputs: ['y'] },
      ],
    });
    return () => compileGradients(bytes, decodeModel(bytes), { wrt: ['x'] });
  };

  it('throws unsupported-op naming the node and the op', () => {
    assert.throws(compileWith('Cos'), (e: unknown) => {
      assert.ok(isGradsightError(e, 'unsupported-op'), String(e));
      assert.match(e.message, /Cos/);
      assert.match(e.message, /odd_node/);
      assert.deepEqual(e.details, { node: 'odd_node', op: 'Cos' });
      assert.match(e.hint ?? '', /Conv/, 'the hint lists the supported ops');
      return true;
    });
  });

  it('names the domain of a non-standard op', () => {
    assert.throws(compileWith('FastGelu', 'com.microsoft'), (e: unknown) => {
      assert.ok(isGradsightError(e, 'unsupported-op'), String(e));
      assert.match(e.message, /com\.microsoft\.FastGelu/);
      return true;
    });
  });

  it('does not need a rule for nodes off the gradient path', () => {
    const bytes = buildModel({
      opset: 13,
      inputs: [{ name: 'x', shape: [2, 3] }],
      outputs: [{ name: 'y', shape: [2, 3] }],
      nodes: [
        { op: 'Cos', name: 'before', inputs: ['x'], outputs: ['c'] },
        { op: 'Relu', name: 'relu', inputs: ['c'], outputs: ['y'] },
      ],
    });
    assert.doesNotThrow(() => compileGradients(bytes, decodeModel(bytes), { wrt: ['c'] }));
  });
});
