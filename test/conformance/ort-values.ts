// Runs an ONNX model on ONNX Runtime (float32, CPU) and saves chosen intermediate tensors as .npy.
// conformance/export_models.py uses it to read ORT's ReLU decisions, so that its second PyTorch
// reference can take the same branch at every ReLU as the float32 forward pass gradsight runs on.
//
//   node --import tsx test/conformance/ort-values.ts model.onnx input.npy names.json out-dir
//
// names.json is a JSON list of tensor names; tensor i is written to out-dir/i.npy.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendGraphOutputs, decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { decodeNpy, encodeNpy } from '../../src/tensor/npy.ts';

async function main(): Promise<void> {
  const [modelPath, inputPath, namesPath, out] = process.argv.slice(2);
  if (!modelPath || !inputPath || !namesPath || !out) {
    throw new Error('usage: ort-values.ts model.onnx input.npy names.json out-dir');
  }
  const names: string[] = JSON.parse(readFileSync(namesPath, 'utf8'));
  const bytes = new Uint8Array(readFileSync(modelPath));
  const input = decodeModel(bytes).graph.inputs[0]!.name;
  const session = await nodeRuntime.createSession(appendGraphOutputs(bytes, names));
  try {
    const all = await session.run({ [input]: decodeNpy(readFileSync(inputPath), inputPath) });
    names.forEach((n, i) => {
      writeFileSync(join(out, `${i}.npy`), encodeNpy(all[n]!));
    });
  } finally {
    await session.release();
  }
}

await main();
