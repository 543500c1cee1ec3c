// Recomputes the demo's held-out numbers and writes demo/metrics.json (the stored values the test
// suite and the models' READMEs quote). Run after retraining: node --import tsx scripts/demo-metrics.ts
// The captioning and VQA numbers (`language`) are recomputed when demo/models has those models, and
// otherwise kept as stored, so retraining one family never drops the other's numbers.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_MODELS } from '../src/cli/commands/demo.ts';
import { evaluateDemo } from '../src/demo/evaluate.ts';
import { evaluateLanguage } from '../src/demo/language-metrics.ts';
import { Explainer } from '../src/explain/explainer.ts';
import { openImageModel } from '../src/model/open-node.ts';

const file = join(DEMO_MODELS, '..', 'metrics.json');
const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { language?: unknown }) : {};
const clean = Explainer.fromModel(await openImageModel(join(DEMO_MODELS, 'shapes')));
const biased = Explainer.fromModel(await openImageModel(join(DEMO_MODELS, 'shapes-biased')));
// The same counts as `gradsight demo` by default (--eval 400, --eval-scenes 64).
const classification = await evaluateDemo(clean, biased, 400);
await clean.release();
await biased.release();
let language = stored.language;
if (['captioner', 'vqa'].every((m) => existsSync(join(DEMO_MODELS, m, 'model.onnx')))) {
  const captioner = Explainer.fromModel(await openImageModel(join(DEMO_MODELS, 'captioner')));
  const vqa = Explainer.fromModel(await openImageModel(join(DEMO_MODELS, 'vqa')));
  language = await evaluateLanguage(captioner, vqa, 64);
  await captioner.release();
  await vqa.release();
}
const metrics = { ...classification, ...(language === undefined ? {} : { language }) };
writeFileSync(file, `${JSON.stringify(metrics, null, 2)}\n`);
console.log(JSON.stringify(metrics, null, 2));
