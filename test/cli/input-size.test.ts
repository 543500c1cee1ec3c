// `--input x.npy` on a model exported with symbolic height and width: any H×W is accepted (the model
// is opened at the tensor's size, and its gradients are right there: finite differences on ORT),
// while a model with static H, W, or an explicit --size, still refuses a tensor that contradicts it.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { nodeRuntime } from '../../src/runtime/node.ts';
import { decodeNpy, encodeNpy } from '../../src/tensor/npy.ts';
import { runCli } from '../helpers/cli.ts';
import { dynamicCnn, seededValues, tinyCnn } from '../helpers/tiny-models.ts';

let dir = '';
const x = (h: number, w: number, seed: number) => ({
  dtype: 'float32' as const,
  dims: [1, 3, h, w],
  data: Float32Array.from(seededValues(3 * h * w, seed)),
});

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-input-size-'));
  await writeFile(join(dir, 'dynamic.onnx'), dynamicCnn());
  await writeFile(join(dir, 'static.onnx'), tinyCnn());
  await writeFile(join(dir, 'x9x13.npy'), encodeNpy(x(9, 13, 5)));
  await writeFile(join(dir, 'x12x7.npy'), encodeNpy(x(12, 7, 6)));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** d logits[c] / d input by central differences on the forward model, at a few elements. */
async function fdGradient(input: ReturnType<typeof x>, c: number, picks: readonly number[]) {
  const s = await nodeRuntime.createSession(dynamicCnn());
  try {
    const f = async (data: Float32Array) =>
      ((await s.run({ input: { ...input, data } }, ['logits'])).logits!.data as Float32Array)[c]!;
    const out: number[] = [];
    for (const i of picks) {
      const p = Float32Array.from(input.data);
      const m = Float32Array.from(input.data);
      p[i]! += 1e-3;
      m[i]! -= 1e-3;
      out.push(((await f(p)) - (await f(m))) / (p[i]! - m[i]!));
    }
    return out;
  } finally {
    await s.release();
  }
}

describe('--input of any size on a model with symbolic H and W', () => {
  for (const [file, h, w, seed] of [
    ['x9x13.npy', 9, 13, 5],
    ['x12x7.npy', 12, 7, 6],
  ] as const) {
    test(`grad at ${h}×${w} (not the default 224×224) equals finite differences`, async () => {
      const out = join(dir, `grad-${h}x${w}`);
      const r = await runCli([
        'grad',
        join(dir, 'dynamic.onnx'),
        '--input',
        join(dir, file),
        '--wrt',
        'input',
        '--class',
        '1',
        '--out',
        out,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const g = decodeNpy(await readFile(join(out, 'input.grad.npy')));
      assert.deepEqual(g.dims, [1, 3, h, w]);
      const picks = Array.from({ length: 24 }, (_, k) => (k * 37) % (3 * h * w));
      const fd = await fdGradient(x(h, w, seed), 1, picks);
      const got = picks.map((i) => (g.data as Float32Array)[i]!);
      const scale = Math.max(...fd.map(Math.abs));
      assert.ok(scale > 0);
      for (let k = 0; k < picks.length; k++)
        assert.ok(
          Math.abs(got[k]! - fd[k]!) <= 1e-2 * scale,
          `element ${picks[k]}: ${got[k]} vs fd ${fd[k]}`,
        );
    });
  }

  test('explain draws the map at the tensor’s size', async () => {
    const out = join(dir, 'explain');
    const r = await runCli([
      'explain',
      join(dir, 'dynamic.onnx'),
      '--input',
      join(dir, 'x9x13.npy'),
      '--out',
      out,
      '--quiet',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    const png = JSON.stringify(results).match(/"([^"]+heatmap[^"]*\.png)"/)?.[1];
    assert.ok(png, 'a heatmap file in results.json');
    const bytes = await readFile(join(out, png));
    // PNG IHDR: width, height as big-endian u32 at bytes 16 and 20.
    assert.deepEqual([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], [13, 9]);
  });
});

describe('a tensor that contradicts static dims is still refused', () => {
  test('a model with static H, W', async () => {
    const r = await runCli([
      'grad',
      join(dir, 'static.onnx'),
      '--input',
      join(dir, 'x9x13.npy'),
      '--wrt',
      'input',
      '--out',
      join(dir, 's'),
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /error\[bad-argument\].*\[1, 3, 9, 13\].*\[N, 3, 8, 8\]/);
  });

  test('an explicit --size wins over the tensor on a dynamic model', async () => {
    const r = await runCli([
      'grad',
      join(dir, 'dynamic.onnx'),
      '--input',
      join(dir, 'x9x13.npy'),
      '--size',
      '16x16',
      '--wrt',
      'input',
      '--out',
      join(dir, 't'),
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /error\[bad-argument\].*\[N, 3, 16, 16\]/);
  });
});
