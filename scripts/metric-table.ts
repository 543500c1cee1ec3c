// Prints the eval metric table as Markdown, from the one table in src/eval/registry.ts (the README's
// table is pasted from this output; test/eval/report.test.ts checks they agree).
//   node --import tsx scripts/metric-table.ts

import { metricTableMarkdown } from '../src/eval/registry.ts';

process.stdout.write(metricTableMarkdown());
