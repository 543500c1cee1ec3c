// gradsight serve: the static server serves exactly the app's files and the files it was given, with
// cross-origin isolation headers, on 127.0.0.1; no request path (../, encoded, absolute, symlinked)
// reaches anything else. The command prints a URL that loads the model and images, and Ctrl-C stops it.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { APP_CSP, folderRoutes, modelRoutes, startStaticServer } from '../../src/serve/static-server.ts';
import { serve } from '../app/serve-helpers.ts';
import { repoRoot } from '../helpers/shared.ts';
import { tinyCnn } from '../helpers/tiny-models.ts';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gradsight-serve-'));
  await mkdir(join(dir, 'app', 'ort'), { recursive: true });
  await writeFile(join(dir, 'app', 'index.html'), '<!doctype html><title>app</title>');
  await writeFile(join(dir, 'app', 'ort', 'x.wasm'), Buffer.from([0, 97, 115, 109]));
  await writeFile(join(dir, 'secret.txt'), 'do not serve');
  await symlink(join(dir, 'secret.txt'), join(dir, 'app', 'link.txt'));
  await mkdir(join(dir, 'm'));
  await writeFile(join(dir, 'm', 'net.onnx'), tinyCnn());
  await writeFile(join(dir, 'm', 'labels.txt'), 'a\nb\nc\n');
  await writeFile(join(dir, 'm', 'notes.txt'), 'private notes beside the model');
  await writeFile(join(dir, 'photo.png'), 'not really a png');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A GET with the path sent as written (fetch would normalise ../). */
function get(port: number, path: string, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
}

test('serves the app and the given files with isolation headers, and nothing else', async () => {
  const routes = await folderRoutes(join(dir, 'app'), '/');
  const modelUrl = await modelRoutes(join(dir, 'm', 'net.onnx'), routes);
  assert.equal(modelUrl, '/model/net.onnx');
  routes.set('/images/0/photo.png', join(dir, 'photo.png'));
  const server = await startStaticServer({ routes });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const index = await get(server.port, '/');
    assert.equal(index.status, 200);
    assert.equal(index.body.toString(), '<!doctype html><title>app</title>');
    assert.equal(index.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(index.headers['cross-origin-embedder-policy'], 'require-corp');
    assert.match(String(index.headers['content-security-policy']), /^default-src 'self';/);
    // The header and the page's meta tag say the same.
    const html = await readFile(join(repoRoot, 'app', 'index.html'), 'utf8');
    assert.ok(html.includes(`content="${APP_CSP}"`), 'app/index.html has the same CSP');
    assert.match(String(index.headers['content-type']), /^text\/html/);
    const wasm = await get(server.port, '/ort/x.wasm');
    assert.equal(wasm.headers['content-type'], 'application/wasm');
    assert.deepEqual([...wasm.body], [0, 97, 115, 109]);
    assert.deepEqual((await get(server.port, modelUrl)).body, Buffer.from(tinyCnn()));
    assert.equal((await get(server.port, '/model/labels.txt')).body.toString(), 'a\nb\nc\n');
    assert.equal((await get(server.port, '/images/0/photo.png')).status, 200);
    const head = await get(server.port, '/index.html', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal((await get(server.port, '/index.html', 'POST')).status, 405);
    // Not given: the model's other neighbours, files outside, a symlink out of the app folder.
    for (const path of [
      '/model/notes.txt',
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/ort/..%2f..%2fsecret.txt',
      '/model/..%2F..%2Fsecret.txt',
      '/images/0/../../secret.txt',
      `/${join(dir, 'secret.txt')}`,
      `//${join(dir, 'secret.txt')}`,
      '/link.txt',
      '/ort',
      '/%',
    ]) {
      const r = await get(server.port, path);
      assert.equal(r.status, 404, `${path} → ${r.status}`);
      assert.doesNotMatch(r.body.toString(), /do not serve|private notes/, path);
    }
  } finally {
    await server.close();
  }
});

test('a model folder serves its files; a missing model or non-ONNX file is a typed error', async () => {
  const routes = new Map<string, string>();
  assert.equal(await modelRoutes(join(dir, 'm'), routes).catch((e) => e.code), 'model-not-found');
  await writeFile(join(dir, 'm', 'model.onnx'), tinyCnn());
  assert.equal(await modelRoutes(join(dir, 'm'), routes), '/model/model.onnx');
  assert.ok(routes.has('/model/labels.txt'));
  assert.equal(await modelRoutes(join(dir, 'nope.onnx'), new Map()).catch((e) => e.code), 'model-not-found');
  assert.equal(await modelRoutes(join(dir, 'photo.png'), new Map()).catch((e) => e.code), 'not-onnx');
  await rm(join(dir, 'm', 'model.onnx'));
});

test('gradsight serve prints a URL that loads the model and images, and stops on Ctrl-C', async () => {
  const s = await serve([
    '--app',
    join(dir, 'app'),
    join(dir, 'm', 'net.onnx'),
    join(dir, 'photo.png'),
    '-m',
    'gradcam++',
  ]);
  try {
    const url = new URL(s.url);
    assert.equal(url.hostname, '127.0.0.1');
    assert.equal(url.searchParams.get('model'), '/model/net.onnx');
    assert.deepEqual(url.searchParams.getAll('image'), ['/images/0/photo.png']);
    assert.equal(url.searchParams.get('method'), 'gradcam++');
    const port = Number(url.port);
    assert.deepEqual((await get(port, '/model/net.onnx')).body, await readFile(join(dir, 'm', 'net.onnx')));
    assert.equal((await get(port, '/images/0/photo.png')).body.toString(), 'not really a png');
    assert.equal((await get(port, '/model/notes.txt')).status, 404);
  } finally {
    assert.equal(await s.stop(), 130, s.output());
  }
  assert.match(s.output(), /interrupted \(SIGINT\): server stopped/);
});

test('serve refuses an image given as the model, and an app folder that is not built', async () => {
  const err: string[] = [];
  // Colour codes off (picocolors colours error lines when CI is set): the text is what is checked.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes
  const io = { out: () => {}, err: (t: string) => err.push(t.replace(/\x1b\[[0-9;]*m/g, '')) };
  assert.equal(
    await main(['node', 'gradsight', 'serve', '--app', join(dir, 'app'), '--', join(dir, 'photo.png')], io),
    1,
  );
  assert.match(
    err.join(''),
    /error\[not-onnx\]: .*photo\.png is not an \.onnx file\n.*the model comes first/,
  );
  err.length = 0;
  assert.equal(await main(['node', 'gradsight', 'serve', '--app', join(dir, 'm')], io), 1);
  assert.match(err.join(''), /error\[file-not-found\]: the browser app is not built/);
  assert.match(err.join(''), /npm run build:app/);
});
