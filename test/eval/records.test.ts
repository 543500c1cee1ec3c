// Per-image records: shards partition the samples exactly, a resumed file keeps what it holds (and
// drops a killed run's partial line), a file of another run is refused, and merge interleaves shards
// by sample index into what one unsharded run writes.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isGradsightError } from '../../src/errors.ts';
import {
  appendRecords,
  type ImageRecord,
  inShard,
  mergeRecords,
  openRecords,
  parseShard,
  RECORDS_FORMAT,
  type RecordsHeader,
  readRecords,
} from '../../src/eval/records-node.ts';

const config = {
  model: 'm',
  dataset: { name: 'd', size: 10 },
  methods: ['gradcam'],
  metrics: ['accuracy'],
  layers: [],
};
const header = (shard?: { index: number; count: number }): RecordsHeader => ({
  format: RECORDS_FORMAT,
  config,
  ...(shard ? { shard } : {}),
});
const rec = (index: number): ImageRecord => ({
  index,
  id: `s${index}`,
  image: `s${index}.png`,
  labels: ['a'],
  model: { 'accuracy.top1': index % 2 },
});

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gradsight-records-'));
}

async function all(path: string): Promise<{ header: RecordsHeader; records: ImageRecord[] }> {
  const records: ImageRecord[] = [];
  const h = await readRecords(path, (r) => records.push(r));
  return { header: h, records };
}

test('--shard i/n: parsed 1-based, bad values refused, every index in exactly one shard', () => {
  assert.deepEqual(parseShard('2/3'), { index: 2, count: 3 });
  for (const bad of ['3/2', '0/2', '1/0', 'a/b', '1', '-1/2', '1.5/2']) {
    assert.throws(
      () => parseShard(bad),
      (e) => isGradsightError(e, 'bad-argument'),
      bad,
    );
  }
  for (const n of [1, 2, 3, 7]) {
    for (let i = 0; i < 50; i++) {
      const owners = Array.from({ length: n }, (_, k) => k + 1).filter((k) =>
        inShard(i, { index: k, count: n }),
      );
      assert.deepEqual(owners, [(i % n) + 1]);
    }
  }
  assert.ok(inShard(5, undefined));
});

test('resume: the indices already written are returned, a partial last line is cut off', async () => {
  const dir = await tmp();
  try {
    const path = join(dir, 'per-image.jsonl');
    const fresh = await openRecords(path, header(), true);
    assert.equal(fresh.fresh, true);
    await appendRecords(path, [rec(0), rec(1)]);
    // A killed run: half a line with no newline.
    await writeFile(path, `${await readFile(path, 'utf8')}{"index":2,"id":"s2","ima`);
    const again = await openRecords(path, header(), true);
    assert.equal(again.fresh, false);
    assert.deepEqual([...again.done].sort(), [0, 1]);
    await appendRecords(path, [rec(2)]);
    const { records } = await all(path);
    assert.deepEqual(
      records.map((r) => r.index),
      [0, 1, 2],
    );
    // Without resume the file starts again.
    const restart = await openRecords(path, header(), false);
    assert.equal(restart.done.size, 0);
    assert.equal((await all(path)).records.length, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("resume refuses another run's records, and a file that is not records", async () => {
  const dir = await tmp();
  try {
    const path = join(dir, 'per-image.jsonl');
    await openRecords(path, header(), true);
    await appendRecords(path, [rec(0)]);
    const other: RecordsHeader = { ...header(), config: { ...config, methods: ['cam'] } };
    await assert.rejects(openRecords(path, other, true), (e) => isGradsightError(e, 'bad-argument'));
    await assert.rejects(openRecords(path, header({ index: 1, count: 2 }), true), (e) =>
      isGradsightError(e, 'bad-argument'),
    );
    await writeFile(path, '{"some":"json"}\n');
    await assert.rejects(openRecords(path, header(), true), (e) => isGradsightError(e, 'bad-argument'));
    await writeFile(path, `${JSON.stringify(header())}\nnot json\n${JSON.stringify(rec(1))}\n`);
    await assert.rejects(openRecords(path, header(), true), (e) => isGradsightError(e, 'bad-argument'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('merge: shards interleaved by index equal the unsharded records; overlaps and mixed splits refused', async () => {
  const dir = await tmp();
  try {
    const whole = join(dir, 'whole.jsonl');
    await openRecords(whole, header(), false);
    await appendRecords(
      whole,
      Array.from({ length: 10 }, (_, i) => rec(i)),
    );
    const shards = [1, 2, 3].map((k) => join(dir, `shard-${k}.jsonl`));
    for (const [k, path] of shards.entries()) {
      const shard = { index: k + 1, count: 3 };
      await openRecords(path, header(shard), false);
      await appendRecords(
        path,
        Array.from({ length: 10 }, (_, i) => i)
          .filter((i) => inShard(i, shard))
          .map(rec),
      );
    }
    const merged = join(dir, 'merged.jsonl');
    const m = await mergeRecords([shards[2]!, shards[0]!, shards[1]!], merged);
    assert.equal(m.images, 10);
    assert.equal(await readFile(merged, 'utf8'), await readFile(whole, 'utf8'));
    await assert.rejects(mergeRecords([shards[0]!, shards[0]!], join(dir, 'x.jsonl')), (e) =>
      isGradsightError(e, 'bad-argument'),
    );
    const two = join(dir, 'two.jsonl');
    await openRecords(two, header({ index: 1, count: 2 }), false);
    await assert.rejects(mergeRecords([shards[0]!, two], join(dir, 'y.jsonl')), (e) =>
      isGradsightError(e, 'bad-argument'),
    );
    await assert.rejects(mergeRecords([join(dir, 'missing.jsonl')], join(dir, 'z.jsonl')), (e) =>
      isGradsightError(e, 'file-not-found'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
