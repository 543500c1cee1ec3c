// Default and candidate Grad-CAM layers: on the shared models the default must be the first layer
// each model's README names; findLayer suggests close names.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import { findLayer } from '../../src/model/layers.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { modelPath, sharedDir, sharedModels, skipNoShared } from '../helpers/shared.ts';

/** The first backquoted tensor name after the README's Grad-CAM heading. */
function readmeLayer(model: string): string {
  const text = readFileSync(join(sharedDir, 'models', model, 'README.md'), 'utf8');
  const at = text.search(/Grad-CAM (target )?layer/);
  const m = /\|[^|\n]*\| `([^`]+)` \|/.exec(text.slice(at)) ?? /`([^`]+)`/.exec(text.slice(at));
  if (at < 0 || !m) throw new Error(`no Grad-CAM layer in ${model}/README.md`);
  return m[1]!;
}

describe('default layer = README first Grad-CAM layer', { skip: skipNoShared }, () => {
  for (const name of sharedModels) {
    test(name, async (t) => {
      const model = await openImageModel(modelPath(name));
      try {
        const expected = readmeLayer(name);
        const layer = await model.defaultLayer();
        t.diagnostic(`${name}: ${layer.name} [${layer.shape.join(', ')}] from ${layer.op}`);
        assert.equal(layer.name, expected);
        const layers = await model.layers();
        assert.ok(layers.length > 5, 'a CNN has many candidate layers');
        assert.ok(
          layers.every((l) => l.shape.length === 4),
          'every candidate is 4-D',
        );
        assert.ok(
          layers.every(
            (l) =>
              typeof l.shape[2] !== 'number' ||
              typeof l.shape[3] !== 'number' ||
              (l.shape[2] as number) * (l.shape[3] as number) > 1,
          ),
          'every candidate has spatial size > 1',
        );
        // Graph order: the default (a late layer) comes after the README's mid-level layer when listed.
        const names = layers.map((l) => l.name);
        assert.ok(names.indexOf(expected) > names.length / 2, 'the default layer sits late in the graph');
      } finally {
        await model.release();
      }
    });
  }
});

describe('findLayer', () => {
  const layers = [
    {
      name: 'features/conv1/Relu',
      shape: [1, 8, 4, 4],
      op: 'Relu',
      node: 'n1',
      view: { kind: 'nchw' as const },
    },
    {
      name: 'features/conv2/Relu',
      shape: [1, 8, 2, 2],
      op: 'Relu',
      node: 'n2',
      view: { kind: 'nchw' as const },
    },
  ];
  test('exact name', () => {
    assert.equal(findLayer(layers, 'features/conv2/Relu').node, 'n2');
  });
  test('unknown name lists the closest ones', () => {
    assert.throws(
      () => findLayer(layers, 'features/conv2/relu6'),
      (e) => isGradsightError(e, 'layer-not-found') && e.hint!.includes('features/conv2/Relu'),
    );
  });
});
