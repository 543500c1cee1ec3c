// Recomputes the demo's held-out numbers and writes demo/metrics.json (the stored values the test
// suite and the models' READMEs quote). Run after retraining: node --import tsx scripts/demo-metrics.ts
// The captioning and VQA numbers (`language`) are recomputed when demo/models has those models, and
// otherwise kept as stored, so retraining one family never drops the other's numbers.
// `--language` recomputes only those (after retraining the captioner and VQA model) and keeps the
// classification numbers as stored; `--shapes` only the classification numbers.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_MODELS } from '../src/cli/commands/demo.ts';
import { evaluateDemo } from '../src/demo/evaluate.ts';
import { evaluateLanguage } from '../src/demo/language-metrics.ts';
import { Explainer } from '../src/explain/explainer.ts';
import { openImageModel } from '../src/model/open-node.ts';

const file = join(DEMO_MODELS, '..', 'metrics.json');
const only = process.argv.includes('--language')
  ? 'language'
  : process.argv.includes('--shapes')
    ? 'shapes'
    : undefined;
const { language: storedLanguage, ...storedShapes } = existsSync(file)
  ? (JSON.parse(readFileSync(file, 'utf8')) as { language?: unknown })
  : {};
if (only === 'language' && Object.keys(storedShapes).length === 0)
  throw new Error(`--language keeps the stored classification numbers, but ${file} has none: run without it`);
const open = async (name: string) => Explainer.fromModel(await openImageModel(join(DEMO_MODELS, name)));

let classification: object = storedShapes;
if (only !== 'language') {
  const clean = await open('shapes');
  const biased = await open('shapes-biased');
  // The same counts as `gradsight demo` by default (--eval 400, --eval-scenes 64).
  classification = await evaluateDemo(clean, biased, 400);
  await clean.release();
  await biased.release();
}
let language = storedLanguage;
const present = ['captioner', 'vqa'].every((m) => existsSync(join(DEMO_MODELS, m, 'model.onnx')));
if (only === 'language' && !present)
  throw new Error(`--language needs ${DEMO_MODELS}/{captioner,vqa}/model.onnx`);
if (only !== 'shapes' && present) {
  const captioner = await open('captioner');
  const vqa = await open('vqa');
  language = await evaluateLanguage(captioner, vqa, 64);
  await captioner.release();
  await vqa.release();
}
const metrics = { ...classification, ...(language === undefined ? {} : { language }) };
writeFileSync(file, `${JSON.stringify(metrics, null, 2)}\n`);
console.log(JSON.stringify(metrics, null, 2));
