// The input-limit flags end to end: --max-pixels (decoded image budget, checked from the header) and
// --max-file-mb (image and .npy size), FIFOs and devices refused at once, and a JPEG missing only its
// end marker decoded with a `warning:` line on stderr (predict in-process decoding, explain in its
// image worker).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { encodeNpy } from '../../src/tensor/npy.ts';
import { float32 } from '../../src/tensor/tensor.ts';
import { runCli } from '../helpers/cli.ts';
import { seededValues, tinyCnn } from '../helpers/tiny-models.ts';

let dir = '';
const p = (name: string) => join(dir, name);
const noise = (w: number, h: number) =>
  sharp(Buffer.from(seededValues(w * h * 3, 3).map((v) => Math.floor((v + 1) * 127.5))), {
    raw: { width: w, height: h, channels: 3 },
  });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-limits-cli-'));
  await writeFile(p('tiny.onnx'), tinyCnn());
  await writeFile(p('small.png'), await noise(8, 8).png().toBuffer());
  // A 16×16 PNG whose header claims 16000×16000 (CRC fixed up).
  const bomb = new Uint8Array(await noise(16, 16).png().toBuffer());
  const v = new DataView(bomb.buffer);
  v.setUint32(16, 16000);
  v.setUint32(20, 16000);
  v.setUint32(29, crc32(bomb.subarray(12, 29)));
  await writeFile(p('bomb.png'), bomb);
  const jpg = await noise(24, 16).jpeg().toBuffer();
  await writeFile(p('no-eoi.jpg'), jpg.subarray(0, jpg.length - 2));
  execFileSync('mkfifo', [p('fifo.png')]);
  // 2 MiB of float32 [N, 3, 8, 8] rows.
  const n = Math.ceil((2 * 2 ** 20) / (3 * 8 * 8 * 4));
  await writeFile(p('big.npy'), encodeNpy(float32(new Float32Array(n * 192), [n, 3, 8, 8])));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Result = { error?: { code: string; message: string; hint?: string }; prediction?: unknown };
const results = (stdout: string) => (JSON.parse(stdout) as { results: Result[] }).results;

test('a 16000×16000 PNG bomb is refused from its header, the hint naming --max-pixels', async () => {
  const t0 = performance.now();
  const r = await runCli(['predict', p('tiny.onnx'), p('bomb.png'), '--json']);
  assert.equal(r.timedOut, false);
  assert.equal(r.code, 1);
  const [res] = results(r.stdout);
  assert.equal(res!.error?.code, 'bad-image');
  assert.match(res!.error!.message, /16000×16000.*too large/);
  assert.match(res!.error!.hint ?? '', /--max-pixels/);
  assert.ok(performance.now() - t0 < 30_000);
});

test('--max-pixels sets the budget', async () => {
  const refused = await runCli(['predict', p('tiny.onnx'), p('small.png'), '--json', '--max-pixels', '63']);
  assert.equal(refused.code, 1);
  assert.match(results(refused.stdout)[0]!.error!.message, /8×8.*too large/);
  const ok = await runCli(['predict', p('tiny.onnx'), p('small.png'), '--json', '--max-pixels', '64']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(results(ok.stdout)[0]!.prediction);
  const bad = await runCli(['predict', p('tiny.onnx'), p('small.png'), '--max-pixels', 'lots']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error\[bad-argument\]: --max-pixels/);
});

test('a JPEG missing its end marker is predicted and explained, with a warning', async () => {
  const pr = await runCli(['predict', p('tiny.onnx'), p('no-eoi.jpg')]);
  assert.equal(pr.code, 0, pr.stderr);
  assert.match(pr.stderr, /^warning: .*no-eoi\.jpg.*end marker/m);
  const ex = await runCli(['explain', p('tiny.onnx'), p('no-eoi.jpg'), '-q', '-o', p('out')]);
  assert.equal(ex.code, 0, ex.stderr);
  assert.match(ex.stderr, /^warning: .*no-eoi\.jpg.*end marker/m);
});

test('a FIFO image and /dev/zero as --input are refused at once', async () => {
  const fifo = await runCli(['predict', p('tiny.onnx'), p('fifo.png'), '--json'], { timeoutMs: 30_000 });
  assert.equal(fifo.timedOut, false, 'no hang on the FIFO');
  assert.equal(results(fifo.stdout)[0]!.error?.code, 'not-a-regular-file');
  const zero = await runCli(['explain', p('tiny.onnx'), '--input', '/dev/zero', '-q', '-o', p('z')], {
    timeoutMs: 30_000,
  });
  assert.equal(zero.timedOut, false);
  assert.equal(zero.code, 1);
  assert.match(zero.stderr, /^error\[not-a-regular-file\]: .*\/dev\/zero.*device/m);
});

test('--max-file-mb bounds .npy inputs', async () => {
  const r = await runCli([
    'explain',
    p('tiny.onnx'),
    '--input',
    p('big.npy'),
    '-q',
    '-o',
    p('o1'),
    '--max-file-mb',
    '1',
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error\[file-too-large\]: .*big\.npy/m);
  assert.match(r.stderr, /hint: .*--max-file-mb/);
  const ok = await runCli([
    'grad',
    p('tiny.onnx'),
    '--input',
    p('big.npy'),
    '--wrt',
    'input',
    '--out',
    p('g'),
    '--max-file-mb',
    '3',
  ]);
  assert.equal(ok.code, 0, ok.stderr);
});
