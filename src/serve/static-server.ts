// A small static server for the browser app (gradsight serve): the built app and the files named on
// the command line, on 127.0.0.1 only. What it serves is a fixed table of URL paths → files made when
// it starts; a request is looked up in that table after decoding and is never joined onto a folder,
// so no path (../, %2e%2e, absolute, symlinks) reaches anything else. Cross-origin isolation headers
// (COOP/COEP) let onnxruntime-web use wasm threads (SharedArrayBuffer).

import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join } from 'node:path';
import { GradsightError } from '../errors.ts';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.bmp': 'image/bmp',
  '.svg': 'image/svg+xml',
};

/**
 * The app's policy (as in its index.html meta tag), also sent as a header: a worker gets its policy
 * from its own script's response, not from the page's meta tag.
 */
export const APP_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; connect-src 'self' blob: data:; img-src 'self' blob: data:; style-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

/** Headers on every response: isolation for wasm threads, the app's CSP, no sniffing, no caching. */
const HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': APP_CSP,
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

export interface ServedFiles {
  /** URL path (starting with '/') → absolute file path. */
  readonly routes: ReadonlyMap<string, string>;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Every regular file under `dir` (symlinks followed only when they stay inside it), as URL paths under `prefix`. */
export async function folderRoutes(
  dir: string,
  prefix: string,
  maxFiles = 10_000,
): Promise<Map<string, string>> {
  const root = await realpath(dir);
  const out = new Map<string, string>();
  const walk = async (d: string, url: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      const real = await realpath(full).catch(() => undefined);
      if (!real || (real !== root && !real.startsWith(`${root}/`))) continue;
      const s = await stat(real);
      const u = `${url}/${encodeURIComponent(entry.name)}`;
      if (s.isDirectory()) await walk(real, u);
      else if (s.isFile()) {
        if (out.size >= maxFiles) return;
        out.set(u, real);
      }
    }
  };
  await walk(root, prefix === '/' ? '' : prefix);
  return out;
}

/**
 * The routes for a model given on the command line: a folder's files under /model/, or an .onnx file
 * with the side files Node's loader reads beside it (preprocess.json, labels.txt, external data in the
 * same folder). Returns the model's URL.
 */
export async function modelRoutes(path: string, routes: Map<string, string>): Promise<string> {
  const s = await stat(path).catch(() => undefined);
  if (!s) {
    throw new GradsightError('model-not-found', `no model at ${path}`, {
      hint: 'give an .onnx file, or a folder holding model.onnx (with labels.txt and preprocess.json)',
    });
  }
  if (s.isDirectory()) {
    const files = await folderRoutes(path, '/model');
    if (!files.has('/model/model.onnx')) {
      throw new GradsightError('model-not-found', `the folder ${path} holds no model.onnx`, {
        hint: 'give the .onnx file itself, or a folder with model.onnx in it',
      });
    }
    for (const [u, f] of files) routes.set(u, f);
    return '/model/model.onnx';
  }
  if (!path.toLowerCase().endsWith('.onnx')) {
    throw new GradsightError('not-onnx', `${path} is not an .onnx file`, {
      hint: 'the model comes first (an .onnx file, or a folder holding model.onnx): gradsight serve model.onnx photo.jpg',
    });
  }
  // A single file: it and the files beside it that a model folder holds (the app asks for them by name).
  const dir = dirname(await realpath(path));
  for (const [u, f] of await folderRoutes(dir, '/model')) {
    const name = basename(f);
    if (
      f === (await realpath(path)) ||
      /^(preprocess\.json|labels\.txt)$/.test(name) ||
      extname(name) === '.data'
    ) {
      routes.set(u, f);
    }
  }
  return `/model/${encodeURIComponent(basename(path))}`;
}

/** Serves `routes` on 127.0.0.1 (port 0: a free one) until close(). */
export async function startStaticServer(files: ServedFiles, port = 0): Promise<RunningServer> {
  const server: Server = createServer((req, res) => {
    const send = (status: number, text: string) => {
      res.writeHead(status, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`${text}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'only GET and HEAD');
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    } catch {
      return send(400, 'bad request');
    }
    const file = files.routes.get(path === '/' ? '/index.html' : normalizeEncoding(path));
    if (!file) return send(404, 'not found');
    stat(file).then(
      (s) => {
        res.writeHead(200, {
          ...HEADERS,
          'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
          'Content-Length': String(s.size),
        });
        if (req.method === 'HEAD') return res.end();
        createReadStream(file)
          .on('error', () => res.destroy())
          .pipe(res);
      },
      () => send(404, 'not found'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The table's keys are encodeURIComponent per segment; a request may encode differently (%20 vs space). */
function normalizeEncoding(path: string): string {
  try {
    return path
      .split('/')
      .map((s) => encodeURIComponent(decodeURIComponent(s)))
      .join('/');
  } catch {
    return path;
  }
}
