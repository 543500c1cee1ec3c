// gradsight explain end to end: every shared photo with MobileNetV2, several methods and targets;
// the files, results.json, the report; a parity entry through the CLI (--input, --save-raw); a broken
// image among good ones; and the errors with suggestions.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeImageFile } from '../../src/image/decode-node.ts';
import { decodeNpy } from '../../src/tensor/npy.ts';
import { runCli } from '../helpers/cli.ts';
import { readReference } from '../helpers/reference.ts';
import { imagePath, modelPath, sharedDir, sharedImages, skipNoShared } from '../helpers/shared.ts';
import { readTop1Table } from '../helpers/verify-table.ts';

let dir = '';
const mnv2 = () => modelPath('mobilenet_v2_1.0_224_quant');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-explain-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Results {
  model: { layers: { name: string }[]; reads: string };
  images: {
    file: string;
    folder?: string;
    size?: { width: number; height: number };
    modelSize?: { width: number; height: number };
    predictions?: { label: string; index: number; score: number }[];
    explanations?: {
      method: string;
      target: { index: number; counterfactual: boolean };
      files: Record<string, string>;
      box?: { x0: number; y0: number; x1: number; y1: number };
      boxModel?: { x0: number; y0: number; x1: number; y1: number };
      stats: { max: number };
    }[];
    error?: { code: string; message: string };
  }[];
  summary: string;
}

describe('explain on the shared photos', { skip: skipNoShared }, () => {
  test('13 images × 2 methods × (top-2 and counterfactual:pred): files, results.json, report', async (t) => {
    const out = join(dir, 'all');
    const r = await runCli(
      [
        'explain',
        mnv2(),
        join(sharedDir, 'images', '*.png'),
        '-m',
        'gradcam,guided-backprop',
        '-t',
        'top:2',
        '-t',
        'counterfactual:pred',
        '-o',
        out,
        '-q',
      ],
      { timeoutMs: 240_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    t.diagnostic(r.stdout.trim());
    const res = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as Results;
    // The glob includes the two segmentation masks (PNG images too): 15 files.
    assert.equal(res.images.length, sharedImages.length + 2);
    assert.equal(res.model.layers[0]!.name, 'MobilenetV2/Conv_1/Relu6');
    assert.equal(res.model.reads, 'logits');
    const top1 = new Map(
      readTop1Table()
        .filter((x) => x.model === 'mobilenet_v2_1.0_224_quant')
        .map((x) => [x.image, x.label]),
    );
    for (const img of res.images) {
      const name = img.file.split('/').pop()!;
      if (top1.has(name)) assert.equal(img.predictions![0]!.label, top1.get(name), name);
      assert.equal(img.explanations!.length, 6, `${name}: 2 methods × 3 targets`);
      assert.deepEqual(
        img.explanations!.filter((e) => e.target.counterfactual).map((e) => [e.method, e.target.index]),
        ['gradcam', 'guided-backprop'].map((m) => [m, img.predictions![0]!.index]),
        `${name}: the counterfactual of the prediction, with each method`,
      );
      for (const e of img.explanations!) {
        for (const f of Object.values(e.files)) assert.ok(existsSync(join(out, f)), f);
        if (e.method === 'gradcam' && !e.target.counterfactual) {
          assert.ok(e.box && e.boxModel, `${name}: Grad-CAM has a localization box`);
          assert.ok(e.boxModel.x0 <= e.boxModel.x1 && e.boxModel.y1 < 224);
          assert.ok(e.box.x0 <= e.box.x1 && e.box.x1 < img.size!.width && e.box.y1 < img.size!.height);
        }
      }
    }
    const html = await readFile(join(out, 'report.html'), 'utf8');
    assert.doesNotMatch(html, /(src|href)="https?:/);
    assert.match(html, /Egyptian cat/);
    assert.equal((html.match(/<img /g) ?? []).length, res.images.length * 7);
  });

  test('a parity entry through the CLI: --input input.npy --save-raw', async () => {
    const out = join(dir, 'parity');
    const input = join(sharedDir, 'reference', 'mobilenet_v2_1.0_224_quant', 'cat', 'input.npy');
    const r = await runCli([
      'explain',
      mnv2(),
      '--input',
      input,
      '-m',
      'gradcam',
      '-t',
      '282',
      '--save-raw',
      '-o',
      out,
      '-q',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as Results;
    const raw = res.images[0]!.explanations![0]!.files.raw!;
    const got = decodeNpy(await readFile(join(out, raw)));
    const ref = readReference('mobilenet_v2_1.0_224_quant/cat/gradcam_last_c282.npy');
    assert.deepEqual(got.dims, [224, 224]);
    let max = 0;
    for (let i = 0; i < ref.data.length; i++)
      max = Math.max(max, Math.abs(Number(got.data[i]) - Number(ref.data[i])));
    assert.ok(max <= 1e-3, `max |Δ| ${max}`);
  });

  test('boxes, overlays and heatmaps in the original pixels of a non-square photo; --overlay-size model', async () => {
    const bird = imagePath('bird.png'); // 512×343
    const run = async (extra: string[], out: string) => {
      const r = await runCli([
        'explain',
        mnv2(),
        bird,
        '-m',
        'gradcam',
        '-o',
        join(dir, out),
        '-q',
        ...extra,
      ]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(await readFile(join(dir, out, 'results.json'), 'utf8')) as Results;
    };
    const size = async (out: string, f: string) => {
      const img = await decodeImageFile(join(dir, out, f));
      return [img.width, img.height];
    };
    const orig = await run([], 'size-original');
    const img = orig.images[0]!;
    assert.deepEqual(img.size, { width: 512, height: 343 });
    assert.deepEqual(img.modelSize, { width: 224, height: 224 });
    const e = img.explanations![0]!;
    const m = e.boxModel!;
    // The model box's pixel edges [x0, x1 + 1) scaled by 512/224 and 343/224, rounded outward.
    const sx = 512 / 224;
    const sy = 343 / 224;
    assert.deepEqual(e.box, {
      x0: Math.floor(m.x0 * sx),
      y0: Math.floor(m.y0 * sy),
      x1: Math.ceil((m.x1 + 1) * sx) - 1,
      y1: Math.ceil((m.y1 + 1) * sy) - 1,
    });
    assert.notDeepEqual(e.box, m, 'a non-square photo: the two boxes differ');
    assert.deepEqual(await size('size-original', e.files.image!), [512, 343]);
    assert.deepEqual(await size('size-original', e.files.heatmap!), [512, 343]);
    assert.deepEqual(
      await size('size-original', e.files.image!),
      await size('size-original', e.files.heatmap!),
    );

    const model = await run(['--overlay-size', 'model'], 'size-model');
    const em = model.images[0]!.explanations![0]!;
    assert.deepEqual(await size('size-model', em.files.image!), [224, 224]);
    assert.deepEqual(await size('size-model', em.files.heatmap!), [224, 224]);
    assert.deepEqual(
      [em.box, em.boxModel],
      [e.box, e.boxModel],
      'results.json boxes do not depend on the overlay size',
    );

    const input = join(sharedDir, 'reference', 'mobilenet_v2_1.0_224_quant', 'cat', 'input.npy');
    const bad = await runCli([
      'explain',
      mnv2(),
      '--input',
      input,
      '--overlay-size',
      'original',
      '-o',
      join(dir, 'x'),
      '-q',
    ]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /error\[bad-argument\].*--overlay-size original/);
    assert.match(bad.stderr, /hint: drop --overlay-size/);
    const flag = await runCli([
      'explain',
      mnv2(),
      bird,
      '--overlay-size',
      'huge',
      '-o',
      join(dir, 'x'),
      '-q',
    ]);
    assert.match(flag.stderr, /--overlay-size must be one of original, model/);
  });

  test('a broken image: the others are written, the failure is listed, exit 1', async () => {
    const out = join(dir, 'broken');
    const bad = join(dir, 'broken.png');
    await writeFile(bad, (await readFile(imagePath('cat.png'))).subarray(0, 200));
    await copyFile(imagePath('bird.png'), join(dir, 'bird.png'));
    const r = await runCli(['explain', mnv2(), join(dir, 'bird.png'), bad, '-o', out, '-q']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error\[bad-image\].*broken\.png/);
    const res = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as Results;
    assert.equal(res.images.length, 2);
    assert.equal(res.images[0]!.explanations!.length, 1);
    assert.equal(res.images[1]!.error!.code, 'bad-image');
    assert.match(await readFile(join(out, 'report.html'), 'utf8'), /bad-image/);
  });

  test('errors with suggestions', async () => {
    const cat = imagePath('cat.png');
    const cases: [string[], string, RegExp][] = [
      [['-l', 'MobilenetV2/Conv_1/relu6'], 'layer-not-found', /MobilenetV2\/Conv_1\/Relu6/],
      [['-t', '5000'], 'bad-argument', /out of range: the model has 1001 outputs/],
      [['-t', 'egyptian kat'], 'bad-argument', /Egyptian cat/],
      [['-m', 'gradcam,shiny'], 'bad-argument', /methods: gradcam/],
    ];
    for (const [extra, code, hint] of cases) {
      const r = await runCli(['explain', mnv2(), cat, '-o', join(dir, 'err'), '-q', ...extra]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`error\\[${code}\\]`), r.stderr);
      assert.match(r.stderr, hint);
    }
    // CAM needs a global-average-pooling + linear head; SqueezeNet has conv → ReLU → pooling.
    const sq = await runCli([
      'explain',
      modelPath('squeezenet1_1_random'),
      cat,
      '-m',
      'cam',
      '-o',
      join(dir, 'err2'),
      '-q',
    ]);
    assert.match(sq.stderr, /error\[method-not-applicable\]/);
    assert.match(sq.stderr, /hint: use gradcam/);
  });
});
