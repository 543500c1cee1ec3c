// ReportStream: a report written card by card equals renderReport of the same data byte for byte
// (no images, one, several with a failed one), leaves no temp file, and an aborted stream leaves
// neither a report nor a temp file.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { renderImageCard, renderReport } from '../../src/report/html.ts';
import { ReportStream } from '../../src/report/stream-node.ts';
import type { ReportData } from '../../src/report/types.ts';
import { sampleReport } from './sample-data.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-stream-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function streamed(path: string, data: ReportData): Promise<string> {
  const s = await ReportStream.open(path);
  for (const [i, img] of data.images.entries()) await s.add(img, renderImageCard(img, i));
  const { images: _, ...rest } = data;
  assert.equal(await s.finish(rest), path);
  return readFile(path, 'utf8');
}

test('streamed card by card = renderReport, for 0, 1 and all sample images (one failed)', async () => {
  const data = await sampleReport();
  assert.ok(data.images.some((i) => i.error) && data.images.length > 2);
  for (const n of [0, 1, data.images.length]) {
    const d = { ...data, images: data.images.slice(0, n) };
    const path = join(dir, `sub${n}`, 'report.html');
    assert.equal(await streamed(path, d), renderReport(d), `${n} images`);
    assert.deepEqual(await readdir(join(dir, `sub${n}`)), ['report.html']);
  }
});

test('abort leaves nothing behind', async () => {
  const data = await sampleReport();
  const s = await ReportStream.open(join(dir, 'aborted', 'report.html'));
  await s.add(data.images[0]!, renderImageCard(data.images[0]!, 0));
  await s.abort();
  assert.deepEqual(await readdir(join(dir, 'aborted')), []);
});
