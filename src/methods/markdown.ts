// The method table as Markdown, for the README and the docs (generated from METHODS, never by hand).

import { METHODS } from './table.ts';

export function methodTableMarkdown(): string {
  const rows = METHODS.map((m) => {
    const needs = [
      m.needs.gradients ? 'gradients' : '',
      m.needs.inputGradient ? `input gradient (${m.needs.inputGradient} rules)` : '',
      m.needs.forwardBatches ? 'batched forwards' : '',
      m.needs.gapHead ? 'GAP + linear head' : '',
      m.needs.activations && !m.needs.gradients ? 'activations' : '',
    ]
      .filter(Boolean)
      .join(', ');
    return `| \`${m.id}\` | ${m.title} | ${m.summary} | ${needs} | [${m.paper.title}](${m.paper.url}) (${m.paper.year}) |`;
  });
  return ['| id | method | what it shows | needs | paper |', '|---|---|---|---|---|', ...rows, ''].join('\n');
}
