// Runs an ONNX model on ONNX Runtime (float32, CPU) and saves chosen intermediate tensors as .npy.
// conformance/export_models.py uses it to read ORT's ReLU decisions, so that its second PyTorch
// reference can take the same branch at every ReLU as the float32 forward pass gradsight runs on.
//
//   node --import tsx test/conformance/ort-values.ts model.onnx input.npy names.json out-dir [seed.npy wrt.json]
//
// names.json is a JSON list of tensor names; tensor i is written to out-dir/i.npy. With seed.npy and
// wrt.json (tensor names), the values come from gradsight's gradient model (standard rules) for those
// tensors rather than from the plain model: ORT fuses and orders the forward pass differently once
// backward nodes read its tensors, and a ReLU input within rounding of 0 can change side with that.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileGradients } from '../../src/autodiff/index.ts';
import { appendGraphOutputs, decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { decodeNpy, encodeNpy } from '../../src/tensor/npy.ts';

async function main(): Promise<void> {
  const [modelPath, inputPath, namesPath, out, seedPath, wrtPath] = process.argv.slice(2);
  if (!modelPath || !inputPath || !namesPath || !out) {
    throw new Error('usage: ort-values.ts model.onnx input.npy names.json out-dir');
  }
  const names: string[] = JSON.parse(readFileSync(namesPath, 'utf8'));
  let bytes: Uint8Array = new Uint8Array(readFileSync(modelPath));
  const model = decodeModel(bytes);
  const input = model.graph.inputs[0]!.name;
  const x = decodeNpy(readFileSync(inputPath), inputPath);
  const feeds = { [input]: x };
  if (seedPath && wrtPath) {
    const wrt: string[] = JSON.parse(readFileSync(wrtPath, 'utf8'));
    const compiled = compileGradients(bytes, model, { wrt, inputShapes: { [input]: x.dims } });
    bytes = compiled.bytes;
    feeds[compiled.seed.name] = decodeNpy(readFileSync(seedPath), seedPath);
  }
  const session = await nodeRuntime.createSession(appendGraphOutputs(bytes, names));
  try {
    const all = await session.run(feeds);
    names.forEach((n, i) => {
      writeFileSync(join(out, `${i}.npy`), encodeNpy(all[n]!));
    });
  } finally {
    await session.release();
  }
}

await main();
