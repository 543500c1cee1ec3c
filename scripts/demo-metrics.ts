// Recomputes the demo's held-out numbers and writes demo/metrics.json (the stored values the test
// suite and the models' READMEs quote). Run after retraining: node --import tsx scripts/demo-metrics.ts
// (`--language` recomputes only the captioning and VQA numbers, after retraining those two models).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_MODELS } from '../src/cli/commands/demo.ts';
import { evaluateDemo } from '../src/demo/evaluate.ts';
import { evaluateLanguage } from '../src/demo/language-metrics.ts';
import { Explainer } from '../src/explain/explainer.ts';
import { openImageModel } from '../src/model/open-node.ts';

const file = join(DEMO_MODELS, '..', 'metrics.json');
const open = async (name: string) => Explainer.fromModel(await openImageModel(join(DEMO_MODELS, name)));

let shapes: Record<string, unknown>;
if (process.argv.includes('--language')) {
  const { language: _old, ...stored } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  shapes = stored;
} else {
  const clean = await open('shapes');
  const biased = await open('shapes-biased');
  shapes = { ...(await evaluateDemo(clean, biased, 400)) };
  await clean.release();
  await biased.release();
}
const captioner = await open('captioner');
const vqa = await open('vqa');
// The same counts as `gradsight demo` by default (--eval 400, --eval-scenes 64).
const metrics = { ...shapes, language: await evaluateLanguage(captioner, vqa, 64) };
await captioner.release();
await vqa.release();
writeFileSync(file, `${JSON.stringify(metrics, null, 2)}\n`);
console.log(JSON.stringify(metrics, null, 2));
