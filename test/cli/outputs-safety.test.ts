// What the CLI writes, run as a user (or an attacker choosing file names) would: names derived from
// images never leave --out, planted symlinks in --out are never written through, an output folder that
// cannot be written is a typed 'output-unwritable', a rerun replaces the previous run cleanly, and an
// interrupt (SIGINT/SIGTERM) exits 130/143 leaving the previous complete results. Every case also
// checks that nothing appeared outside --out.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { runCli } from '../helpers/cli.ts';
import { buildModel } from '../helpers/onnx-builder.ts';
import { repoRoot } from '../helpers/shared.ts';
import { seededValues, tinyCnn } from '../helpers/tiny-models.ts';

let dir = '';
let model = '';
let red = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-outputs-safety-'));
  model = join(dir, 'tiny.onnx');
  await writeFile(model, tinyCnn());
  red = join(dir, 'red.png');
  await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 250, g: 10, b: 10 } } })
    .png()
    .toFile(red);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The CLI run from `cwd` (runCli resolves tsx from its cwd, so this one names it by path). */
function runIn(cwd: string, args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const tsx = import.meta.resolve('tsx');
  const child = spawn(process.execPath, ['--import', tsx, join(repoRoot, 'src/cli/main.ts'), ...args], {
    cwd,
    // Plain text: picocolors colours the error lines when CI is set, even on a pipe.
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((ok) => child.on('close', (code) => ok({ code, stderr })));
}

/** Every file or link under `root` (relative, sorted), not descending into links. */
async function listing(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(`${rel}/`, ...(await listing(root, rel)));
    else out.push(rel);
  }
  return out.sort();
}

/** A fresh case folder: `images/` with copies of the red image under `names`, and the --out path. */
async function caseDir(
  names: readonly string[] = [],
): Promise<{ root: string; out: string; images: string[] }> {
  const root = await mkdtemp(join(dir, 'case-'));
  await mkdir(join(root, 'images'));
  const images: string[] = [];
  for (const n of names) {
    images.push(join(root, 'images', n));
    await copyFile(red, images.at(-1)!);
  }
  return { root, out: join(root, 'out'), images };
}

interface Results {
  images: { folder: string; explanations: { files: Record<string, string> }[] }[];
  files: string[];
}

const explain = (out: string, images: readonly string[], extra: readonly string[] = []) =>
  runCli(['explain', model, ...images, '-o', out, '-q', '-t', 'top:2', ...extra]);

describe('names derived from images stay inside --out', () => {
  test('`.. .png`, `..png`, `.png`, hidden, control characters, separators look-alikes, café, a long name', async () => {
    const names = [
      '.. .png',
      '..png',
      '...png',
      '.hidden.png',
      'a\x01b\x1b.png',
      'a\\..\\b.png',
      'café.png',
      `${'long'.repeat(60)}.png`,
      'results.json.png',
    ];
    const c = await caseDir(names);
    const before = await listing(c.root);
    const r = await explain(c.out, c.images);
    assert.equal(r.code, 0, r.stderr);
    // Nothing new beside out/ (the old code wrote `..`'s PNGs into c.root itself).
    const outside = (await listing(c.root)).filter((f) => f !== 'out/' && !f.startsWith('out/'));
    assert.deepEqual(outside, before);
    const res = JSON.parse(await readFile(join(c.out, 'results.json'), 'utf8')) as Results;
    const folders = res.images.map((i) => i.folder);
    assert.deepEqual(folders.slice(0, 4), ['image', 'image-2', 'image-3', 'hidden']);
    assert.equal(folders[6], 'café');
    assert.equal(folders[8], 'results.json-2');
    assert.equal(new Set(folders).size, names.length, 'one folder per image');
    for (const f of folders) {
      assert.ok(!f.startsWith('.') && !/[/\\]/.test(f) && ![...f].some((ch) => ch.charCodeAt(0) < 32), f);
      assert.ok(Buffer.byteLength(f) <= 100, f);
      assert.ok((await lstat(join(c.out, f))).isDirectory(), f);
    }
    // Every file results.json names is a regular file inside its image's folder, and the manifest lists them all.
    const named = res.images.flatMap((i) => i.explanations.flatMap((e) => Object.values(e.files)));
    assert.equal(named.length, names.length * 2 * 2); // 2 targets × (overlay + heatmap)
    for (const f of named) assert.ok((await lstat(join(c.out, f))).isFile(), f);
    assert.deepEqual([...res.files].sort(), [...named, 'report.html'].sort());
    assert.deepEqual(
      (await listing(c.out)).filter((f) => f.startsWith('.')),
      [],
      'no temp file or journal left',
    );
  });
});

test('grad: tensor names from the model become safe, distinct file names inside --out', async () => {
  const c = await caseDir(['a.png']);
  const hostile = join(c.root, 'hostile.onnx');
  // Two tensors whose names are paths out of --out, and which clean to the same name.
  await writeFile(
    hostile,
    buildModel({
      opset: 13,
      inputs: [{ name: 'input', shape: ['batch', 3, 8, 8] }],
      outputs: [{ name: 'logits', shape: ['batch', 3] }],
      initializers: [
        { name: 'w', dims: [3, 3], values: seededValues(9, 5) },
        { name: 'b', dims: [3], values: [0, 0, 0] },
      ],
      nodes: [
        { op: 'Relu', inputs: ['input'], outputs: ['../../evil'] },
        { op: 'Sigmoid', inputs: ['../../evil'], outputs: ['..\\evil'] },
        { op: 'GlobalAveragePool', inputs: ['..\\evil'], outputs: ['pooled'] },
        { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
        { op: 'Gemm', inputs: ['flat', 'w', 'b'], outputs: ['logits'], attrs: { transB: 1 } },
      ],
    }),
  );
  const before = await listing(c.root);
  const r = await runCli([
    'grad',
    hostile,
    '--image',
    c.images[0]!,
    '--wrt',
    '../../evil,..\\evil',
    '--out',
    c.out,
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { files: { tensor: string; value: string; grad: string }[] };
  assert.deepEqual(
    summary.files.map((f) => [f.tensor, f.value, f.grad]),
    [
      ['../../evil', 'evil.npy', 'evil.grad.npy'],
      ['..\\evil', 'evil-2.npy', 'evil-2.grad.npy'],
    ],
  );
  assert.deepEqual(await listing(c.out), [
    'evil-2.grad.npy',
    'evil-2.npy',
    'evil.grad.npy',
    'evil.npy',
    'logits.npy',
  ]);
  assert.deepEqual(
    (await listing(c.root)).filter((f) => f !== 'out/' && !f.startsWith('out/')),
    before,
  );
});

describe('planted symlinks inside --out are not followed', () => {
  test('results.json and report.html linked outside: replaced by files, the targets untouched', async () => {
    const c = await caseDir(['a.png']);
    await mkdir(c.out);
    const victim = join(c.root, 'victim.txt');
    await writeFile(victim, 'precious');
    await symlink(victim, join(c.out, 'results.json'));
    await symlink(victim, join(c.out, 'report.html'));
    const r = await explain(c.out, c.images);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(victim, 'utf8'), 'precious');
    for (const f of ['results.json', 'report.html']) assert.ok((await lstat(join(c.out, f))).isFile(), f);
    JSON.parse(await readFile(join(c.out, 'results.json'), 'utf8'));
  });

  test('an image folder linked outside: typed output-unwritable, nothing written there', async () => {
    const c = await caseDir(['a.png']);
    await mkdir(c.out);
    const elsewhere = join(c.root, 'elsewhere');
    await mkdir(elsewhere);
    await symlink(elsewhere, join(c.out, 'a'));
    const r = await explain(c.out, c.images);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error\[output-unwritable\]: .*out\/a: it is a symbolic link/);
    assert.deepEqual(await readdir(elsewhere), []);
    assert.deepEqual(await listing(c.out), ['a'], 'no results.json, temp file or journal');
  });

  test('a PNG linked outside inside a real image folder: replaced, the target untouched', async () => {
    const c = await caseDir(['a.png']);
    await mkdir(join(c.out, 'a'), { recursive: true });
    const victim = join(c.root, 'victim.png');
    await writeFile(victim, 'precious');
    await symlink(victim, join(c.out, 'a', 'gradcam_c0.png'));
    await symlink(victim, join(c.out, 'a', 'gradcam_c1.png'));
    await symlink(victim, join(c.out, 'a', 'gradcam_c2.png'));
    const r = await explain(c.out, c.images);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(victim, 'utf8'), 'precious');
    const res = JSON.parse(await readFile(join(c.out, 'results.json'), 'utf8')) as Results;
    for (const e of res.images[0]!.explanations)
      assert.ok((await lstat(join(c.out, e.files.image!))).isFile());
  });
});

describe('an --out that cannot be written is a typed output-unwritable', () => {
  test("-o '' is a bad-argument (explain, grad, compile), and nothing is written into the current folder", async () => {
    const c = await caseDir(['a.png']);
    const cwd = join(c.root, 'cwd');
    await mkdir(cwd);
    const r = await runIn(cwd, ['explain', model, c.images[0]!, '-o', '', '-q']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /error\[bad-argument\]: --out is empty/);
    const grad = await runIn(cwd, ['grad', model, '--image', c.images[0]!, '--wrt', 'input', '--out', '']);
    assert.equal(grad.code, 2, grad.stderr);
    assert.match(grad.stderr, /error\[bad-argument\]: --out is empty/);
    const compile = await runIn(cwd, ['compile', model, '--method', 'gradcam', '-o', '']);
    assert.equal(compile.code, 2, compile.stderr);
    assert.match(compile.stderr, /error\[bad-argument\]: -o\/--output is empty/);
    assert.deepEqual(await readdir(cwd), []);
  });

  for (const [what, out] of [
    ['an existing file', (root: string) => join(root, 'images', 'a.png')],
    ['a folder under a file', (root: string) => join(root, 'images', 'a.png', 'out')],
    ['/dev/null', () => '/dev/null'],
    ['a read-only location (sysfs)', () => '/sys/kernel/gradsight-out'],
  ] as const) {
    test(`explain, grad and compile into ${what}`, async () => {
      const c = await caseDir(['a.png']);
      const before = await listing(c.root);
      const o = out(c.root);
      const runs = [
        await explain(o, c.images),
        await runCli(['grad', model, '--image', c.images[0]!, '--wrt', 'input', '--out', o]),
        await runCli(['compile', model, '--method', 'gradcam', '-o', join(o, 'x.onnx')]),
      ];
      for (const r of runs) {
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /error\[output-unwritable\]: cannot write /, r.stderr);
        assert.ok(r.stderr.includes(o), r.stderr);
        assert.doesNotMatch(r.stderr, /internal error|file-unreadable/);
      }
      assert.deepEqual(await listing(c.root), before);
    });
  }
});

describe('a rerun into the same --out replaces the previous run', () => {
  test('files only the previous run wrote are removed; files nobody listed stay', async () => {
    const c = await caseDir(['a.png', 'b.png']);
    const first = await explain(c.out, c.images, ['--save-raw']);
    assert.equal(first.code, 0, first.stderr);
    await writeFile(join(c.out, 'notes.txt'), 'mine');
    await writeFile(join(c.out, 'b', 'mine.txt'), 'mine');
    const second = await explain(c.out, [c.images[0]!], ['--no-report']);
    assert.equal(second.code, 0, second.stderr);
    const res = JSON.parse(await readFile(join(c.out, 'results.json'), 'utf8')) as Results;
    const named = res.images.flatMap((im) => im.explanations.flatMap((e) => Object.values(e.files)));
    assert.equal(named.length, 2 * 2, 'image a only: 2 targets × (overlay + heatmap), no .npy, no report');
    assert.deepEqual([...res.files].sort(), [...named].sort());
    assert.deepEqual(await listing(c.out), [
      'a/',
      ...[...res.files].sort(),
      'b/',
      'b/mine.txt',
      'notes.txt',
      'results.json',
    ]);
  });
});

describe('interrupts', () => {
  /**
   * Starts explain over `count` copies of the image into `out`, sends `signal` `delayMs` after its
   * journal appears (it has started writing), and resolves with the exit code.
   */
  async function interrupted(
    out: string,
    images: readonly string[],
    signal: NodeJS.Signals,
    delayMs: number,
  ) {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(repoRoot, 'src/cli/main.ts'),
        'explain',
        model,
        ...images,
        '-o',
        out,
        '-q',
        '--batch',
        '4',
      ],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let finished = false;
    const exited = new Promise<number | null>((ok) =>
      child.on('close', (code) => {
        finished = true;
        ok(code);
      }),
    );
    const journal = join(out, `.gradsight-written.${child.pid}.log`);
    const started = Date.now();
    // Started writing: its journal exists, or (without one) a folder the previous run did not make.
    const baseline = new Set(existsSync(out) ? await readdir(out) : []);
    const writing = async () =>
      existsSync(journal) || (existsSync(out) && (await readdir(out)).some((f) => !baseline.has(f)));
    while (!finished && !(await writing()) && Date.now() - started < 20_000)
      await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, delayMs));
    const finishedEarly = finished;
    child.kill(signal);
    return { code: await exited, stderr, finishedEarly };
  }

  test('SIGINT/SIGTERM mid-run: exit 130/143, the previous results.json and its files intact, no temp or stray files', async () => {
    const c = await caseDir(Array.from({ length: 300 }, (_, i) => `p${i}.png`));
    const first = await explain(c.out, c.images.slice(0, 3));
    assert.equal(first.code, 0, first.stderr);
    const previous = await readFile(join(c.out, 'results.json'), 'utf8');
    const previousListing = await listing(c.out);
    for (const [signal, delayMs, code] of [
      ['SIGINT', 0, 130],
      ['SIGINT', 30, 130],
      ['SIGINT', 80, 130],
      ['SIGINT', 150, 130],
      ['SIGTERM', 50, 143],
    ] as const) {
      const r = await interrupted(c.out, c.images, signal, delayMs);
      assert.equal(r.finishedEarly, false, `the run ended before ${signal} at ${delayMs} ms`);
      assert.equal(r.code, code, `${signal} at ${delayMs} ms: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`interrupted \\(${signal}\\)`));
      assert.equal(
        await readFile(join(c.out, 'results.json'), 'utf8'),
        previous,
        `${signal} at ${delayMs} ms`,
      );
      // The first run's files are all there; nothing else is (no temps, no journal, no folder of the rerun).
      assert.deepEqual(await listing(c.out), previousListing, `${signal} at ${delayMs} ms`);
    }
  });

  test('Ctrl-C during the progress bar on a terminal: cursor shown and line wrap back on, exit 130', {
    skip: existsSync('/usr/bin/script') ? false : 'needs script(1) for a pseudo-terminal',
  }, async () => {
    const c = await caseDir(Array.from({ length: 300 }, (_, i) => `p${i}.png`));
    // script(1) gives the CLI a terminal; the shell sends SIGINT once the run has started writing.
    const cli = [
      'node',
      '--import',
      'tsx',
      'src/cli/main.ts',
      'explain',
      model,
      ...c.images,
      '-o',
      c.out,
      '--batch',
      '4',
    ];
    const shell = `${cli.map((a) => `'${a}'`).join(' ')} & pid=$!; n=0; while [ ! -e '${c.out}'/.gradsight-written.$pid.log ] && [ $n -lt 100 ]; do sleep 0.02; n=$((n+1)); done; sleep 0.1; kill -INT $pid; wait $pid; echo EXIT=$?`;
    const child = spawn('script', ['-qec', shell, '/dev/null'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tty = '';
    child.stdout.on('data', (d: Buffer) => {
      tty += d.toString();
    });
    await new Promise((ok) => child.on('close', ok));
    assert.match(tty, /EXIT=130/, tty.slice(-400));
    assert.ok(tty.includes('\x1b[?25l'), 'the bar was shown (cursor hidden)');
    assert.ok(tty.lastIndexOf('\x1b[?25h') > tty.lastIndexOf('\x1b[?25l'), 'cursor shown again');
    assert.ok(tty.lastIndexOf('\x1b[?7h') > tty.lastIndexOf('\x1b[?7l'), 'line wrap back on');
    assert.deepEqual(await listing(c.out), []);
  });

  test('an interrupted first run leaves no results.json and no files', async () => {
    const c = await caseDir(Array.from({ length: 300 }, (_, i) => `p${i}.png`));
    const r = await interrupted(c.out, c.images, 'SIGINT', 40);
    assert.equal(r.code, 130, r.stderr);
    assert.deepEqual(await listing(c.out), []);
  });
});
