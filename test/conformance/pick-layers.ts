// Prints, as JSON, gradsight's Grad-CAM layers of an ONNX image model: the default layer and the
// candidate list, exactly as users get them. conformance/export_models.py calls it (so the PyTorch
// references are computed for the layers gradsight picks) and torchvision.test.ts checks the same.
//
//   node --import tsx test/conformance/pick-layers.ts model.onnx 256x320   (HxW, or one number)

import { readFileSync } from 'node:fs';
import { candidateLayers, defaultLayer } from '../../src/model/layers.ts';
import { decodeModel, inferShapes } from '../../src/onnx/index.ts';

/** `size`: one number for a square input, or [H, W]. */
export function pickLayers(
  bytes: Uint8Array,
  size: number | readonly [number, number],
  batch: number | string = 'N',
) {
  const model = decodeModel(bytes);
  const input = model.graph.inputs[0]!.name;
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  const shapes = inferShapes(model, { [input]: [batch, 3, h, w] });
  return {
    input,
    default: defaultLayer(model.graph, shapes).name,
    candidates: candidateLayers(model.graph, shapes).map((l) => ({ name: l.name, op: l.op, shape: l.shape })),
  };
}

if (process.argv[1]?.endsWith('pick-layers.ts')) {
  const [path, size] = process.argv.slice(2);
  const hw = size?.split('x').map(Number);
  if (!path || !hw || hw.some((d) => !(d > 0)) || hw.length > 2)
    throw new Error('usage: pick-layers.ts model.onnx HxW');
  const [h, w] = [hw[0]!, hw[1] ?? hw[0]!];
  process.stdout.write(`${JSON.stringify(pickLayers(readFileSync(path), [h, w]))}\n`);
}
