// Recomputes the demo's held-out numbers and writes demo/metrics.json (the stored values the test
// suite and the models' READMEs quote). Run after retraining: node --import tsx scripts/demo-metrics.ts

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_MODELS } from '../src/cli/commands/demo.ts';
import { evaluateDemo } from '../src/demo/evaluate.ts';
import { evaluateLanguage } from '../src/demo/language-metrics.ts';
import { Explainer } from '../src/explain/explainer.ts';
import { openImageModel } from '../src/model/open-node.ts';

const clean = Explainer.fromModel(await openImageModel(join(DEMO_MODELS, 'shapes')));
const biased = Explainer.fromModel(await openImageModel(join(DEMO_MODELS, 'shapes-biased')));
const captioner = Explainer.fromModel(await openImageModel(join(DEMO_MODELS, 'captioner')));
const vqa = Explainer.fromModel(await openImageModel(join(DEMO_MODELS, 'vqa')));
// The same counts as `gradsight demo` by default (--eval 400, --eval-scenes 64).
const metrics = {
  ...(await evaluateDemo(clean, biased, 400)),
  language: await evaluateLanguage(captioner, vqa, 64),
};
await captioner.release();
await vqa.release();
writeFileSync(join(DEMO_MODELS, '..', 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
console.log(JSON.stringify(metrics, null, 2));
await clean.release();
await biased.release();
