// The library side of the compiled-explainer parity test, run as its own process so the test itself
// touches nothing of gradsight but the files: for each case it compiles an explainer .onnx, and
// computes the same explanation with the library's Explainer. Writes, into <dir>/<model>/:
//   manifest.json   the cases: file, feeds and expected outputs (name, dtype, dims, .bin file)
//   *.onnx, *.bin   compiled explainers; raw little-endian float32 / int64 tensors
// Usage: node --import tsx test/compile/make-expected.ts <dir> tiny|mobilenet

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { COMPILABLE_METHODS, compileExplainer, type SeedInput } from '../../src/compile/index.ts';
import { Explainer } from '../../src/explain/explainer.ts';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { imagesToBatch } from '../../src/image/preprocess.ts';
import type { MethodId } from '../../src/methods/types.ts';
import { ImageModel } from '../../src/model/image-model.ts';
import { openImageModel } from '../../src/model/open-node.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import type { TargetSpec } from '../../src/targets/index.ts';
import { type Float32Tensor, topK } from '../../src/tensor/tensor.ts';
import { imagePath, modelPath } from '../helpers/shared.ts';
import { seededValues, tinyStridedCnn } from '../helpers/tiny-models.ts';

export interface TensorFile {
  readonly name: string;
  readonly dtype: 'float32' | 'int64';
  readonly dims: readonly number[];
  readonly file: string;
}

export interface Case {
  readonly id: string;
  readonly file: string;
  readonly feeds: readonly TensorFile[];
  readonly expected: readonly TensorFile[];
}

interface Spec {
  readonly id: string;
  readonly method: MethodId;
  readonly layers?: readonly string[];
  readonly counterfactual?: boolean;
  readonly seedInput?: SeedInput;
  /** Classes per image (default: `classes`). */
  readonly classes?: readonly number[];
  /** Seed rows for seedInput 'seed' (one per image); default: one-hot of the classes. */
  readonly seeds?: readonly Float32Array[];
}

async function main(dir: string, which: string): Promise<void> {
  const out = join(dir, which);
  await mkdir(out, { recursive: true });
  const { model, batch } = which === 'tiny' ? await tiny() : await mobilenet();
  const shapes = await model.shapes();
  const logits = await model.run(batch);
  const k = logits.dims[1]!;
  // Different classes per image: image 0's top-1, image 1's best class other than that.
  const top = (i: number) => topK(logits.data.subarray(i * k, (i + 1) * k), 3);
  const first = top(0)[0]!;
  const classes = [first, top(1).find((c) => c !== first)!];
  // Counterfactuals of the least likely classes: their maps are not empty.
  const bottom = (i: number) =>
    topK(
      logits.data.subarray(i * k, (i + 1) * k).map((v) => -v),
      2,
    );
  const unlikely = [bottom(0)[0]!, bottom(1).find((c) => c !== bottom(0)[0])!];
  const contrast = classes.map((c) => {
    const s = new Float32Array(k);
    s[c] = 1;
    s[(c + 1) % k] = -1;
    return s;
  });
  const layers = await model.layers();
  const defaultLayer = (await model.defaultLayer()).name;
  // A second layer at another resolution for the multi-layer case.
  const other = layers.filter((l) => l.shape[2] !== layers.at(-1)!.shape[2]).at(-1)!.name;
  const specs: Spec[] = [
    // Every compilable method of the method table, at the default layer.
    ...COMPILABLE_METHODS.map((method) => ({ id: method, method })),
    { id: 'gradcam-counterfactual', method: 'gradcam', counterfactual: true, classes: unlikely },
    { id: 'gradcam-2-layers', method: 'gradcam', layers: [defaultLayer, other] },
    { id: 'gradcam-seed', method: 'gradcam', seedInput: 'seed', seeds: contrast },
    {
      id: 'hirescam-seed-counterfactual',
      method: 'hirescam',
      seedInput: 'seed',
      counterfactual: true,
      seeds: unlikely.map((c) => oneHot(k, c)),
    },
  ];
  const explainer = Explainer.fromModel(model);
  const cases: Case[] = [];
  const write = async (name: string, dtype: 'float32' | 'int64', dims: number[], data: ArrayBufferView) => {
    const file = `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.bin`;
    await writeFile(join(out, file), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return { dtype, dims, file };
  };
  const imageFeed = await write('input', 'float32', [...batch.dims], batch.data);
  for (const s of specs) {
    const compiled = compileExplainer(model.source.bytes, model.model, {
      method: s.method,
      shapes,
      ...(s.layers ? { layers: s.layers } : {}),
      ...(s.counterfactual ? { counterfactual: true } : {}),
      ...(s.seedInput ? { seedInput: s.seedInput } : {}),
    });
    const file = `${s.id}.onnx`;
    await writeFile(join(out, file), compiled.bytes);
    const [image, second] = compiled.inputs;
    const rowClasses = s.classes ?? classes;
    const seedRows = s.seeds ?? rowClasses.map((c) => oneHot(k, c));
    const seedFeed =
      s.seedInput === 'seed'
        ? await write(`${s.id}.seed`, 'float32', [2, k], concat(seedRows))
        : await write(`${s.id}.class`, 'int64', [2], BigInt64Array.from(rowClasses.map(BigInt)));
    const feeds = [
      { name: image!.name, ...imageFeed },
      { name: second!.name, ...seedFeed },
    ];
    // The library, image by image, with the same target (and layers, counterfactual).
    const expected: Float32Array[] = [];
    for (let i = 0; i < 2; i++) {
      const target: TargetSpec =
        s.seedInput === 'seed'
          ? { kind: 'seed', seed: seedRows[i]! }
          : { kind: 'class', index: rowClasses[i]! };
      const r = await explainer.explain(rowOf(batch, i), {
        method: s.method,
        target,
        layers: compiled.layers,
        ...(s.counterfactual ? { counterfactual: true } : {}),
      });
      const e = r.explanations[0]!;
      expected.push((e.map ?? e.pixels)!);
    }
    const pixels = s.method === 'guided-backprop' || s.method === 'guided-gradcam';
    const mainName = pixels ? 'pixels' : 'map';
    const dims = pixels ? [...batch.dims] : [2, ...batch.dims.slice(2)];
    cases.push({
      id: s.id,
      file,
      feeds,
      expected: [
        { name: mainName, ...(await write(`${s.id}.${mainName}`, 'float32', dims, concat(expected))) },
        { name: compiled.explained, ...(await write('logits', 'float32', [...logits.dims], logits.data)) },
      ],
    });
  }
  await writeFile(join(out, 'manifest.json'), JSON.stringify({ classes, cases }, null, 2));
  await explainer.release();
}

async function tiny(): Promise<{ model: ImageModel; batch: Float32Tensor }> {
  const bytes = tinyStridedCnn();
  const model = await ImageModel.create(nodeRuntime, { bytes, model: decodeModel(bytes) });
  const batch: Float32Tensor = {
    dtype: 'float32',
    dims: [2, 3, 14, 14],
    data: Float32Array.from(seededValues(2 * 3 * 14 * 14, 21)),
  };
  return { model, batch };
}

async function mobilenet(): Promise<{ model: ImageModel; batch: Float32Tensor }> {
  const model = await openImageModel(modelPath('mobilenet_v2_1.0_224_quant'));
  const images = await Promise.all(['cat.png', 'bird.png'].map((n) => decodeImageFile(imagePath(n))));
  return { model, batch: imagesToBatch(images, model.preprocess) };
}

function oneHot(k: number, c: number): Float32Array {
  const s = new Float32Array(k);
  s[c] = 1;
  return s;
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function rowOf(t: Float32Tensor, i: number): Float32Tensor {
  const size = t.data.length / t.dims[0]!;
  return { dtype: 'float32', dims: [1, ...t.dims.slice(1)], data: t.data.slice(i * size, (i + 1) * size) };
}

await main(process.argv[2]!, process.argv[3] ?? 'tiny');
