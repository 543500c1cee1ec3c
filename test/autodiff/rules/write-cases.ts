// Writes cases.json from the generators in cases/. Regenerate after editing a generator, then run
// conformance/op_goldens.py for the PyTorch goldens:
//   node --import tsx test/autodiff/rules/write-cases.ts && /usr/bin/python3 conformance/op_goldens.py

import { writeFileSync } from 'node:fs';
import { casesPath } from '../../helpers/grad-check.ts';
import { casesJson } from './cases/index.ts';

writeFileSync(casesPath, casesJson());
