// Prints the method table as Markdown, from the one table in src/methods/table.ts (the README's
// table is pasted from this output; a test checks they agree).
//   node --import tsx scripts/method-table.ts

import { methodTableMarkdown } from '../src/methods/markdown.ts';

process.stdout.write(methodTableMarkdown());
