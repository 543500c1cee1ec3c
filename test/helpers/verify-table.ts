// Parses the "Top-1 summary" table of ../shared/models/VERIFY.md (PyTorch and ONNX Runtime top-1 per
// model and image), the independent oracle for `predict`.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDir } from './shared.ts';

export interface Top1Row {
  readonly model: string;
  readonly image: string;
  readonly label: string;
  readonly p: number;
}

export function readTop1Table(): Top1Row[] {
  const text = readFileSync(join(sharedDir, 'models', 'VERIFY.md'), 'utf8');
  const section = text.slice(text.indexOf('## Top-1 summary'));
  const rows: Top1Row[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 6 || !cells[2]?.endsWith('.png')) continue;
    const m = /^(.*) \((\d+\.\d+)\)/.exec(cells[3]!);
    if (!m) throw new Error(`cannot parse VERIFY.md cell: ${cells[3]}`);
    rows.push({ model: cells[1]!, image: cells[2]!, label: m[1]!, p: Number(m[2]) });
  }
  return rows;
}
