// The browser entry bundles for the browser: no Node built-in, no onnxruntime-node, no sharp, no file
// system anywhere in its import graph (esbuild's metafile lists every input), and onnxruntime-web comes
// as a separate chunk loaded on demand. (`npm run typecheck` also checks it without Node's types.)

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from 'esbuild';
import { repoRoot } from '../helpers/shared.ts';

test('src/browser.ts bundles for the browser with nothing from Node', async () => {
  const r = await build({
    entryPoints: [`${repoRoot}/src/browser.ts`],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    splitting: true,
    outdir: '/nonexistent',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  assert.deepEqual(r.errors, []);
  const inputs = Object.keys(r.metafile.inputs);
  const nodeOnly = inputs.filter(
    (p) => p.startsWith('node:') || /onnxruntime-node|\/sharp\/|-node\.ts$|\/cli\//.test(p),
  );
  assert.deepEqual(nodeOnly, [], 'Node-only modules in the browser bundle');
  assert.ok(
    inputs.some((p) => p.includes('src/explain/explainer.ts')),
    'the explainer is in the bundle',
  );
  // onnxruntime-web is not in the entry chunk: it loads when a web runtime is first made.
  const entry = Object.entries(r.metafile.outputs).find(([, o]) => o.entryPoint?.endsWith('src/browser.ts'))!;
  assert.ok(
    !Object.keys(entry[1].inputs).some((p) => p.includes('onnxruntime-web')),
    'onnxruntime-web in the entry chunk',
  );
  assert.ok(
    Object.values(r.metafile.outputs).some((o) =>
      Object.keys(o.inputs).some((p) => p.includes('onnxruntime-web')),
    ),
    'no onnxruntime-web chunk',
  );
});
