// Static shape inference against ONNX Runtime on the shared models: every tensor a node produces must
// have exactly the dims ORT reports for it (one probe run per model and batch size).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import {
  decodeModel,
  inferShapes,
  type Model,
  modelFromProto,
  probeShapes,
  unresolved,
} from '../../../src/onnx/index.ts';
import { nodeRuntime } from '../../../src/runtime/node.ts';
import { modelPath, sharedModels, skipNoShared } from '../../helpers/shared.ts';

let checked = 0;

/** The model without the shapes its file declares (value_info, output types), so only rules count. */
function undeclared(model: Model): Model {
  const g = model.proto.graph!;
  const graph = { ...g, valueInfo: [], output: g.output.map((o) => ({ ...o, type: undefined })) };
  return modelFromProto({ ...model.proto, graph });
}

describe('shapes of the shared models match ONNX Runtime', { skip: skipNoShared }, () => {
  after(() => console.log(`# shape inference: ${checked} tensors checked against ONNX Runtime`));

  for (const name of sharedModels) {
    const batches = name.startsWith('deeplab') ? [1] : [1, 2];
    for (const batch of batches) {
      test(`${name}, batch ${batch}`, async () => {
        const model = decodeModel(readFileSync(modelPath(name)));
        const declared = model.graph.inputs[0]!.shape!;
        const dims = [batch, ...declared.slice(1)] as number[];
        const shapes = inferShapes(undeclared(model), { input: dims });
        assert.deepEqual(unresolved(model, shapes), []);
        const ort = await probeShapes(nodeRuntime, model, { input: dims });
        for (const node of model.graph.nodes) {
          for (const out of node.outputs) {
            assert.deepEqual(shapes.get(out)?.shape, ort.get(out), `${node.name} (${node.opType}) -> ${out}`);
            checked++;
          }
        }
      });
    }

    test(`${name}: the symbolic batch flows through to the output`, () => {
      const model = decodeModel(readFileSync(modelPath(name)));
      const shapes = inferShapes(undeclared(model));
      const out = shapes.get(model.graph.outputs[0]!.name)!.shape!;
      assert.equal(out[0], 'batch');
      assert.ok(
        out.slice(1).every((d) => typeof d === 'number'),
        JSON.stringify(out),
      );
      assert.deepEqual(unresolved(model, shapes), []);
    });
  }
});
