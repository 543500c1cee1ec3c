// A tiny captioner and a tiny VQA model with the demo models' contract (image + int64 tokens), small
// enough to compute by hand: a 1×1 Conv → ReLU (`features` [N, 4, 8, 8]) → GlobalAveragePool → `flat`
// [N, 4]; token embeddings E[tok] [N, T, 4]; h = E[tok]·(flat + 1) position by position; logits = h·W.
// Position t depends only on token t, so the model is causal (padding never changes earlier words).
// No recurrent op: it differentiates without the LSTM/GRU rules.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageModel } from '../../src/model/image-model.ts';
import { decodeModel } from '../../src/onnx/index.ts';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { seededValues } from '../helpers/tiny-models.ts';

export const VOCAB = [
  '<pad>',
  '<bos>',
  '<eos>',
  'a',
  'red',
  'circle',
  'blue',
  'square',
  'what',
  'colour',
  'is',
  'the',
];
export const ANSWERS = ['red', 'blue', 'green'];
export const F = 4;
export const CONV_W = seededValues(F * 3, 31);
export const CONV_B = seededValues(F, 32).map((v) => v * 0.5 + 0.3);
export const EMBED = seededValues(VOCAB.length * F, 33);
export const OUT_W = seededValues(F * VOCAB.length, 34).map((v) => v * 3);
/** Captioner bias: <pad> and <bos> are never the next word. */
export const OUT_B = VOCAB.map((w) => (w === '<pad>' || w === '<bos>' ? -5 : w === '<eos>' ? 0.5 : 0));
export const VQA_W = seededValues(F * ANSWERS.length, 35).map((v) => v * 3);

function trunk(
  tokens: { name: string; shape: (number | string)[] },
  classes: number,
  outW: number[],
  out: string,
) {
  const captioning = out === 'logits';
  return buildModel({
    opset: 13,
    inputs: [
      { name: 'image', shape: ['batch', 3, 8, 8] },
      { name: tokens.name, dtype: 'int64', shape: tokens.shape },
    ],
    outputs: [{ name: out, shape: captioning ? ['batch', tokens.shape[1]!, classes] : ['batch', classes] }],
    initializers: [
      { name: 'conv.w', dims: [F, 3, 1, 1], values: CONV_W },
      { name: 'conv.b', dims: [F], values: CONV_B },
      { name: 'embed', dims: [VOCAB.length, F], values: EMBED },
      { name: 'out.w', dims: [F, classes], values: outW },
      { name: 'out.b', dims: [classes], values: captioning ? OUT_B : new Array(classes).fill(0) },
      { name: 'axes1', dtype: 'int64', dims: [1], values: [1] },
      { name: 'one', dims: [], values: [1] },
    ],
    nodes: [
      { op: 'Conv', inputs: ['image', 'conv.w', 'conv.b'], outputs: ['conv'] },
      { op: 'Relu', inputs: ['conv'], outputs: ['features'] },
      { op: 'GlobalAveragePool', inputs: ['features'], outputs: ['pooled'] },
      { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
      { op: 'Add', inputs: ['flat', 'one'], outputs: ['flat1'] },
      { op: 'Gather', inputs: ['embed', tokens.name], outputs: ['embedded'] },
      ...(captioning
        ? [
            { op: 'Unsqueeze', inputs: ['flat1', 'axes1'], outputs: ['u'] },
            { op: 'Mul', inputs: ['embedded', 'u'], outputs: ['h'] },
            { op: 'MatMul', inputs: ['h', 'out.w'], outputs: ['hw'] },
            { op: 'Add', inputs: ['hw', 'out.b'], outputs: [out] },
          ]
        : [
            // The question: the mean of its embeddings (padding included), times the image.
            { op: 'ReduceMean', inputs: ['embedded'], outputs: ['q'], attrs: { axes: [1], keepdims: 0 } },
            { op: 'Mul', inputs: ['q', 'flat1'], outputs: ['h'] },
            { op: 'MatMul', inputs: ['h', 'out.w'], outputs: [out] },
          ]),
    ],
  });
}

/** Image + tokens int64 [N, T] (T dynamic, or fixed) → logits [N, T, V]. */
export const tinyCaptioner = (length: number | string = 'T') =>
  trunk({ name: 'tokens', shape: ['batch', length] }, VOCAB.length, OUT_W, 'logits');

/** Image + question int64 [N, Q] → answer_logits [N, 3]. */
export const tinyVqa = (length: number | string = 'Q') =>
  trunk({ name: 'question', shape: ['batch', length] }, ANSWERS.length, VQA_W, 'answer_logits');

/** A model folder: model.onnx, preprocess.json and side files. */
export function writeModelFolder(
  dir: string,
  bytes: Uint8Array,
  preprocess: Record<string, unknown>,
  files: Record<string, readonly string[]> = {},
): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), bytes);
  writeFileSync(
    join(dir, 'preprocess.json'),
    JSON.stringify({ mean: [0, 0, 0], std: [1, 1, 1], ...preprocess }),
  );
  for (const [name, lines] of Object.entries(files)) writeFileSync(join(dir, name), `${lines.join('\n')}\n`);
  return dir;
}

// ── the oracle: the same model in float64 ──────────────────────────────────────────────────────────

/** A [3, 8, 8] image's features A [F, 64] and flat + 1. */
export function handFeatures(x: ArrayLike<number>): {
  a: Float64Array;
  flat1: Float64Array;
  pre: Float64Array;
} {
  const a = new Float64Array(F * 64);
  const pre = new Float64Array(F * 64);
  const flat1 = new Float64Array(F);
  for (let f = 0; f < F; f++) {
    for (let p = 0; p < 64; p++) {
      let s = CONV_B[f]!;
      for (let k = 0; k < 3; k++) s += CONV_W[f * 3 + k]! * x[k * 64 + p]!;
      pre[f * 64 + p] = s;
      a[f * 64 + p] = Math.max(0, s);
      flat1[f]! += a[f * 64 + p]! / 64;
    }
    flat1[f]! += 1;
  }
  return { a, flat1, pre };
}

/** Logits at one position for token `tok`: Σ_f E[tok, f]·(flat + 1)_f·W[f, v]. */
export function handLogits(
  flat1: Float64Array,
  tok: number,
  w = OUT_W,
  classes = VOCAB.length,
): Float64Array {
  const out = new Float64Array(classes);
  for (let v = 0; v < classes; v++) {
    if (w === OUT_W) out[v] = OUT_B[v]!;
    for (let f = 0; f < F; f++) out[v]! += EMBED[tok * F + f]! * flat1[f]! * w[f * classes + v]!;
  }
  return out;
}

export function logSoftmax(z: Float64Array): Float64Array {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

/** Greedy decoding by hand: <bos>, then the argmax at each position, until <eos> or maxLength tokens. */
export function handGreedy(x: ArrayLike<number>, maxLength: number): number[] {
  const { flat1 } = handFeatures(x);
  const tokens = [1];
  while (tokens.length < maxLength) {
    const z = handLogits(flat1, tokens.at(-1)!);
    const next = z.indexOf(Math.max(...z));
    if (next === 2) break;
    tokens.push(next);
  }
  return tokens.slice(1);
}

/** d log p(w | token `prev`)/d flat1: (δ_w − p)·W per feature, times E[prev]. */
export function handScoreGrad(flat1: Float64Array, prev: number, w: number): Float64Array {
  const z = handLogits(flat1, prev);
  const lp = logSoftmax(z);
  const g = new Float64Array(F);
  for (let f = 0; f < F; f++) {
    let s = 0;
    for (let v = 0; v < VOCAB.length; v++)
      s += ((v === w ? 1 : 0) - Math.exp(lp[v]!)) * OUT_W[f * VOCAB.length + v]!;
    g[f] = s * EMBED[prev * F + f]!;
  }
  return g;
}

/**
 * A captioning or VQA model as the tests open it: identity normalisation, `description` (task, files,
 * lengths, …) as its preprocess.json, and the lines of its vocabulary (and answers) files.
 */
export function openLanguageModel(
  bytes: Uint8Array,
  description: Record<string, unknown>,
  vocabulary: readonly string[],
  answers?: readonly string[],
): Promise<ImageModel> {
  return ImageModel.create(nodeRuntime, {
    bytes,
    model: decodeModel(bytes),
    preprocessFile: { mean: [0, 0, 0], std: [1, 1, 1], vocabulary: 'vocab.txt', ...description },
    vocabulary,
    ...(answers ? { answers } : {}),
  });
}
